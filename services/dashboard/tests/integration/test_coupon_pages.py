"""The coupons page: a wrong form is answered on the page with each field's message, nothing sent."""
from __future__ import annotations

import pytest

from .conftest import create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


def test_a_wrong_coupon_form_names_its_fields_and_sends_nothing(app, api):
    api.answers[("orders", "GET", "/v1/coupons")] = {"data": [], "next_cursor": None}
    api.answers[("orders", "GET", "/v1/products")] = {"data": [{"product_id": "prod_1", "name": "Pro"}]}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    resp = client.post("/coupons", data={"csrf_token": csrf_token(client, "/coupons"), "code": "-x", "kind": "percent",
                                         "percent": "120", "product_id": "prod_1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="e-code"' in html and 'id="e-percent"' in html
    assert '<option value="prod_1" selected>' in html
    assert [c for c in api.calls if c[1] != "GET"] == []
