"""Inviting a colleague: the inviter gets a one-time link that expires; the colleague opens it,
chooses a password and is signed in to the same merchant; a used, withdrawn, expired or made-up
link is a 404; nothing changes on a refusal (docs/dashboard.md, "Invitations")."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from tillkey.dashboard.adapters import tables
from tillkey.platform.clock import FixedClock

from .conftest import PASSWORD, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration


def count(database_url, table) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return found


@pytest.fixture
def clock(app):
    clock = app.extensions["tillkey.dashboard"].clock = FixedClock(datetime(2026, 5, 4, 9, tzinfo=UTC))
    return clock


@pytest.fixture
def owner(app, api, clock):
    api.answers[("orders", "GET", "/v1/orders")] = {"data": [], "next_cursor": None}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


def invite(owner, email="new@shop.example") -> str:
    resp = owner.post("/users/invitations", data={"csrf_token": csrf_token(owner, "/users"), "email": email})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return re.search(r'id="invitation-link" value="http://localhost(/invitations/[^"]+)"',
                     resp.get_data(as_text=True)).group(1)


def test_the_link_works_once_signs_the_colleague_in_to_the_same_merchant(app, owner, database_url):
    link = invite(owner, "New@Shop.example")
    listed = owner.get("/users").get_data(as_text=True)
    assert "new@shop.example" in listed and link not in listed          # the link is shown once only
    colleague = app.test_client()
    page = colleague.get(link)
    assert page.status_code == 200 and 'id="invited-email">new@shop.example<' in page.get_data(as_text=True)
    short = colleague.post(link, data={"csrf_token": csrf_token(colleague, link), "password": "short"})
    assert short.status_code == 422 and 'id="e-password"' in short.get_data(as_text=True)
    assert count(database_url, tables.users) == 1
    done = colleague.post(link, data={"csrf_token": csrf_token(colleague, link), "password": "the colleague's own"})
    assert done.status_code == 303
    assert re.search(r'id="signed-in-as"[^>]*>new@shop.example<', colleague.get("/users").get_data(as_text=True))
    assert "owner@shop.example" in colleague.get("/users").get_data(as_text=True)  # same merchant
    assert colleague.get(link).status_code == 404                                   # used up
    assert app.test_client().post(link, data={"password": PASSWORD}).status_code == 400
    assert count(database_url, tables.users) == 2 and count(database_url, tables.invitations) == 0


def test_an_expired_withdrawn_replaced_or_made_up_link_is_a_404_and_makes_no_user(app, owner, clock, database_url):
    expired = invite(owner, "late@shop.example")
    clock.advance(days=3)
    assert app.test_client().get(expired).status_code == 404
    sign_in(owner)                                   # three days on: the owner's sign-in ended too
    withdrawn = invite(owner, "gone@shop.example")
    invitation_id = re.search(r'data-invitation-id="([^"]+)"', owner.get("/users").get_data(as_text=True)).group(1)
    resp = owner.post(f"/users/invitations/{invitation_id}/withdraw", data={"csrf_token": csrf_token(owner, "/users")})
    assert resp.status_code == 303
    assert app.test_client().get(withdrawn).status_code == 404
    first = invite(owner, "twice@shop.example")
    second = invite(owner, "twice@shop.example")
    assert app.test_client().get(first).status_code == 404 and app.test_client().get(second).status_code == 200
    assert app.test_client().get("/invitations/made-up-token").status_code == 404
    assert count(database_url, tables.users) == 1


def test_an_existing_user_a_bad_email_and_another_merchants_invitation_are_refused(app, owner, database_url):
    token = csrf_token(owner, "/users")
    taken = owner.post("/users/invitations", data={"csrf_token": token, "email": "owner@shop.example"})
    assert taken.status_code == 409 and 'id="e-invite-email"' in taken.get_data(as_text=True)
    bad = owner.post("/users/invitations", data={"csrf_token": token, "email": "not an email"})
    assert bad.status_code == 422
    assert owner.post("/users/invitations", data={"email": "x@shop.example"}).status_code == 400
    assert count(database_url, tables.invitations) == 0
    other = app.test_client()
    create_user(other, email="boss@other.example", merchant_id="mer_Other1")
    sign_in(other, "boss@other.example")
    invite(other, "theirs@other.example")
    theirs = re.search(r'data-invitation-id="([^"]+)"', other.get("/users").get_data(as_text=True)).group(1)
    assert theirs not in owner.get("/users").get_data(as_text=True)
    assert owner.post(f"/users/invitations/{theirs}/withdraw", data={"csrf_token": token}).status_code == 404
    assert count(database_url, tables.invitations) == 1


def test_only_the_links_hash_is_kept(app, owner, database_url):
    link = invite(owner)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        kept = conn.execute(select(tables.invitations.c.token_hash)).scalar_one()
    engine.dispose()
    assert link.rsplit("/", 1)[1] not in kept and len(kept) == 64
