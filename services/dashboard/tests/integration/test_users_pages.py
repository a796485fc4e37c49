"""A merchant's users: a colleague added by a signed-in user signs in to the same merchant; a
password change needs the current one and ends every other sign-in."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from tillkey.dashboard.adapters import tables

from .conftest import PASSWORD, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def owner(app, api):
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


def test_a_colleague_added_by_the_owner_signs_in_to_the_same_merchant(app, owner, database_url):
    resp = owner.post("/users", data={"csrf_token": csrf_token(owner, "/users"), "email": "Helper@Shop.example",
                                      "password": "helpers own password"})
    assert resp.status_code == 303
    helper = app.test_client()
    assert sign_in(helper, email="helper@shop.example", password="helpers own password").status_code == 303
    with create_engine(database_url).connect() as conn:
        merchants = dict(conn.execute(select(tables.users.c.email, tables.users.c.merchant_id)).all())
    assert merchants == {"owner@shop.example": "mer_Shop1", "helper@shop.example": "mer_Shop1"}
    assert "helper@shop.example" in owner.get("/users").get_data(as_text=True)


@pytest.mark.parametrize("fields, status", [({"email": "owner@shop.example", "password": "long enough pass"}, 409),
                                            ({"email": "not-an-email", "password": "long enough pass"}, 422),
                                            ({"email": "new@shop.example", "password": "short"}, 422)])
def test_a_colleague_that_cannot_be_added_is_answered_on_the_page(owner, database_url, fields, status):
    resp = owner.post("/users", data={"csrf_token": csrf_token(owner, "/users"), **fields})
    assert resp.status_code == status
    with create_engine(database_url).connect() as conn:
        assert len(conn.execute(select(tables.users.c.email)).all()) == 1


def test_a_password_change_needs_the_current_one_and_ends_the_other_sign_ins(app, owner):
    phone = app.test_client()
    sign_in(phone)
    token = csrf_token(owner, "/users")
    wrong = owner.post("/users/password", data={"csrf_token": token, "current_password": "guess guess guess",
                                                "new_password": "a brand new password"})
    assert wrong.status_code == 422 and phone.get("/orders").status_code == 200
    done = owner.post("/users/password", data={"csrf_token": token, "current_password": PASSWORD,
                                               "new_password": "a brand new password"})
    assert done.status_code == 303
    assert owner.get("/orders").status_code == 200          # this sign-in stays
    assert phone.get("/orders").status_code == 302          # the other one ended
    assert sign_in(app.test_client()).status_code == 401    # the old password no longer opens
    assert sign_in(app.test_client(), password="a brand new password").status_code == 303
