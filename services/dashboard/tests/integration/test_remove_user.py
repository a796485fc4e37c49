"""Removing a user: another user of the same merchant goes with every sign-in of theirs; never
oneself, never the merchant's last user, never another merchant's (404); nothing changes otherwise."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, select

from tillkey.dashboard.adapters import tables
from tillkey.dashboard.domain.accounts import InvalidAccount
from tillkey.dashboard.service_layer.accounts import SignedIn, remove_colleague

from .conftest import PASSWORD, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


def user_ids(database_url) -> dict[str, str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = dict(conn.execute(select(tables.users.c.email, tables.users.c.user_id)).all())
    engine.dispose()
    return found


@pytest.fixture
def owner(app, api):
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    added = client.post("/users", data={"csrf_token": csrf_token(client, "/users"), "email": "helper@shop.example",
                                        "password": PASSWORD})
    assert added.status_code == 303
    return client


def test_a_colleague_removed_is_signed_out_at_once_and_cannot_sign_in(app, owner, database_url):
    helper = app.test_client()
    assert sign_in(helper, "helper@shop.example").status_code == 303
    assert helper.get("/users").status_code == 200
    helper_id = user_ids(database_url)["helper@shop.example"]
    page = owner.get("/users").get_data(as_text=True)
    assert f'id="remove-{helper_id}"' in page and len(re.findall(r'id="remove-', page)) == 1   # not oneself
    resp = owner.post(f"/users/{helper_id}/remove", data={"csrf_token": csrf_token(owner, "/users")})
    assert resp.status_code == 303
    assert "helper@shop.example was removed" in owner.get(resp.headers["Location"]).get_data(as_text=True)
    assert set(user_ids(database_url)) == {"owner@shop.example"}
    assert helper.get("/users").status_code == 302                     # its session went with it
    assert sign_in(helper, "helper@shop.example").status_code == 401


def test_oneself_another_merchants_user_and_a_form_without_its_token_change_nothing(app, owner, database_url):
    before = user_ids(database_url)
    token = csrf_token(owner, "/users")
    myself = owner.post(f"/users/{before['owner@shop.example']}/remove", data={"csrf_token": token})
    assert myself.status_code == 422 and 'id="e-user"' in myself.get_data(as_text=True)
    other = app.test_client()
    create_user(other, email="boss@other.example", merchant_id="mer_Other1")
    theirs = user_ids(database_url)["boss@other.example"]
    assert owner.post(f"/users/{theirs}/remove", data={"csrf_token": token}).status_code == 404
    assert owner.post("/users/usr_nobody/remove", data={"csrf_token": token}).status_code == 404
    assert owner.post(f"/users/{before['helper@shop.example']}/remove", data={}).status_code == 400
    assert set(user_ids(database_url)) == {*before, "boss@other.example"}


def test_the_last_user_is_never_removed_even_when_two_remove_each_other(app, owner, database_url):
    """The second of two users removing each other finds itself the last one: refused, one stays."""
    ids = user_ids(database_url)
    d = app.extensions["tillkey.dashboard"]
    owner_signed = SignedIn(ids["owner@shop.example"], "mer_Shop1", "owner@shop.example", "Shop")
    helper_signed = SignedIn(ids["helper@shop.example"], "mer_Shop1", "helper@shop.example", "Shop")
    assert remove_colleague(helper_signed, ids["owner@shop.example"], d.uow_factory()) == "owner@shop.example"
    with pytest.raises(InvalidAccount):
        remove_colleague(owner_signed, ids["helper@shop.example"], d.uow_factory())
    assert set(user_ids(database_url)) == {"helper@shop.example"}
