"""`/v1/api-keys` over the real app and database: create, list, revoke, refusals change nothing."""
import time

import pytest

from tillkey.orders.adapters import tables
from tillkey.platform.credentials import api_key_id


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def refused_within(client, headers, seconds=3.0):
    deadline = time.monotonic() + seconds
    while (resp := client.get("/v1/products", headers=headers)).status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.1)
    return resp


def test_create_list_revoke(client, db, merchant, clock):
    merchant_id, headers = merchant
    clock.advance(seconds=1)
    created = client.post("/v1/api-keys", json={"name": "CI deploys"}, headers=headers)
    assert created.status_code == 201, created.json
    key = created.json["api_key"]
    assert created.json["key_id"] == api_key_id(key) and created.json["status"] == "active"
    assert client.get("/v1/products", headers=bearer(key)).status_code == 200

    listed = client.get("/v1/api-keys", headers=headers)
    assert listed.status_code == 200
    assert [(k["name"], k["status"], k["current"]) for k in listed.json["data"]] == [
        ("CI deploys", "active", False), ("default", "active", True)]
    assert key not in listed.get_data(as_text=True)
    assert all(key.startswith(k["prefix"][:-1]) is (k["key_id"] == api_key_id(key)) for k in listed.json["data"])

    revoked = client.post(f"/v1/api-keys/{api_key_id(key)}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert (revoked.json["status"], revoked.json["revoked_by"]) == ("revoked", "merchant")
    assert db.outbox("merchant.api_key_revoked") and db.count(tables.revoked_api_keys) == 1
    resp = refused_within(client, bearer(key))
    assert (resp.status_code, resp.json["detail"]) == (401, "This API key was revoked.")
    assert client.get("/v1/products", headers=headers).status_code == 200


def test_the_last_live_key_is_not_revoked_by_itself(client, db, merchant):
    _, headers = merchant
    own = client.get("/v1/api-keys", headers=headers).json["data"][0]["key_id"]
    before = db.snapshot()
    resp = client.post(f"/v1/api-keys/{own}/revoke", headers=headers)
    assert resp.status_code == 409 and resp.json["code"] == "last_api_key"
    assert "create another key first" in resp.json["detail"]
    assert db.snapshot() == before


def test_another_merchants_key_is_not_found(client, db, merchant, other_merchant):
    other_key = client.get("/v1/api-keys", headers=other_merchant[1]).json["data"][0]["key_id"]
    before = db.snapshot()
    for key_id in (other_key, "key_0000", "x" * 300):
        resp = client.post(f"/v1/api-keys/{key_id}/revoke", headers=merchant[1])
        assert resp.status_code == 404, key_id
    assert db.snapshot() == before


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "  "}, {"name": "x" * 101}, {"name": 3},
                                  {"name": "ok", "scope": "all"}])
def test_bad_input_is_a_422_and_creates_nothing(client, db, merchant, body):
    before = db.snapshot()
    resp = client.post("/v1/api-keys", json=body, headers=merchant[1])
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert db.snapshot() == before


def test_admin_lists_and_revokes_a_merchants_last_key(client, merchant, admin):
    merchant_id, headers = merchant
    listed = client.get(f"/v1/merchants/{merchant_id}/api-keys", headers=admin)
    assert listed.status_code == 200 and [k["name"] for k in listed.json["data"]] == ["default"]
    key_id = listed.json["data"][0]["key_id"]
    assert client.post(f"/v1/merchants/{merchant_id}/api-keys/{key_id}/revoke", headers=headers).status_code == 403
    resp = client.post(f"/v1/merchants/{merchant_id}/api-keys/{key_id}/revoke", headers=admin)
    assert resp.status_code == 200 and resp.json["revoked_by"] == "admin"
    assert refused_within(client, headers).status_code == 401
    assert client.get("/v1/merchants/mer_nobody/api-keys", headers=admin).status_code == 404


def test_api_keys_need_a_merchant_key(client):
    assert client.get("/v1/api-keys").status_code == 401
    assert client.post("/v1/api-keys", json={"name": "x"}).status_code == 401


def test_an_older_key_is_recorded_once_even_when_two_requests_record_it(service, merchant):
    from tillkey.orders.domain.api_keys import ApiKey
    from tillkey.platform.credentials import api_key_prefix, make_api_key

    merchant_id, _ = merchant
    legacy = make_api_key("test-platform-secret", merchant_id)
    key = lambda: ApiKey(api_key_id(legacy), merchant_id, "issued before key names",  # noqa: E731
                         api_key_prefix(legacy), service.deps.clock.now())
    with service.uow_factory() as first, service.uow_factory() as second:
        first.api_keys.add_if_absent(key())
        first.commit()
        second.api_keys.add_if_absent(key())      # the same row, committed meanwhile: no error
        second.commit()
    with service.uow_factory() as uow:
        assert [k.key_id for k in uow.api_keys.of_merchant(merchant_id)].count(api_key_id(legacy)) == 1


def test_revocations_of_one_merchant_take_turns(service, client, merchant, clock):
    """Keys A and B, each revoking itself at once, would each see the other live: the second waits
    for the first and then finds itself the last live key (409)."""
    import threading

    from tillkey.orders.domain.errors import DomainError
    from tillkey.orders.service_layer.api_keys import KeyCaller, RevokeApiKey
    from tillkey.platform.credentials import api_key_prefix

    merchant_id, headers = merchant
    clock.advance(seconds=1)
    second = client.post("/v1/api-keys", json={"name": "B"}, headers=headers).json["api_key"]
    first = headers["Authorization"][7:]
    caller = lambda key: KeyCaller(api_key_id(key), api_key_prefix(key))  # noqa: E731
    answers = []

    def revoke_b_with_b():
        try:
            answers.append(service.handle(RevokeApiKey(merchant_id, api_key_id(second), "merchant", caller(second))))
        except DomainError as exc:   # the refusal, read below
            answers.append(exc)

    with service.uow_factory() as uow:
        keys = uow.api_keys.of_merchant(merchant_id, lock=True)          # A's revocation holds the keys
        other = threading.Thread(target=revoke_b_with_b)
        other.start()
        other.join(0.5)
        assert other.is_alive() and not answers                          # B's waits
        a = next(k for k in keys if k.key_id == api_key_id(first))
        a.revoke(clock.now(), "merchant")
        uow.commit()
    other.join(10)
    assert len(answers) == 1 and getattr(answers[0], "code", None) == "last_api_key", answers
