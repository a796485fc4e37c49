"""Helpers for the messaging tests: a stoppable TCP proxy, a test schema, broker and thread helpers.

Everything here talks to the real RabbitMQ and the real databases; nothing is mocked.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from tillkey.contracts import load_sample
from tillkey.messaging import InboxDispatcher, InboxHandler, SqlAlchemyUnitOfWork, define_inbox, define_outbox
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.testing.broker import Broker
from tillkey.testing.proxy import TcpProxy


@pytest.fixture
def broker_proxy(amqp_url):
    parts = urlsplit(amqp_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    proxy.start()
    yield proxy
    proxy.resume()
    proxy.stop()


# -- the test schema: outbox, inbox and an effects table ----------------------------------------
@dataclass
class Db:
    engine: object
    session_factory: object
    outbox: Table
    inbox: Table
    effects: Table

    def uow(self, cause=None, producer: str = "tests") -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory, self.outbox, producer, cause=cause)

    def count(self, table: Table, *where) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    def unpublished(self) -> int:
        return self.count(self.outbox, self.outbox.c.published_at.is_(None))

    def effects_for(self, event_id: str) -> int:
        return self.count(self.effects, self.effects.c.event_id == event_id)

    def record_effect(self, envelope, uow) -> None:
        """A handler: its effect is one row in `effects` (no unique key, so a repeat would show)."""
        uow.session.execute(self.effects.insert().values(event_id=envelope.id, order_id=envelope.data["order_id"]))

    def dispatcher(self, handler=None) -> InboxDispatcher:
        handler = handler or self.record_effect
        return InboxDispatcher(lambda cause=None: self.uow(cause=cause), self.inbox,
                               {"order.created": [InboxHandler("record_effect", handler)]})


@pytest.fixture
def db(database_url):
    metadata = MetaData()
    outbox, inbox = define_outbox(metadata), define_inbox(metadata)
    effects = Table("effects", metadata,
                    Column("id", Integer, primary_key=True, autoincrement=True),
                    Column("event_id", String(64), nullable=False),
                    Column("order_id", String(64), nullable=False))
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield Db(engine, make_session_factory(engine), outbox, inbox, effects)
    engine.dispose()


# -- broker helpers (the test thread's own short-lived connections) --------------------------------
@pytest.fixture
def service() -> str:
    return f"t{uuid4().hex[:8]}"


@pytest.fixture
def broker(amqp_url):
    b = Broker(amqp_url)
    yield b
    b.delete_owned()


# -- running loops on threads --------------------------------------------------------------------
class Loops:
    """Starts `run()` of consumers/relays on threads; teardown stops and joins them all."""

    def __init__(self):
        self._running: list[tuple[object, threading.Thread]] = []

    def start(self, loop) -> threading.Thread:
        thread = threading.Thread(target=loop.run, name=type(loop).__name__, daemon=True)
        thread.start()
        self._running.append((loop, thread))
        return thread

    def stop_all(self) -> list[str]:
        for loop, _ in self._running:
            loop.stop()
        stuck = []
        for loop, thread in self._running:
            thread.join(10)
            if thread.is_alive():
                stuck.append(type(loop).__name__)
        self._running = []
        return stuck


@pytest.fixture
def loops(broker):  # depends on `broker`: loops stop before their queues are deleted
    runner = Loops()
    yield runner
    assert not runner.stop_all(), "a loop did not return after stop()"


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def order_envelope(event_id: str | None = None, **data_changes) -> dict:
    env = load_sample("order.created")
    env["id"] = event_id or f"evt_{uuid4().hex}"
    env["data"].update(data_changes)
    return env


# Test modules cannot import conftest under --import-mode=importlib: the helpers come as fixtures.
@pytest.fixture(name="wait_until")
def _wait_until_fixture():
    return wait_until


@pytest.fixture(name="order_envelope")
def _order_envelope_fixture():
    return order_envelope
