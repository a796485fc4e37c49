"""A unit of work over one SQLAlchemy session whose events go to the outbox in the same transaction."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from tillkey.contracts import Envelope, make_event
from tillkey.platform import correlation, tracing
from tillkey.platform.doorbell import notifies, ring_after_commit
from tillkey.platform.polling import Handoff
from tillkey.platform.sql import insert_rows

# The channel that wakes a service's outbox relay when a transaction wrote events.
OUTBOX_CHANNEL = "tillkey_outbox"


class WritesBack(Protocol):
    """A repository that reads aggregates with Core under a lock and writes their changed columns
    back just before the transaction commits, as the ORM's flush would (docs/architecture.md 7.8)."""

    def write_changes(self) -> None:
        """Write what changed into this transaction, then forget it (its locks end at the commit)."""

    def forget(self) -> None:
        """Drop what was read: the transaction that locked it rolled back, so it is stale."""


W = TypeVar("W", bound=WritesBack)


class SqlAlchemyUnitOfWork:
    """`with uow: ...; uow.commit()` — anything not committed is rolled back on exit.

    `emit()` puts the event in the outbox table inside this transaction, so the state change and the
    event it causes commit together or not at all (the relay publishes it later). The transaction's
    events are written at `commit()`, in one INSERT (an INSERT per event was a sixth of a worker's
    CPU, issue 11); nothing in a transaction reads its own outbox rows.
    A repository that keeps locked aggregates to write back registers with `writes_back()` in the
    subclass's `__enter__`; the unit of work calls it at commit and rollback.
    """

    def __init__(self, session_factory: Callable[[], Session], outbox: Table, producer: str,
                 cause: Envelope | None = None, handoff: Handoff | None = None):
        self._session_factory = session_factory
        self._handoff = handoff
        self._handed: list = []
        self._outbox = outbox
        self.producer = producer
        self.cause = cause
        self.session: Session | None = None
        self.emitted: list[Envelope] = []
        self._outbox_rows: list[dict[str, Any]] = []  # emitted, written at commit
        self._unrung = False
        self._writers: list[WritesBack] = []

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.emitted = []
        self._outbox_rows = []
        self._unrung = False
        self._handed = []
        self._writers = []
        return self

    def __exit__(self, *exc_info: object) -> None:
        # close() detaches every object first, then rolls back whatever was not committed. A
        # rollback() here would expire the objects a use case returns, and views read them after.
        self.active_session().close()

    def active_session(self) -> Session:
        """The session `with` opened; the unit of work is used only inside its `with` block."""
        if self.session is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self.session

    def writes_back(self, repository: W) -> W:
        """`repository` writes its locked aggregates' changes at each commit and forgets them at
        each rollback of this unit of work, in the order registered."""
        self._writers.append(repository)
        return repository

    def commit(self) -> None:
        session = self.active_session()
        for writer in self._writers:
            writer.write_changes()
        rings = self._unrung
        rows, self._outbox_rows = self._outbox_rows, []
        if rows:  # one INSERT for all the transaction's events, carrying the NOTIFY when one is due
            insert_rows(session, self._outbox, rows,
                        notify=OUTBOX_CHANNEL if notifies(session, OUTBOX_CHANNEL) else None)
        session.commit()
        if rings:
            # The relay publishes now instead of at its next poll (see tillkey.platform.doorbell).
            self._unrung = False
            ring_after_commit(session.get_bind(), OUTBOX_CHANNEL)
        handed, self._handed = self._handed, []
        if handed:
            receiver = self._handoff.receiver if self._handoff is not None else None
            if receiver is None:  # hand_off is for a unit of work whose sending_lease() said yes
                raise RuntimeError("jobs were handed off, but this unit of work has no connected Handoff")
            receiver(handed)

    def rollback(self) -> None:
        self.active_session().rollback()
        for writer in self._writers:
            writer.forget()
        self._outbox_rows = []
        self._unrung = False
        self._handed = []

    def sending_lease(self) -> timedelta | None:
        """The lease to write on jobs this transaction creates for a worker of this process to run
        (see tillkey.platform.polling.Handoff); None: none here, they wait for a poll."""
        return self._handoff.connected_lease if self._handoff is not None else None

    def hand_off(self, job) -> None:
        """`job` goes to this process's worker when, and only if, this transaction commits."""
        self._handed.append(job)

    def emit(self, type: str, data: dict[str, Any], version: int = 1) -> Envelope:
        if self.cause is not None:
            env = self.cause.caused(type, data, self.producer, version=version)
        else:
            # Caused by an HTTP request (or nothing: a scheduler): the request's story goes on in it.
            ids = correlation.current()
            env = make_event(type, data, self.producer, version=version,
                             correlation_id=ids.correlation_id, causation_id=ids.event_id or ids.request_id)
        now = datetime.now(UTC)
        body = env.to_json()
        if tracing.ACTIVE:  # the emitting span's traceparent travels with the event (tillkey.platform.tracing)
            body = tracing.add_to_body(body, tracing.traceparent_for_body())
        self.active_session()  # inside the `with` block, as every other call
        self._outbox_rows.append({
            "event_id": env.id, "routing_key": env.routing_key, "body": body,
            "created_at": now, "available_at": now, "attempts": 0,
        })
        self.emitted.append(env)
        self._unrung = True
        return env

