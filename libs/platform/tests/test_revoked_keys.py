"""API key ids and the denylist cache: what the Authenticator asks on every merchant request."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import MetaData, create_engine

from tillkey.platform.auth import Authenticator
from tillkey.platform.credentials import api_key_id, api_key_prefix, make_api_key
from tillkey.platform.db import make_session_factory
from tillkey.platform.problems import ApiError
from tillkey.platform.revoked_keys import RevokedKeys, define_revoked_api_keys_table, record_revocation


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    define_revoked_api_keys_table(MetaData()).metadata.create_all(engine)
    return engine


def revoke(engine, key_id, merchant_id="mer_A"):
    with make_session_factory(engine)() as session:
        record_revocation(session, merchant_id, key_id, datetime(2026, 1, 1, tzinfo=UTC))
        record_revocation(session, merchant_id, key_id, datetime(2026, 1, 2, tzinfo=UTC))   # no second row
        session.commit()


def test_a_key_id_is_stable_per_key_and_reveals_no_part_of_it():
    key, other = make_api_key("s", "mer_A"), make_api_key("s", "mer_A")
    assert api_key_id(key) == api_key_id(key) != api_key_id(other)
    assert api_key_id(key).startswith("key_") and len(api_key_id(key)) == 24
    nonce, mac = key.split(".")[1:]
    assert nonce not in api_key_id(key) and mac not in api_key_prefix(key)
    assert api_key_prefix(key).startswith("tk_mer_A.") and api_key_prefix(key).endswith("…")
    assert api_key_id("not a key") is None and api_key_prefix("not a key") == ""


def test_the_cache_sees_a_revocation_after_its_interval_and_not_before(engine):
    clock = Clock()
    revoked = RevokedKeys(engine, refresh_seconds=1.0, clock=clock)
    assert not revoked.is_revoked("key_1")
    revoke(engine, "key_1")
    clock.now = 0.5
    assert not revoked.is_revoked("key_1")        # served from memory: no read yet
    clock.now = 1.0
    assert revoked.is_revoked("key_1")


def test_a_failed_read_keeps_what_was_known(engine):
    clock = Clock()
    revoke(engine, "key_1")
    revoked = RevokedKeys(engine, clock=clock)
    assert revoked.is_revoked("key_1")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE revoked_api_keys")
    clock.now = 5.0
    assert revoked.is_revoked("key_1")


def test_the_authenticator_refuses_a_revoked_key_with_its_own_message(engine):
    key, other = make_api_key("s", "mer_A"), make_api_key("s", "mer_A")
    revoke(engine, api_key_id(key))
    auth = Authenticator("s", "admin", RevokedKeys(engine))
    app = Flask("t")
    with app.test_request_context(headers={"Authorization": f"Bearer {key}"}):
        with pytest.raises(ApiError) as refused:
            auth.identify()
    assert (refused.value.status, refused.value.detail) == (401, "This API key was revoked.")
    with app.test_request_context(headers={"Authorization": f"Bearer {other}"}):
        principal = auth.identify()
    assert (principal.merchant_id, principal.key_id) == ("mer_A", api_key_id(other))


def test_a_refresh_inside_this_threads_own_transaction_does_not_wait_for_it(tmp_path, monkeypatch):
    # An Idempotency-Key request authenticates inside its own transaction. On SQLite that
    # transaction holds the process's gate and the write lock; the refresh used to open a second
    # transaction and wait for the first, its own, for the gate's 30 s (the dashboard's "send test
    # event" timed out). The platform's own engine: gate and BEGIN IMMEDIATE.
    import time

    from sqlalchemy import text

    from tillkey.platform import sqlite_gate
    from tillkey.platform.db import make_engine
    monkeypatch.setattr(sqlite_gate, "GATE_TIMEOUT", 5.0)
    engine = make_engine(f"sqlite:///{tmp_path / 'gated.db'}")
    define_revoked_api_keys_table(MetaData()).metadata.create_all(engine)
    revoke(engine, "key_1")
    clock = Clock()
    revoked = RevokedKeys(engine, clock=clock)
    assert revoked.is_revoked("key_1")
    revoke(engine, "key_2")
    clock.now = 5.0
    with engine.begin() as request_tx:                  # the keyed request's transaction
        request_tx.execute(text("SELECT 1"))
        started = time.monotonic()
        assert revoked.is_revoked("key_2")              # refreshed, inside it
        assert time.monotonic() - started < 1.0, "the refresh waited for this thread's own transaction"
