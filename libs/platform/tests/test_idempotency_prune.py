"""Idempotency records do not outlive their 24 h: their stored answers may hold personal data."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, func, select

from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.idempotency import IdempotencyStore, define_idempotency_table

pytestmark = pytest.mark.integration


def test_records_past_the_ttl_are_pruned_and_fresh_ones_kept(database_url):
    metadata = MetaData()
    table = define_idempotency_table(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    store = IdempotencyStore(make_session_factory(engine), table)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for key, age in (("old", timedelta(hours=25)), ("fresh", timedelta(hours=1))):
            conn.execute(table.insert().values(scope="s", key=key, request_hash="h", status="done",
                                               response_status=201, response_body='{"email": "a@b.c"}',
                                               created_at=now - age))
    assert store.prune(now) == 1
    with engine.connect() as conn:
        assert list(conn.execute(select(table.c.key))) == [("fresh",)]
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 1
    engine.dispose()
