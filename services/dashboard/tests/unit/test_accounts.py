import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tillkey.dashboard.adapters.passwords import Argon2Hasher
from tillkey.dashboard.adapters.sealing import AesGcmSealer
from tillkey.dashboard.config import Settings
from tillkey.dashboard.domain.accounts import InvalidAccount, SignInSession, normalize_email, password_problem
from tillkey.platform.config import ConfigError
from tillkey.platform.sealing import SealBroken


def test_emails_have_one_spelling_and_bad_ones_are_refused():
    assert normalize_email("  Owner@Shop.Example ") == "owner@shop.example"
    for wrong in ("", "owner", "a@b", "a b@c.de", "x" * 320 + "@a.de"):
        with pytest.raises(InvalidAccount):
            normalize_email(wrong)


def test_passwords_need_a_length_between_the_bounds():
    assert password_problem("short") and password_problem("x" * 257)
    assert password_problem("twelve chars") is None


def test_a_session_ends_at_its_expiry():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    session = SignInSession("h", "usr_1", now, now + timedelta(hours=1))
    assert session.active(now + timedelta(minutes=59)) and not session.active(now + timedelta(hours=1))


def test_argon2_hashes_verify_only_the_password_and_survive_garbage():
    hasher = Argon2Hasher()
    stored = hasher.hash("a long enough password")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "a long enough password")
    assert not hasher.verify(stored, "another password entirely")
    assert not hasher.verify("not a hash", "whatever")


def test_a_sealed_key_opens_only_with_its_secret():
    sealed = AesGcmSealer("one").seal("tk_mer_x.nonce.mac")
    assert "tk_mer_x" not in sealed and AesGcmSealer("one").open(sealed) == "tk_mer_x.nonce.mac"
    with pytest.raises(SealBroken):
        AesGcmSealer("two").open(sealed)


def test_a_key_sealed_before_the_sealing_moved_to_libs_still_opens():
    # The format as the dashboard wrote it itself: "v1." + padded base64url(nonce + AES-GCM).
    nonce = os.urandom(12)
    aead = AESGCM(hashlib.sha256(b"one").digest())
    stored = "v1." + base64.urlsafe_b64encode(
        nonce + aead.encrypt(nonce, b"tk_mer_x.nonce.mac", b"tillkey dashboard api key")).decode()
    assert AesGcmSealer("one").open(stored) == "tk_mer_x.nonce.mac"


def test_settings_refuse_a_limit_or_lifetime_that_is_not_one():
    with pytest.raises(ConfigError):
        Settings.from_env({"RATE_LIMIT_LOGINS_PER_EMAIL": "often"})
    with pytest.raises(ConfigError):
        Settings.from_env({"DASHBOARD_SESSION_LIFETIME": "0s"})
    settings = Settings.from_env({"ORDERS_API_URL": "http://orders.internal/"})
    assert settings.api_url("orders") == "http://orders.internal" and settings.port == 8006
    assert settings.secret_key != settings.sealing_secret
