"""The key registry over the in-memory unit of work: create, list, revoke, the last-key rule."""
import pytest

from tillkey.orders.domain.errors import Conflict, NotFound
from tillkey.orders.service_layer.api_keys import CreateApiKey, KeyCaller, ListApiKeys, RevokeApiKey
from tillkey.orders.service_layer.catalog import RegisterMerchant
from tillkey.platform.credentials import api_key_id, api_key_prefix, make_api_key, verify_api_key


def caller(key):
    return KeyCaller(api_key_id(key), api_key_prefix(key))


@pytest.fixture
def merchant(svc):
    result = svc(RegisterMerchant("Acme", "billing@acme.example"))
    return result["merchant_id"], result["api_key"]


def test_the_key_given_with_a_new_merchant_is_registered_as_default(svc, merchant):
    merchant_id, key = merchant
    (listed,) = svc(ListApiKeys(merchant_id, caller(key)))["data"]
    assert listed["key_id"] == api_key_id(key) and listed["name"] == "default"
    assert listed["prefix"] == api_key_prefix(key) and key.startswith(listed["prefix"][:-1])
    assert listed["status"] == "active" and listed["current"] is True
    assert key not in str(listed)


def test_a_created_key_is_shown_once_and_listed_by_prefix(svc, merchant):
    merchant_id, key = merchant
    created = svc(CreateApiKey(merchant_id, "CI", caller(key)))
    assert verify_api_key("secret", created["api_key"]) == merchant_id
    assert created["key_id"] == api_key_id(created["api_key"]) and created["current"] is False
    listed = svc(ListApiKeys(merchant_id, caller(key)))["data"]
    assert {k["name"] for k in listed} == {"default", "CI"}
    assert all("api_key" not in k for k in listed)


def test_revoking_denies_the_key_here_and_tells_the_other_services(svc, merchant):
    merchant_id, key = merchant
    second = svc(CreateApiKey(merchant_id, "CI", caller(key)))
    revoked = svc(RevokeApiKey(merchant_id, second["key_id"], "merchant", caller(key)))
    assert revoked["status"] == "revoked" and revoked["revoked_by"] == "merchant" and revoked["revoked_at"]
    assert svc.uow.api_keys.denied == {second["key_id"]: merchant_id}
    event = svc.uow.events[-1]
    assert (event.type, event.data) == ("merchant.api_key_revoked",
                                        {"merchant_id": merchant_id, "key_id": second["key_id"]})
    # Once more: nothing new happens.
    count = len(svc.uow.events)
    assert svc(RevokeApiKey(merchant_id, second["key_id"], "merchant", caller(key)))["status"] == "revoked"
    assert len(svc.uow.events) == count


def test_the_calling_key_can_be_revoked_only_while_another_is_live(svc, merchant):
    merchant_id, key = merchant
    with pytest.raises(Conflict) as refused:
        svc(RevokeApiKey(merchant_id, api_key_id(key), "merchant", caller(key)))
    assert refused.value.code == "last_api_key"
    assert svc.uow.events[-1].type == "merchant.registered"
    svc(CreateApiKey(merchant_id, "new", caller(key)))
    assert svc(RevokeApiKey(merchant_id, api_key_id(key), "merchant", caller(key)))["status"] == "revoked"


def test_admin_may_revoke_the_last_key(svc, merchant):
    merchant_id, key = merchant
    assert svc(RevokeApiKey(merchant_id, api_key_id(key), "admin"))["revoked_by"] == "admin"


def test_another_merchants_key_and_an_unknown_id_are_not_found(svc, merchant):
    merchant_id, key = merchant
    other = svc(RegisterMerchant("Other", "o@other.example"))
    for key_id in (api_key_id(other["api_key"]), "key_00000000000000000000", "nonsense"):
        with pytest.raises(NotFound):
            svc(RevokeApiKey(merchant_id, key_id, "merchant", caller(key)))
    assert svc.uow.events[-1].type == "merchant.registered"


def test_a_key_older_than_the_registry_is_recorded_when_it_lists_keys(svc, merchant):
    merchant_id, _ = merchant
    legacy = make_api_key("secret", merchant_id)        # issued before the registry: not in it
    listed = svc(ListApiKeys(merchant_id, caller(legacy)))["data"]
    adopted = next(k for k in listed if k["key_id"] == api_key_id(legacy))
    assert adopted["current"] is True and adopted["name"] == "issued before key names"
    # Now it can be revoked by id, like any other.
    svc(RevokeApiKey(merchant_id, api_key_id(legacy), "merchant", caller(legacy)))
    assert svc.uow.api_keys.denied == {api_key_id(legacy): merchant_id}
