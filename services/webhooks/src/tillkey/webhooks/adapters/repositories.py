"""SQLAlchemy repositories: the service layer's ports over one session (queries live here, rules in
the domain).

The worker's and the consumer's statements run for every claim, every batch of attempts and every
batch of events: built once per process and run as `LeanStatement`s on the driver's cursor (no
statement building, cache-key or result set-up work per call); ids go in an IN of one bind each,
built once per count of ids (`_OverIds`); a batch's new rows go in one INSERT per table
(`insert_rows`: one JSON parameter on PostgreSQL; docs/architecture.md 7.8).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, bindparam, false, or_, select, true, update
from sqlalchemy.orm import Session

from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.pagination import paginate
from tillkey.platform.revoked_keys import record_revocation
from tillkey.platform.sql import insert_rows
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, OrderRecord, WebhookEvent


class _OverIds:
    """A hot statement over a list of ids, `build(column IN (:id_0, :id_1, …))` (or NOT IN): built,
    and compiled, once per count of ids, and run as a `LeanStatement` (`lean`). An expanding IN
    re-renders the compiled SQL text at every execution (15 to 30 µs a call here, the joined read of
    deliveries the most); a list longer than any batch of ours (`SIZED`) still goes in one, built
    once, on `session.execute`. No ids: IN is false, NOT IN true, and the statement runs all the same."""

    SIZED = 64  # ids: a consumer's prefetch, a worker's sending threads are far fewer

    def __init__(self, column: ColumnElement[Any], build: Callable[[ColumnElement[bool]], Select[Any] | Update], *,
                 excluding: bool = False):
        self._column, self._build, self._excluding = column, build, excluding
        self._expanding = build(self._condition(bindparam("ids", expanding=True)))
        self._sized: dict[int, tuple[LeanStatement, tuple[str, ...]]] = {}

    def _condition(self, ids: Any) -> ColumnElement[bool]:
        return self._column.not_in(ids) if self._excluding else self._column.in_(ids)

    def _of_count(self, count: int) -> tuple[LeanStatement, tuple[str, ...]]:
        sized = self._sized.get(count)
        if sized is None:  # two threads may both build it: the same statement, either one is kept
            names = tuple(f"id_{i}" for i in range(count))
            if names:
                condition = self._condition([bindparam(n) for n in names])
            else:
                condition = true() if self._excluding else false()
            statement = self._build(condition)
            sized = self._sized[count] = (LeanStatement(statement), names)
        return sized

    def all(self, session: Session, ids: Sequence[str], **params: Any) -> list[Any]:
        """The rows: tuples with attribute access and `_asdict()`."""
        if len(ids) > self.SIZED:
            return list(session.execute(self._expanding, {"ids": list(ids), **params}).all())
        statement, names = self._of_count(len(ids))
        return statement.all(session, {**dict(zip(names, ids, strict=True)), **params})

    def execute(self, session: Session, ids: Sequence[str], **params: Any) -> None:
        """Runs a statement whose rows are not wanted (an UPDATE)."""
        if len(ids) > self.SIZED:
            session.execute(self._expanding, {"ids": list(ids), **params})
            return
        statement, names = self._of_count(len(ids))
        statement.execute(session, {**dict(zip(names, ids, strict=True)), **params})


# A delivery comes with its event's body and its endpoint's row in one joined query, the lock on
# the delivery only (FOR UPDATE OF): an endpoint is locked after, and only when it may change.
_ENDPOINT_COLUMNS = tuple(c.name for c in tables.endpoints.columns)
_ENDPOINT_FIELDS = tuple((name, f"endpoint__{name}") for name in _ENDPOINT_COLUMNS)
_DELIVERY_WITH_EVENT_AND_ENDPOINT = (
    select(tables.deliveries, tables.events.c.body, *(tables.endpoints.c[name].label(label)
                                                      for name, label in _ENDPOINT_FIELDS))
    .join(tables.events, tables.events.c.event_id == tables.deliveries.c.event_id)
    .join(tables.endpoints, tables.endpoints.c.endpoint_id == tables.deliveries.c.endpoint_id))
_DELIVERIES_TO_SETTLE = _OverIds(tables.deliveries.c.delivery_id, lambda ids_in: (
    _DELIVERY_WITH_EVENT_AND_ENDPOINT.where(ids_in)
    .order_by(tables.deliveries.c.delivery_id).with_for_update(of=tables.deliveries)))
# The claim skips the endpoints that have their fill of deliveries in flight (usually none).
_DUE = _OverIds(tables.deliveries.c.endpoint_id, excluding=True, build=lambda skip: (
    _DELIVERY_WITH_EVENT_AND_ENDPOINT
    .where(tables.deliveries.c.status == "pending", tables.deliveries.c.next_attempt_at <= bindparam("now"),
           or_(tables.deliveries.c.lease_expires_at.is_(None),
               tables.deliveries.c.lease_expires_at <= bindparam("now")),
           skip)
    .order_by(tables.deliveries.c.next_attempt_at).limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=tables.deliveries)))
_LEASE = _OverIds(tables.deliveries.c.delivery_id, lambda ids_in: (
    update(tables.deliveries).where(ids_in).values(lease_expires_at=bindparam("until"))))
_LIVE_ENDPOINTS = _OverIds(tables.endpoints.c.merchant_id, lambda ids_in: (
    select(tables.endpoints).where(ids_in, tables.endpoints.c.enabled.is_(True),
                                   tables.endpoints.c.deleted_at.is_(None))
    .order_by(tables.endpoints.c.created_at, tables.endpoints.c.endpoint_id)))
_ENDPOINTS_LOCKED = _OverIds(tables.endpoints.c.endpoint_id, lambda ids_in: (
    select(tables.endpoints).where(ids_in).order_by(tables.endpoints.c.endpoint_id).with_for_update()))
# Taking an event in locks its order's record: read with Core, written back (one INSERT of the new
# records, one UPDATE of the changed ones), not loaded and flushed by the ORM.
_ORDER_RECORDS_LOCKED = _OverIds(tables.order_records.c.order_id, lambda ids_in: (
    select(tables.order_records).where(ids_in).order_by(tables.order_records.c.order_id).with_for_update()))
_ORDER_RECORD_COLUMNS = tuple(c.name for c in tables.order_records.columns)
_CHANGING_ORDER_RECORD_COLUMNS = ("custom", "next_sequence", "erased_at")
_UPDATE_ORDER_RECORD = update(tables.order_records).where(
    tables.order_records.c.order_id == bindparam("b_order_id"))
# The usual change of a batch: each of its orders took one (or each k) sequence numbers, nothing
# else. Their rows are locked and hold what `_as_written` says, so "+ k" writes exactly the numbers
# taken: one UPDATE for all of them, where the executemany above runs one per record.
_TAKE_SEQUENCES = _OverIds(tables.order_records.c.order_id, lambda ids_in: (
    update(tables.order_records).where(ids_in)
    .values(next_sequence=tables.order_records.c.next_sequence + bindparam("taken"))))
_ORDER_OWNER = select(tables.order_records.c.merchant_id).where(
    tables.order_records.c.order_id == bindparam("order_id"))
_EVENT_COLUMNS = tuple(c.name for c in tables.events.columns)
_DELIVERY_COLUMNS = tuple(c.name for c in tables.deliveries.columns)
# What recording an attempt writes (domain/policy.py settle): the attempt's row, and these columns.
_ATTEMPT_COLUMNS = tuple(c.name for c in tables.attempts.columns)
_SETTLED_DELIVERY_COLUMNS = ("status", "next_attempt_at", "scheduled_attempts", "lease_expires_at",
                             "manual_pending", "resume_at", "last_attempt_at")
_SETTLED_ENDPOINT_COLUMNS = ("enabled", "disabled_reason", "failing_since")
_UPDATE_SETTLED_DELIVERY = update(tables.deliveries).where(
    tables.deliveries.c.delivery_id == bindparam("b_delivery_id"))
# Deliveries settled alike (a burst of first-attempt successes: every settled column the same, the
# batch sharing one `now`) in one UPDATE by id; the executemany above runs one UPDATE per delivery.
_UPDATE_SETTLED_DELIVERIES = _OverIds(tables.deliveries.c.delivery_id,
                                      lambda ids_in: update(tables.deliveries).where(ids_in))
_UPDATE_SETTLED_ENDPOINT = update(tables.endpoints).where(
    tables.endpoints.c.endpoint_id == bindparam("b_endpoint_id"))

# Writes what the transaction added to order records, events and deliveries but has not written
# yet (the unit of work's `write_unwritten`): every read of those tables calls it first, so the
# transaction still reads what it wrote (an order.deleted erasing an order.created taken in earlier
# in its batch), while a batch that only adds writes each table once, at commit.
WriteUnwritten = Callable[[], None]


def _settled_state(endpoint: Endpoint) -> tuple[Any, ...]:
    return tuple(getattr(endpoint, c) for c in _SETTLED_ENDPOINT_COLUMNS)


def _record_state(record: OrderRecord) -> tuple[Any, ...]:
    return (dict(record.custom), record.next_sequence, record.erased_at)


def _sequences_taken(record: OrderRecord, written: tuple[Any, ...]) -> int | None:
    """How many sequence numbers the record took since `written`, if that is all that changed."""
    custom, next_sequence, erased_at = written
    if record.custom == custom and record.erased_at == erased_at:
        return record.next_sequence - int(next_sequence)
    return None


class Endpoints:
    def __init__(self, session: Session):
        self.session = session
        self._live: dict[str, list[Endpoint]] = {}
        # Locked by `locked`, with the settled columns as read: `write_changes` writes the changed ones.
        self._locked: dict[str, tuple[Endpoint, tuple[Any, ...]]] = {}

    def add(self, endpoint: Endpoint) -> None:
        """Inserted at commit as it is now (a mapped copy: adapters/tables.py, StoredEndpoint)."""
        self.session.add(tables.StoredEndpoint(**{c: getattr(endpoint, c) for c in _ENDPOINT_COLUMNS}))

    def get(self, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        stmt = select(tables.StoredEndpoint).where(tables.endpoints.c.endpoint_id == endpoint_id,
                                                   tables.endpoints.c.merchant_id == merchant_id,
                                                   tables.endpoints.c.deleted_at.is_(None))
        return self.session.scalars(stmt.with_for_update() if lock else stmt).first()

    def by_id(self, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        return self.session.get(tables.StoredEndpoint, endpoint_id, with_for_update=lock)

    def page(self, merchant_id: str, limit: int, cursor: str | None) -> tuple[list[Endpoint], str | None]:
        e = tables.endpoints.c
        stmt = select(tables.StoredEndpoint).where(e.merchant_id == merchant_id, e.deleted_at.is_(None))
        return paginate(self.session, stmt, e.created_at, e.endpoint_id, limit, cursor)

    def live(self, merchant_id: str) -> list[Endpoint]:
        """Read once per unit of work: a consumer's batch asks once for all its merchants
        (`load_live`, its prefetch), the one-by-one path once per merchant."""
        if merchant_id not in self._live:
            self.load_live({merchant_id})
        return self._live[merchant_id]

    def load_live(self, merchant_ids: Set[str]) -> None:
        """The enabled endpoints of these merchants in one Core query, as plain objects outside
        the session: taking an event in only reads them (ORM loading them was most of its cost)."""
        todo = sorted(set(merchant_ids) - self._live.keys())
        if not todo:
            return
        for merchant_id in todo:
            self._live[merchant_id] = []
        for row in _LIVE_ENDPOINTS.all(self.session, todo):
            self._live[row.merchant_id].append(Endpoint(**row._asdict()))

    def locked(self, endpoint_ids: list[str]) -> dict[str, Endpoint]:
        """Locked in id order; plain objects outside the session: `write_changes` writes back the
        ones an attempt changed."""
        out: dict[str, Endpoint] = {}
        if not endpoint_ids:
            return out
        for row in _ENDPOINTS_LOCKED.all(self.session, sorted(set(endpoint_ids))):
            endpoint = out[row.endpoint_id] = Endpoint(**row._asdict())
            self._locked[endpoint.endpoint_id] = (endpoint, _settled_state(endpoint))
        return out

    def disabled(self) -> list[Endpoint]:
        e = tables.endpoints.c
        stmt = select(tables.StoredEndpoint).where(e.enabled.is_(False), e.deleted_at.is_(None))
        return list(self.session.scalars(stmt.order_by(e.endpoint_id)))

    def write_changes(self) -> None:
        """What settling changed on the endpoints `locked` read (usually nothing), in one UPDATE."""
        changed = [e for e, as_read in self._locked.values() if _settled_state(e) != as_read]
        self._locked = {}
        if changed:
            self.session.execute(_UPDATE_SETTLED_ENDPOINT, [
                {"b_endpoint_id": e.endpoint_id, **{c: getattr(e, c) for c in _SETTLED_ENDPOINT_COLUMNS}}
                for e in changed])

    def forget(self) -> None:
        self._locked = {}


class OrderRecords:
    def __init__(self, session: Session, write_unwritten: WriteUnwritten):
        self.session = session
        self._write_unwritten = write_unwritten
        self._records: dict[str, OrderRecord | None] = {}  # locked in this transaction
        self._as_written: dict[str, tuple[Any, ...]] = {}  # what the database holds of them
        self._new: list[OrderRecord] = []  # added, not yet written

    def get(self, order_id: str) -> OrderRecord | None:
        self.lock({order_id})
        return self._records[order_id]

    def lock(self, order_ids: Set[str]) -> None:
        """Load and lock a batch's order records in one query (in id order, as every other batch
        locks them: no deadlock between consumers). Plain objects outside the session: what
        changes on them is written by `write_new`."""
        todo = sorted(set(order_ids) - self._records.keys())
        if not todo:
            return
        for order_id in todo:
            self._records[order_id] = None
        for row in _ORDER_RECORDS_LOCKED.all(self.session, todo):
            record = self._records[row.order_id] = OrderRecord(**row._asdict())
            self._as_written[record.order_id] = _record_state(record)

    def add(self, record: OrderRecord) -> None:
        self._new.append(record)
        self._records[record.order_id] = record

    def owner(self, order_id: str) -> str | None:
        self._write_unwritten()
        merchant_id: str | None = self.session.scalar(_ORDER_OWNER, {"order_id": order_id})
        return merchant_id

    def write_new(self) -> None:
        """The new order records in one INSERT, the changed ones in one UPDATE: `next_sequence + k`
        by id when each took k numbers and nothing else (a batch's usual change), else an
        executemany of the columns that change. They stay locked, and known, until the commit."""
        new, self._new = self._new, []
        if new:
            insert_rows(self.session, tables.order_records,
                        [{c: getattr(r, c) for c in _ORDER_RECORD_COLUMNS} for r in new])
            for record in new:
                self._as_written[record.order_id] = _record_state(record)
        changed: dict[str, tuple[OrderRecord, tuple[Any, ...]]] = {}  # order id → (record, as written)
        for order_id, written in self._as_written.items():
            if (found := self._records.get(order_id)) is not None and _record_state(found) != written:
                changed[order_id] = (found, written)
        taken = {_sequences_taken(r, written) for r, written in changed.values()}
        if len(taken) == 1 and (count := taken.pop()) is not None:
            _TAKE_SEQUENCES.execute(self.session, list(changed), taken=count)
        elif changed:  # a custom or an erasure too, or different counts taken: each its own values
            self.session.execute(_UPDATE_ORDER_RECORD, [
                {"b_order_id": r.order_id, **{c: getattr(r, c) for c in _CHANGING_ORDER_RECORD_COLUMNS}}
                for r, _ in changed.values()])
        for record, _ in changed.values():
            self._as_written[record.order_id] = _record_state(record)

    def write_changes(self) -> None:
        self.write_new()
        self.forget()  # their locks end with the commit

    def forget(self) -> None:
        self._records, self._as_written, self._new = {}, {}, []


class Events:
    def __init__(self, session: Session, write_unwritten: WriteUnwritten):
        self.session = session
        self._write_unwritten = write_unwritten
        self._new: list[dict[str, Any]] = []  # added, not yet written

    def add(self, event: WebhookEvent) -> None:
        self._new.append({c: getattr(event, c) for c in _EVENT_COLUMNS})

    def write_changes(self) -> None:
        if self._new:
            new, self._new = self._new, []
            insert_rows(self.session, tables.events, new)

    def forget(self) -> None:
        self._new = []

    def get(self, event_id: str) -> WebhookEvent | None:
        self._write_unwritten()
        return self.session.get(tables.StoredEvent, event_id)

    def by_ids(self, event_ids: list[str]) -> dict[str, WebhookEvent]:
        self._write_unwritten()
        if not event_ids:
            return {}
        return {e.event_id: e for e in self.session.scalars(
            select(tables.StoredEvent).where(tables.events.c.event_id.in_(set(event_ids))))}

    def of_order(self, order_id: str) -> list[WebhookEvent]:
        self._write_unwritten()
        e = tables.events.c
        return list(self.session.scalars(select(tables.StoredEvent).where(e.order_id == order_id).order_by(e.event_id)))


class Deliveries:
    def __init__(self, session: Session, write_unwritten: WriteUnwritten):
        self.session = session
        self._write_unwritten = write_unwritten
        self._new: list[dict[str, Any]] = []  # added, not yet written

    def add(self, delivery: Delivery) -> None:
        self._new.append({c: getattr(delivery, c) for c in _DELIVERY_COLUMNS})

    def write_changes(self) -> None:
        if self._new:  # after their events (foreign key): the unit of work writes events first
            new, self._new = self._new, []
            insert_rows(self.session, tables.deliveries, new)

    def forget(self) -> None:
        self._new = []

    def get(self, delivery_id: str, *, merchant_id: str | None = None, lock: bool = False) -> Delivery | None:
        self._write_unwritten()
        d = tables.deliveries.c
        stmt = select(tables.StoredDelivery).where(d.delivery_id == delivery_id)
        if merchant_id is not None:
            stmt = stmt.where(d.merchant_id == merchant_id)
        return self.session.scalars(stmt.with_for_update() if lock else stmt).first()

    def page(self, merchant_id: str, *, endpoint_id: str | None, event_id: str | None, status: str | None,
             limit: int, cursor: str | None, order_id: str | None = None) -> tuple[list[Delivery], str | None]:
        self._write_unwritten()
        d = tables.deliveries.c
        stmt = select(tables.StoredDelivery).where(d.merchant_id == merchant_id)
        for column, value in ((d.endpoint_id, endpoint_id), (d.event_id, event_id), (d.status, status)):
            if value is not None:
                stmt = stmt.where(column == value)
        if order_id is not None:
            # The order's events by ix_events_order, then their deliveries by ix_deliveries_event.
            e = tables.events.c
            stmt = stmt.where(d.event_id.in_(select(e.event_id).where(e.order_id == order_id)))
        return paginate(self.session, stmt, d.created_at, d.delivery_id, limit, cursor)

    def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
        self._write_unwritten()
        out: dict[str, list[Attempt]] = {i: [] for i in delivery_ids}
        if delivery_ids:
            a = tables.attempts.c
            for attempt in self.session.scalars(select(tables.StoredAttempt).where(a.delivery_id.in_(delivery_ids))
                                                .order_by(a.attempted_at, a.attempt_id)):
                out[attempt.delivery_id].append(attempt)
        return out

    def attempts_of_events(self, event_ids: list[str]) -> list[Attempt]:
        self._write_unwritten()
        if not event_ids:
            return []
        a, d = tables.attempts.c, tables.deliveries.c
        stmt = (select(tables.StoredAttempt).join(tables.deliveries, a.delivery_id == d.delivery_id)
                .where(d.event_id.in_(set(event_ids))))
        return list(self.session.scalars(stmt))

    def claim_due(self, now: datetime, limit: int,
                  skip_endpoints: Set[str] = frozenset()) -> list[tuple[Delivery, str, Endpoint]]:
        """One joined Core query. SKIP LOCKED on PostgreSQL; on SQLite the BEGIN IMMEDIATE of our
        engine serialises writers. The caller leases them (`lease`) and commits, so the rows stay
        out of other polls after the lock ends."""
        self._write_unwritten()
        rows = _DUE.all(self.session, sorted(skip_endpoints), now=now, limit=limit)
        return _deliveries_with_endpoints(rows)

    def lease(self, delivery_ids: list[str], until: datetime) -> None:
        """Lease claimed deliveries (one UPDATE for the lot: they share the lease's end)."""
        if delivery_ids:
            _LEASE.execute(self.session, delivery_ids, until=until)

    def to_settle(self, delivery_ids: list[str]) -> dict[str, tuple[Delivery, str, Endpoint]]:
        """One Core query; plain objects outside the session (`save_settled` writes them back), not
        ORM rows."""
        self._write_unwritten()
        rows = _DELIVERIES_TO_SETTLE.all(self.session, sorted(set(delivery_ids)))
        return {delivery.delivery_id: (delivery, body, endpoint)
                for delivery, body, endpoint in _deliveries_with_endpoints(rows)}

    def save_settled(self, attempts: list[Attempt], deliveries: Iterable[Delivery]) -> None:
        """Attempts in one INSERT; the deliveries settled alike in one UPDATE by id (a burst of
        successes: all of them), any others in one executemany."""
        if attempts:
            insert_rows(self.session, tables.attempts,
                        [{c: getattr(a, c) for c in _ATTEMPT_COLUMNS} for a in attempts])
        states = {x.delivery_id: tuple(getattr(x, c) for c in _SETTLED_DELIVERY_COLUMNS) for x in deliveries}
        if len(set(states.values())) == 1:
            values = dict(zip(_SETTLED_DELIVERY_COLUMNS, next(iter(states.values())), strict=True))
            _UPDATE_SETTLED_DELIVERIES.execute(self.session, list(states), **values)
        elif states:  # retries among them (each its own jittered time): one call still
            self.session.execute(_UPDATE_SETTLED_DELIVERY, [
                {"b_delivery_id": i, **dict(zip(_SETTLED_DELIVERY_COLUMNS, state, strict=True))}
                for i, state in states.items()])

    def abandon_pending(self, endpoint_id: str) -> None:
        self._write_unwritten()
        d = tables.deliveries.c
        self.session.execute(
            update(tables.deliveries).where(d.endpoint_id == endpoint_id, d.status == "pending")
            .values(status="failed", next_attempt_at=None, manual_pending=False, resume_at=None, lease_expires_at=None))


class RevokedApiKeys:
    def __init__(self, session: Session):
        self.session = session

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        record_revocation(self.session, merchant_id, key_id, revoked_at)


def _deliveries_with_endpoints(rows: list[Any]) -> list[tuple[Delivery, str, Endpoint]]:
    """Rows of `_DELIVERY_WITH_EVENT_AND_ENDPOINT` as (delivery, event body, endpoint); one
    Endpoint object per endpoint."""
    out: list[tuple[Delivery, str, Endpoint]] = []
    endpoints: dict[str, Endpoint] = {}
    for row in rows:
        fields = row._asdict()
        body = fields.pop("body")
        endpoint_fields = {name: fields.pop(label) for name, label in _ENDPOINT_FIELDS}
        endpoint = endpoints.get(endpoint_fields["endpoint_id"])
        if endpoint is None:
            endpoint = endpoints[endpoint_fields["endpoint_id"]] = Endpoint(**endpoint_fields)
        out.append((Delivery(**fields), body, endpoint))
    return out
