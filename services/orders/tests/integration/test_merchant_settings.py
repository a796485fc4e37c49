"""`GET`/`PATCH /v1/merchants/me`: the merchant's own settings, and the consents' links they feed."""
from __future__ import annotations

import pytest

from tillkey.contracts import parse_message

pytestmark = pytest.mark.integration
TERMS, PRIVACY = "https://acme.example/terms", "https://acme.example/privacy"


def test_the_settings_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert {"get", "patch"} <= set(paths["/v1/merchants/me"])


def test_a_merchant_sees_its_settings(client, merchant):
    merchant_id, headers = merchant
    resp = client.get("/v1/merchants/me", headers=headers)
    assert resp.status_code == 200
    assert resp.json["merchant_id"] == merchant_id and resp.json["terms_url"] is None
    assert resp.json["privacy_url"] is None and resp.json["name"]


def test_links_are_set_shown_and_removed(client, merchant, db):
    _, headers = merchant
    resp = client.patch("/v1/merchants/me", json={"terms_url": TERMS, "privacy_url": PRIVACY}, headers=headers)
    assert resp.status_code == 200 and (resp.json["terms_url"], resp.json["privacy_url"]) == (TERMS, PRIVACY)
    assert client.get("/v1/merchants/me", headers=headers).json["terms_url"] == TERMS
    assert len(db.outbox("merchant.registered")) == 1   # links are ours alone: nothing to tell the others
    resp = client.patch("/v1/merchants/me", json={"terms_url": None}, headers=headers)
    assert resp.json["terms_url"] is None and resp.json["privacy_url"] == PRIVACY


def test_a_new_name_reaches_the_other_services(client, merchant, db):
    merchant_id, headers = merchant
    resp = client.patch("/v1/merchants/me", json={"name": "Acme Tools"}, headers=headers)
    assert resp.status_code == 200 and resp.json["name"] == "Acme Tools"
    renamed = parse_message(db.outbox("merchant.registered")[-1]).data
    assert (renamed["merchant_id"], renamed["name"]) == (merchant_id, "Acme Tools")


@pytest.mark.parametrize(("body", "field"), [
    ({"terms_url": "http://acme.example/terms"}, "terms_url"),        # https only
    ({"privacy_url": "javascript:alert(1)"}, "privacy_url"),
    ({"privacy_url": "https://"}, "privacy_url"),
    ({"terms_url": "https://acme.example/" + "a" * 2100}, "terms_url"),
    ({"terms_url": 42}, "terms_url"),
    ({"name": "  "}, "name"),
    ({"email": "new@acme.example"}, "email"),                         # not a setting one changes here
])
def test_bad_settings_are_a_422_naming_the_field_and_change_nothing(client, merchant, body, field):
    _, headers = merchant
    resp = client.patch("/v1/merchants/me", json=body, headers=headers)
    assert resp.status_code == 422 and field in resp.json["errors"], resp.json
    assert client.get("/v1/merchants/me", headers=headers).json["terms_url"] is None


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_settings_need_the_merchants_key(client, headers, admin):
    assert client.get("/v1/merchants/me", headers=headers).status_code == 401
    assert client.patch("/v1/merchants/me", json={"terms_url": TERMS}, headers=headers).status_code == 401
    assert client.get("/v1/merchants/me", headers=admin).status_code in (401, 403)


def test_the_checkout_page_links_the_consents_to_the_merchants_pages(client, merchant, make_product):
    _, headers = merchant
    client.patch("/v1/merchants/me", json={"terms_url": TERMS, "privacy_url": PRIVACY}, headers=headers)
    product = make_product()["product_id"]
    page = client.get(client.get(f"/buy/{product}").headers["Location"])
    html = page.get_data(as_text=True)
    assert f'href="{TERMS}" target="_blank" rel="noopener noreferrer"' in html
    assert f'href="{PRIVACY}" target="_blank" rel="noopener noreferrer"' in html


def test_without_links_the_consents_are_plain_text(client, make_product):
    page = client.get(client.get(f"/buy/{make_product()['product_id']}").headers["Location"])
    html = page.get_data(as_text=True)
    assert "I accept the terms of sale of" in html and 'target="_blank"' not in html
