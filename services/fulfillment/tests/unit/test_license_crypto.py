"""Generated keys' format and the token signing: PASETO v4.public against the standard's vector."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tillkey.fulfillment.adapters.license_crypto import (
    LicenseCrypto,
    load_public_key,
    sign_v4_public,
    verify_v4_public,
)
from tillkey.fulfillment.domain.licensing import (
    ALPHABET,
    RANDOM_BITS,
    GeneratedKey,
    LicenseRefused,
    new_key,
    normalize_key,
    token_claims,
)
from tillkey.platform.sealing import SealBroken

# PASETO's published test vector 4-S-1 (a test key, not a secret).
SEED = bytes.fromhex("b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774")
PAYLOAD = b'{"data":"this is a signed message","exp":"2022-01-01T00:00:00+00:00"}'
TOKEN = ("v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9"
         "bg_XBBzds8lTZShVlwwKSgeKpLT3yukTw6JUz3W4h_ExsQV-P0V54zemZDcAxFaSeef1QlXEFtkqxT1ciiQEDA")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_paseto_v4_public_matches_the_standard_test_vector():
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    assert sign_v4_public(private, PAYLOAD) == TOKEN
    assert verify_v4_public(private.public_key(), TOKEN) == PAYLOAD


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),   # the signature
    lambda t: t.replace("eyJkYXRh", "eyJkYXRi", 1),                # the message
    lambda t: t.replace("v4.public.", "v4.local.", 1),
    lambda t: t + ".e30",                                          # a footer that was not signed
    lambda t: "v4.public.AAAA",
])
def test_a_changed_token_does_not_verify(tamper):
    with pytest.raises(ValueError):
        verify_v4_public(Ed25519PrivateKey.from_private_bytes(SEED).public_key(), tamper(TOKEN))


def test_keys_are_grouped_from_an_unambiguous_alphabet_with_at_least_100_random_bits():
    key = new_key("EDPRO")
    prefix, *groups = key.split("-")
    assert prefix == "EDPRO" and len(groups) == 5 and all(len(g) == 5 for g in groups)
    assert set("".join(groups)) <= set(ALPHABET) and not set("ILOU") & set("".join(groups))
    assert RANDOM_BITS == len("".join(groups)) * math.log2(len(ALPHABET)) >= 100
    assert len({new_key("P") for _ in range(2000)}) == 2000


def test_a_key_is_found_however_the_customer_typed_it():
    crypto = LicenseCrypto("s")
    key = new_key("APP")
    assert crypto.lookup_hash(normalize_key(f"  {key.lower()}\n")) == crypto.lookup_hash(normalize_key(key))
    assert LicenseCrypto("other").lookup_hash(key) != crypto.lookup_hash(key)  # keyed by the platform secret


def test_the_private_key_is_sealed_and_signs_tokens_its_public_key_verifies():
    crypto = LicenseCrypto("platform-secret")
    public_pem, sealed = crypto.new_key_pair("prod_a")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----") and sealed.startswith("v1:")
    assert "PRIVATE" not in sealed
    token = crypto.sign_token("prod_a", sealed, {"key_id": "lk_1"})
    assert json.loads(verify_v4_public(load_public_key(public_pem), token)) == {"key_id": "lk_1"}
    with pytest.raises(SealBroken):
        crypto.sign_token("prod_b", sealed, {})          # sealed for another product
    with pytest.raises(SealBroken):
        LicenseCrypto("another-secret").sign_token("prod_a", sealed, {})


def test_a_private_key_sealed_before_the_sealing_moved_to_libs_still_signs():
    # The format as fulfillment wrote it itself: "v1:" + unpadded base64url(nonce + AES-GCM(raw,
    # aad=product id)) under HMAC-SHA256(secret, label).
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    key = hmac.new(b"platform-secret", b"tillkey.fulfillment.signing-keys.v1", hashlib.sha256).digest()
    nonce = os.urandom(12)
    stored = "v1:" + base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, raw, b"prod_a")).decode().rstrip("=")
    token = LicenseCrypto("platform-secret").sign_token("prod_a", stored, {"key_id": "lk_1"})
    assert json.loads(verify_v4_public(private.public_key(), token)) == {"key_id": "lk_1"}


def _key(**kw):
    base = dict(key_id="lk_1", product_id="prod_a", merchant_id="mer_a", order_id="ord_a", line_id="line_a",
                key="APP-AAAAA", key_hash="h", token="", activation_limit=2, issued_at=NOW, expires_at=None)
    return GeneratedKey(**{**base, **kw})


def test_claims_bind_the_token_to_its_key_product_limit_and_expiry():
    claims = token_claims(_key(expires_at=datetime(2027, 1, 1, tzinfo=UTC)), "app-aaaaa")
    assert claims["product_id"] == "prod_a" and claims["key_id"] == "lk_1" and claims["activation_limit"] == 2
    assert claims["exp"] == "2027-01-01T00:00:00+00:00" and len(claims["key_sha256"]) == 64
    assert "exp" not in token_claims(_key(), "APP-AAAAA")
    assert token_claims(_key(), "APP-AAAAA")["key_sha256"] == claims["key_sha256"]  # normalized first


def test_state_limit_revocation_and_erasure():
    key = _key(expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert key.state(NOW) == "valid" and key.state(datetime(2027, 1, 1, tzinfo=UTC)) == "expired"
    key.check_activation(1, NOW)
    with pytest.raises(LicenseRefused) as refused:
        key.check_activation(2, NOW)
    assert refused.value.code == "activation_limit_reached"
    assert key.revoke("refund", NOW) and not key.revoke("merchant", NOW) and key.state(NOW) == "revoked"
    with pytest.raises(LicenseRefused):
        key.check_activation(0, NOW)
    assert key.reinstate() and key.state(NOW) == "valid"
    key.erase(NOW)
    assert key.key is None and key.state(NOW) == "revoked" and not key.reinstate()
    _key(activation_limit=None).check_activation(10_000, NOW)  # unlimited
