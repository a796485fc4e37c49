"""Merchant sign-in on the real database: sessions as rows, CSRF on every form, limits, hashes."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from tillkey.dashboard.adapters import tables
from tillkey.platform.clock import FixedClock

from .conftest import PASSWORD, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


def count(database_url, table) -> int:
    with create_engine(database_url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_sign_in_sets_a_signed_httponly_samesite_cookie_and_opens_the_pages(app, api):
    client = app.test_client()
    create_user(client)
    assert client.get("/orders").status_code == 302                     # signed out: to the sign-in page
    resp = sign_in(client)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and cookie.startswith("tillkey_dashboard=")
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    page = client.get("/orders")
    assert page.status_code == 200 and "owner@shop.example" in page.get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer_and_no_session(app, database_url):
    client = app.test_client()
    create_user(client)
    wrong = sign_in(client, password="not the password at all")
    unknown = sign_in(client, email="nobody@shop.example")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True) and "do not match" in unknown.get_data(as_text=True)
    assert count(database_url, tables.sessions) == 0


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app, database_url):
    client = app.test_client()
    create_user(client)
    resp = client.post("/login", data={"email": "owner@shop.example", "password": PASSWORD})
    assert resp.status_code == 400 and "form expired" in resp.get_data(as_text=True)
    assert count(database_url, tables.sessions) == 0
    sign_in(client)
    # Signed in, a forged sign-out (no token, or another browser's token) does not sign out.
    other = app.test_client()
    forged = client.post("/logout", data={"csrf_token": csrf_token(other)})
    assert forged.status_code == 400
    assert count(database_url, tables.sessions) == 1


def test_sign_out_ends_this_session_and_sign_out_everywhere_ends_all(app, api, database_url):
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    create_user(laptop)
    for client in (laptop, phone, tablet):
        sign_in(client)
    assert count(database_url, tables.sessions) == 3
    assert tablet.post("/logout", data={"csrf_token": csrf_token(tablet, "/orders")}).status_code == 303
    assert tablet.get("/orders").status_code == 302
    assert count(database_url, tables.sessions) == 2
    resp = laptop.post("/logout-everywhere", data={"csrf_token": csrf_token(laptop, "/orders")})
    assert resp.status_code == 303
    assert count(database_url, tables.sessions) == 0
    assert phone.get("/orders").status_code == 302 and laptop.get("/orders").status_code == 302


def test_failed_sign_ins_are_limited_per_email_and_then_even_the_right_password_waits(make_app, database_url):
    app = make_app(logins_per_email="3/hour")
    client = app.test_client()
    create_user(client)
    for _ in range(3):
        assert sign_in(client, password="guessing wrongly 123").status_code == 401
    limited = sign_in(client)
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert count(database_url, tables.sessions) == 0
    assert sign_in(app.test_client(), email="other@shop.example").status_code == 401   # another email is answered


def test_passwords_are_stored_as_argon2_hashes_and_never_logged_and_the_key_is_sealed(app, database_url, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    key = create_user(client)
    sign_in(client)
    sign_in(app.test_client(), password="a wrong password guess")
    with create_engine(database_url).connect() as conn:
        stored = conn.execute(select(tables.users.c.password_hash)).scalar_one()
        sealed = conn.execute(select(tables.merchants.c.sealed_api_key)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert key not in sealed and key.split(".")[1] not in sealed
    assert PASSWORD not in caplog.text and "a wrong password guess" not in caplog.text


def test_the_admin_api_needs_the_admin_token_a_real_key_and_a_new_email(app, database_url):
    client = app.test_client()
    key = create_user(client)
    body = {"api_key": key, "email": "second@shop.example", "password": PASSWORD}
    assert client.post("/admin/v1/merchant-users", json=body).status_code == 401
    admin = {"Authorization": "Bearer test-admin-token"}
    forged = client.post("/admin/v1/merchant-users", headers=admin, json={**body, "api_key": key[:-4] + "AAAA"})
    assert forged.status_code == 422 and "api_key" in forged.json["errors"]
    short = client.post("/admin/v1/merchant-users", headers=admin, json={**body, "password": "short"})
    assert short.status_code == 422 and "password" in short.json["errors"]
    again = client.post("/admin/v1/merchant-users", headers=admin, json={**body, "email": "OWNER@shop.example"})
    assert again.status_code == 409
    assert client.post("/admin/v1/merchant-users", headers=admin, data="[]").status_code == 422
    assert count(database_url, tables.users) == 1


@pytest.mark.parametrize("target, landing", [("//evil.example/phish", "/"), ("/\\evil.example", "/"),
                                             ("https://evil.example/", "/"), ("/\tevil", "/"),
                                             ("/products?cursor=x", "/products?cursor=x")])
def test_next_after_sign_in_stays_on_our_own_pages(app, target, landing):
    client = app.test_client()
    create_user(client)
    token = csrf_token(client)
    resp = client.post("/login", data={"email": "owner@shop.example", "password": PASSWORD, "csrf_token": token,
                                       "next": target})
    assert resp.headers["Location"] == landing


def test_a_session_past_its_lifetime_signs_out_and_a_sign_in_clears_expired_rows(make_app, api, database_url):
    app = make_app(session_lifetime=3600.0)
    clock = app.extensions["tillkey.dashboard"].clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    old, new = app.test_client(), app.test_client()
    create_user(old)
    sign_in(old)
    assert old.get("/orders").status_code == 200
    clock.advance(hours=1)
    sign_in(new)
    assert count(database_url, tables.sessions) == 1            # the expired one went with the new sign-in
    assert old.get("/orders").status_code == 302
    clock.advance(minutes=59)
    assert new.get("/orders").status_code == 200
