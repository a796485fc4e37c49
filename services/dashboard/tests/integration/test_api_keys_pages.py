"""Developers → API keys: create (the key shown on the answer only), list by prefix, revoke after a
confirm page; revoking the dashboard's own key switches it to a new one first; forms without their
CSRF token are refused; another merchant's key is a 404 (the orders API decides; played by the fake)."""
from __future__ import annotations

import pytest

from tillkey.platform.credentials import api_key_id, api_key_prefix, make_api_key

from .conftest import SECRET, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration

PAGE = "/developers/api-keys"


class Registry:
    """The orders API's key registry, as far as these pages need it: keys of mer_Shop1 by id."""

    def __init__(self, api, kept_key):
        self.keys = {api_key_id(kept_key): self._listing(kept_key, "default")}
        self.api = api
        api.answers[("orders", "GET", "/v1/api-keys")] = lambda _body: self.listing()
        api.answers[("orders", "POST", "/v1/api-keys")] = self.create
        api.answers[("orders", "POST", f"/v1/api-keys/{api_key_id(kept_key)}/revoke")] = self.revoke

    @staticmethod
    def _listing(key, name):
        return {"key_id": api_key_id(key), "name": name, "prefix": api_key_prefix(key), "status": "active",
                "created_at": "2026-01-02T10:00:00Z", "revoked_at": None, "revoked_by": None}

    def caller(self):
        return api_key_id(self.api.calls[-1][3])

    def listing(self):
        caller = self.caller()
        return {"data": [{**k, "current": k["key_id"] == caller} for k in self.keys.values()]}

    def create(self, body):
        key = make_api_key(SECRET, "mer_Shop1")
        self.keys[api_key_id(key)] = self._listing(key, body["name"])
        self.api.answers[("orders", "POST", f"/v1/api-keys/{api_key_id(key)}/revoke")] = self.revoke
        return {**self.keys[api_key_id(key)], "current": False, "api_key": key}

    def revoke(self, _body):
        key_id = self.api.calls[-1][2].split("/")[3]
        self.keys[key_id] = {**self.keys[key_id], "status": "revoked", "revoked_at": "2026-01-03T10:00:00Z"}
        return self.keys[key_id]


@pytest.fixture
def signed_in(app, api):
    client = app.test_client()
    kept = create_user(client)
    sign_in(client)
    return client, Registry(api, kept), kept


def test_a_new_key_is_shown_once_and_listed_by_prefix(signed_in, api):
    client, registry, kept = signed_in
    resp = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "name": "  CI  "})
    assert resp.status_code == 201
    html = resp.get_data(as_text=True)
    (created,) = [k for k in registry.keys if k != api_key_id(kept)]
    assert [call[5] for call in api.calls if call[1] == "POST"] == [{"name": "CI"}]
    assert 'id="api-key"' in html and created in html
    later = client.get(PAGE).get_data(as_text=True)
    assert 'id="api-key"' not in later and "CI" in later and api_key_prefix(kept) in later
    assert kept not in later and kept not in html                    # the kept key never reaches a page
    assert "used by this dashboard" in later


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused_on_the_form_and_nothing_is_called(signed_in, api, name):
    client, _, _ = signed_in
    resp = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "name": name})
    assert resp.status_code == 422 and "A name of 1 to 100 characters." in resp.get_data(as_text=True)
    assert not [c for c in api.calls if c[1] == "POST"]


def test_forms_without_their_csrf_token_are_refused(signed_in, api):
    client, registry, kept = signed_in
    assert client.post(PAGE, data={"name": "CI"}).status_code == 400
    assert client.post(f"{PAGE}/{api_key_id(kept)}/revoke", data={}).status_code == 400
    assert not [c for c in api.calls if c[1] == "POST"]
    assert registry.keys[api_key_id(kept)]["status"] == "active"


def test_revoking_a_key_asks_first_then_revokes_it(signed_in, api):
    client, registry, kept = signed_in
    client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "name": "CI"})
    (other,) = [k for k in registry.keys if k != api_key_id(kept)]
    confirm = client.get(f"{PAGE}/{other}/revoke")
    assert confirm.status_code == 200 and 'id="confirm-revoke"' in confirm.get_data(as_text=True)
    assert registry.keys[other]["status"] == "active"                  # asking changes nothing
    resp = client.post(f"{PAGE}/{other}/revoke", data={"csrf_token": csrf_token(client, PAGE)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("changed=revoked")
    assert registry.keys[other]["status"] == "revoked"
    assert api.calls[-1][3] == kept                                    # with the kept key, still kept
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "The key was revoked." in page and "used by this dashboard" in page


def test_revoking_the_dashboards_own_key_switches_to_a_new_one_first(signed_in, api):
    client, registry, kept = signed_in
    resp = client.post(f"{PAGE}/{api_key_id(kept)}/revoke", data={"csrf_token": csrf_token(client, PAGE)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("changed=switched")
    assert registry.keys[api_key_id(kept)]["status"] == "revoked"
    (new,) = [k for k in registry.keys.values() if k["status"] == "active"]
    assert new["name"] == "dashboard"
    revoke_call = api.calls[-1]
    assert api_key_id(revoke_call[3]) == new["key_id"]                 # revoked with the new key
    client.get(PAGE)
    assert api_key_id(api.calls[-1][3]) == new["key_id"]               # and the dashboard keeps it


def test_another_merchants_or_an_unknown_key_is_a_404(signed_in, api):
    client, _, _ = signed_in
    token = csrf_token(client, PAGE)
    for key_id in (api_key_id(make_api_key(SECRET, "mer_Other")), "key_00000000000000000000", "a'b"):
        assert client.get(f"{PAGE}/{key_id}/revoke").status_code == 404, key_id
        assert client.post(f"{PAGE}/{key_id}/revoke", data={"csrf_token": token}).status_code == 404, key_id
    assert not [c for c in api.calls if c[1] == "POST"]


def test_the_page_needs_a_sign_in(app):
    resp = app.test_client().get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
