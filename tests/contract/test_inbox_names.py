"""Declared inbox handler names (issue 15): each service's migration maps the rows the previous
release recorded (module + function name) to the names its handler table now declares, so a
message redelivered after the upgrade is not handled a second time. SQLite and PostgreSQL."""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, select, text

from tillkey.messaging import (
    InboxDispatcher,
    InboxHandler,
    QueueTopology,
    SqlAlchemyUnitOfWork,
    define_inbox,
    define_outbox,
)
from tillkey.messaging.dead_letters_erasure import DeadLetterEraser, with_dead_letter_erasure
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.migrations import _config, migrate, migrations_home
from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration


def _tables(service: str) -> dict:
    """The handler table as the service's worker runs it: its own, then the dead-letter eraser."""
    table = importlib.import_module(f"tillkey.{service}.service_layer.handlers").EVENT_HANDLERS
    topology = QueueTopology(service, tuple(table))
    return with_dead_letter_erasure(table, DeadLetterEraser("amqp://unused", topology))


def _renaming_migration(service: str):
    home = migrations_home(f"tillkey.{service}")
    (path,) = (home / "migrations" / "versions").glob("*_declared_inbox_names.py")
    spec = importlib.util.spec_from_file_location(f"{service}_inbox_names", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return home, module


SERVICES = ["orders", "payments", "fulfillment", "notifications", "webhooks"]
# Handlers added after names were declared: no release ever recorded them under another name.
DECLARED_SINCE = {"deny_revoked_api_key"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_migration_renames_exactly_what_the_previous_release_recorded(service):
    _home, migration = _renaming_migration(service)
    declared = {(h.name, h.recorded_as[1]) for handlers in _tables(service).values() for h in handlers
                if h.name not in DECLARED_SINCE}
    assert {(new, old) for old, new in migration.RENAMES.items()} == declared


@pytest.mark.parametrize("service", SERVICES)
def test_a_message_handled_before_the_upgrade_is_not_handled_again(service, database_url):
    home, migration = _renaming_migration(service)
    command.upgrade(_config(home, database_url), migration.down_revision)
    old, new = sorted(migration.RENAMES.items())[0]
    engine = make_engine(database_url)
    with engine.begin() as conn:
        insert = text("INSERT INTO inbox (message_id, handler, processed_at) VALUES (:m, :h, CURRENT_TIMESTAMP)")
        conn.execute(insert, {"m": "evt_handled_before", "h": old})
        # The same message under both names (a worker of each release took it): one row stays.
        conn.execute(insert, {"m": "evt_both", "h": old})
        conn.execute(insert, {"m": "evt_both", "h": new})
    migrate(Path(home), database_url)

    metadata = MetaData()
    inbox, outbox = define_inbox(metadata), define_outbox(metadata)
    with engine.connect() as conn:
        rows = sorted(tuple(r) for r in conn.execute(select(inbox.c.message_id, inbox.c.handler)))
    assert rows == [("evt_both", new), ("evt_handled_before", new)]

    calls = []
    event_type = next(t for t, hs in _tables(service).items() if any(h.name == new for h in hs))
    dispatcher = InboxDispatcher(
        lambda cause=None: SqlAlchemyUnitOfWork(make_session_factory(engine), outbox, service, cause=cause),
        inbox, {event_type: [InboxHandler(new, lambda env, uow: calls.append(env.id))]})
    redelivered = replace(sample_envelope(event_type), id="evt_handled_before")
    dispatcher(redelivered)
    dispatcher.handle_batch([redelivered])
    fresh = sample_envelope(event_type, new_id=True)
    dispatcher(fresh)
    assert calls == [fresh.id]  # the one handled before the upgrade had no second effect

    command.downgrade(_config(home, database_url), migration.down_revision)
    with engine.connect() as conn:
        names = {r.handler for r in conn.execute(select(inbox.c.handler).where(inbox.c.message_id != fresh.id))}
    assert names == {old}  # and back, for a rollback
    engine.dispose()
