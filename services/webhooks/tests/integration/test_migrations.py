"""Migration 0002 on a database that already holds events (SQLite and PostgreSQL)."""
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, insert, select, text

from tillkey.platform.db import normalize_url
from tillkey.testing.messaging import sample_envelope
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.domain import payload
from tillkey.webhooks.entrypoints.cli import MIGRATIONS_HOME

pytestmark = pytest.mark.integration


def alembic(url: str) -> Config:
    config = Config(str(MIGRATIONS_HOME / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_HOME / "migrations"))
    config.attributes["database_url"] = normalize_url(url)
    return config


def test_0002_gives_events_stored_before_it_their_order_so_a_deletion_finds_them(database_url):
    command.upgrade(alembic(database_url), "0001")
    engine = create_engine(database_url)
    rows = []
    for type_ in ("order.created", "license_pool.low"):
        e = sample_envelope(type_)
        body = payload.body(e.id, e.type, e.occurred_at, None, payload.public_data(e.type, e.data, {}))
        rows.append({"event_id": e.id, "merchant_id": e.data["merchant_id"], "type": e.type, "sequence": None,
                     "body": body})
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (event_id, merchant_id, type, sequence, body, created_at) "
                          "VALUES (:event_id, :merchant_id, :type, :sequence, :body, CURRENT_TIMESTAMP)"),
                     rows)
    command.upgrade(alembic(database_url), "head")
    with engine.connect() as conn:
        got = dict(conn.execute(select(tables.events.c.type, tables.events.c.order_id)).all())
        conn.execute(insert(tables.order_records).values(order_id="ord_x", merchant_id="mer_x", custom={},
                                                         next_sequence=1, erased_at=None))
    assert got == {"order.created": "ord_3Hq8ZrW2mNp5", "license_pool.low": None}
    command.downgrade(alembic(database_url), "0001")  # and back, on both databases
    engine.dispose()
