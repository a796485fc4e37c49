"""Pooled PostgreSQL connections: a rested one is checked before use, a busy one is not."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from tillkey.platform import db

pytestmark = pytest.mark.integration


def _kill_backends(engine, server_url: str) -> None:
    name = make_url(engine.url).database
    admin = db.make_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
        conn.commit()
    admin.dispose()


def test_a_rested_connection_killed_by_a_restart_is_replaced_unseen(postgres_url, postgres_server_url, monkeypatch):
    engine = db.make_engine(postgres_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    _kill_backends(engine, postgres_server_url)  # what a database restart does to idle connections
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # it has rested long enough
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_url):
    engine = db.make_engine(postgres_url)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for _ in range(5):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert statements == ["SELECT 1"] * 5  # no round trip before each transaction
    engine.dispose()
