"""The unit of work with this service's repositories (queries live here, rules in the domain)."""
from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.platform.clock import Clock
from tillkey.platform.pagination import paginate
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, OrderRecord, WebhookEvent

# The delivery worker's statements run for every claim and every batch it records: built once per
# process (no statement building and cache-key work per call); ids go in an expanding IN. A
# delivery comes with its event's body and its endpoint's row in one joined query, the lock on
# the delivery only (FOR UPDATE OF): an endpoint is locked after, and only when it may change.
_ENDPOINT_FIELDS = tuple((c.name, f"endpoint__{c.name}") for c in tables.endpoints.columns)
_DELIVERY_WITH_EVENT_AND_ENDPOINT = (
    select(tables.deliveries, tables.events.c.body, *(tables.endpoints.c[name].label(label)
                                                      for name, label in _ENDPOINT_FIELDS))
    .join(tables.events, tables.events.c.event_id == tables.deliveries.c.event_id)
    .join(tables.endpoints, tables.endpoints.c.endpoint_id == tables.deliveries.c.endpoint_id))
_DELIVERIES_TO_SETTLE = (
    _DELIVERY_WITH_EVENT_AND_ENDPOINT
    .where(tables.deliveries.c.delivery_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.deliveries.c.delivery_id).with_for_update(of=tables.deliveries))
_DUE = (
    _DELIVERY_WITH_EVENT_AND_ENDPOINT
    .where(tables.deliveries.c.status == "pending", tables.deliveries.c.next_attempt_at <= bindparam("now"),
           or_(tables.deliveries.c.lease_expires_at.is_(None),
               tables.deliveries.c.lease_expires_at <= bindparam("now")),
           tables.deliveries.c.endpoint_id.not_in(bindparam("skip", expanding=True)))
    .order_by(tables.deliveries.c.next_attempt_at).limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=tables.deliveries))
_LEASE = (update(tables.deliveries).where(tables.deliveries.c.delivery_id.in_(bindparam("ids", expanding=True)))
          .values(lease_expires_at=bindparam("until")))
_LIVE_ENDPOINTS = (
    select(tables.endpoints).where(tables.endpoints.c.merchant_id.in_(bindparam("ids", expanding=True)),
                                   tables.endpoints.c.enabled.is_(True), tables.endpoints.c.deleted_at.is_(None))
    .order_by(tables.endpoints.c.created_at, tables.endpoints.c.endpoint_id))
_ENDPOINTS_LOCKED = (
    select(tables.endpoints).where(tables.endpoints.c.endpoint_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.endpoints.c.endpoint_id).with_for_update())
# Taking an event in locks its order's record: read with Core, written back at commit (one
# INSERT of the new records, one UPDATE of the changed ones), not loaded and flushed by the ORM.
_ORDER_RECORDS_LOCKED = (
    select(tables.order_records).where(tables.order_records.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.order_records.c.order_id).with_for_update())
_ORDER_RECORD_COLUMNS = tuple(c.name for c in tables.order_records.columns)
_CHANGING_ORDER_RECORD_COLUMNS = ("custom", "next_sequence", "erased_at")
_INSERT_ORDER_RECORDS = tables.order_records.insert()
_UPDATE_ORDER_RECORD = update(tables.order_records).where(
    tables.order_records.c.order_id == bindparam("b_order_id"))
_EVENT_COLUMNS = tuple(c.name for c in tables.events.columns)
_DELIVERY_COLUMNS = tuple(c.name for c in tables.deliveries.columns)
# What recording an attempt writes (domain/policy.py settle): the attempt's row, and these columns.
_ATTEMPT_COLUMNS = tuple(c.name for c in tables.attempts.columns)
_SETTLED_DELIVERY_COLUMNS = ("status", "next_attempt_at", "scheduled_attempts", "lease_expires_at",
                             "manual_pending", "resume_at", "last_attempt_at")
_SETTLED_ENDPOINT_COLUMNS = ("enabled", "disabled_reason", "failing_since")
_INSERT_EVENTS, _INSERT_DELIVERIES, _INSERT_ATTEMPTS = (
    tables.events.insert(), tables.deliveries.insert(), tables.attempts.insert())
_UPDATE_SETTLED_DELIVERY = update(tables.deliveries).where(
    tables.deliveries.c.delivery_id == bindparam("b_delivery_id"))
_UPDATE_SETTLED_ENDPOINT = update(tables.endpoints).where(
    tables.endpoints.c.endpoint_id == bindparam("b_endpoint_id"))


def _settled_state(endpoint: Endpoint) -> tuple:
    return tuple(getattr(endpoint, c) for c in _SETTLED_ENDPOINT_COLUMNS)


def _record_state(record: OrderRecord) -> tuple:
    return (dict(record.custom), record.next_sequence, record.erased_at)


class WebhooksUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock  # handlers read time here, so tests can move it
        self._live_endpoints: dict[str, list[Endpoint]] = {}
        self._order_records: dict[str, OrderRecord | None] = {}  # locked in this transaction
        self._records_as_written: dict[str, tuple] = {}  # what the database holds of them (`_write_records`)
        self._new_records: list[OrderRecord] = []  # added, not yet written
        self._endpoints_as_loaded: dict[str, tuple] = {}  # by endpoints_locked, for save_endpoints
        self._new_events: list[dict] = []  # taken in, not yet written (`add_new_event`)
        self._new_deliveries: list[dict] = []

    def __enter__(self) -> WebhooksUnitOfWork:
        super().__enter__()
        self._forget_unwritten()
        return self

    def _forget_unwritten(self) -> None:
        self._new_events, self._new_deliveries, self._new_records = [], [], []
        self._order_records, self._records_as_written = {}, {}

    def add(self, obj) -> None:
        self._open_session().add(obj)

    def flush(self) -> None:
        self._write_new()
        self._open_session().flush()

    def commit(self) -> None:
        self._write_new()
        super().commit()

    def rollback(self) -> None:
        self._forget_unwritten()
        super().rollback()

    # -- events taken in -------------------------------------------------------------------
    def add_new_event(self, event: WebhookEvent, deliveries: list[Delivery]) -> None:
        """An event taken in and its deliveries, written with the rest of the transaction's at
        commit: one executemany INSERT of events and one of deliveries for a consumer's whole
        batch. Every query here that reads events or deliveries writes them first (`_write_new`),
        so the transaction still reads what it wrote (an order.deleted erasing an order.created
        taken in earlier in its batch)."""
        self._new_events.append({c: getattr(event, c) for c in _EVENT_COLUMNS})
        self._new_deliveries.extend({c: getattr(d, c) for c in _DELIVERY_COLUMNS} for d in deliveries)

    def _write_new(self) -> None:
        self._write_records()
        if self._new_events:
            events, self._new_events = self._new_events, []
            self._open_session().execute(_INSERT_EVENTS, events)
        if self._new_deliveries:  # after their events (foreign key)
            deliveries, self._new_deliveries = self._new_deliveries, []
            self._open_session().execute(_INSERT_DELIVERIES, deliveries)

    # -- endpoints -------------------------------------------------------------------------
    def endpoint(self, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        """The merchant's live endpoint; another merchant's or a deleted one is simply not found."""
        stmt = select(Endpoint).where(tables.endpoints.c.endpoint_id == endpoint_id,
                                      tables.endpoints.c.merchant_id == merchant_id,
                                      tables.endpoints.c.deleted_at.is_(None))
        return self._open_session().scalars(stmt.with_for_update() if lock else stmt).first()

    def endpoint_by_id(self, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        return self._open_session().get(Endpoint, endpoint_id, with_for_update=lock)

    def endpoints_page(self, merchant_id: str, limit: int, cursor: str | None):
        e = tables.endpoints.c
        stmt = select(Endpoint).where(e.merchant_id == merchant_id, e.deleted_at.is_(None))
        return paginate(self._open_session(), stmt, e.created_at, e.endpoint_id, limit, cursor)

    def live_endpoints(self, merchant_id: str) -> list[Endpoint]:
        """Read once per unit of work: a consumer's batch asks once for all its merchants
        (`load_live_endpoints`, its prefetch), the one-by-one path once per merchant."""
        if merchant_id not in self._live_endpoints:
            self.load_live_endpoints({merchant_id})
        return self._live_endpoints[merchant_id]

    def load_live_endpoints(self, merchant_ids: Set[str]) -> None:
        """The enabled endpoints of these merchants in one Core query, as plain objects outside
        the session: taking an event in only reads them (ORM loading them was most of its cost)."""
        todo = sorted(set(merchant_ids) - self._live_endpoints.keys())
        if not todo:
            return
        for merchant_id in todo:
            self._live_endpoints[merchant_id] = []
        for row in self._open_session().execute(_LIVE_ENDPOINTS, {"ids": todo}).mappings():
            self._live_endpoints[row["merchant_id"]].append(Endpoint(**row))

    def abandon_pending(self, endpoint_id: str) -> None:
        """A disabled or deleted endpoint's pending deliveries end `failed` (redeliver brings one back)."""
        self._write_new()
        d = tables.deliveries.c
        self._open_session().execute(
            update(tables.deliveries).where(d.endpoint_id == endpoint_id, d.status == "pending")
            .values(status="failed", next_attempt_at=None, manual_pending=False, resume_at=None, lease_expires_at=None))

    # -- orders and events -----------------------------------------------------------------
    def order_record(self, order_id: str) -> OrderRecord | None:
        # Locked: two consumers taking two events of one order must not hand out the same sequence.
        self.lock_order_records({order_id})
        return self._order_records[order_id]

    def order_owner(self, order_id: str) -> str | None:
        """The merchant of an order taken in here (read only: no lock, no sequence)."""
        self._write_new()
        return self._open_session().scalar(select(tables.order_records.c.merchant_id)
                                   .where(tables.order_records.c.order_id == order_id))

    def lock_order_records(self, order_ids: Set[str]) -> None:
        """Load and lock a batch's order records in one query (in id order, as every other batch
        locks them: no deadlock between consumers); `order_record` then answers from memory. Plain
        objects outside the session: what changes on them is written at commit (`_write_records`)."""
        todo = sorted(set(order_ids) - self._order_records.keys())
        if not todo:
            return
        for order_id in todo:
            self._order_records[order_id] = None
        for row in self._open_session().execute(_ORDER_RECORDS_LOCKED, {"ids": todo}).mappings():
            record = self._order_records[row["order_id"]] = OrderRecord(**row)
            self._records_as_written[record.order_id] = _record_state(record)

    def add_order_record(self, record: OrderRecord) -> None:
        """Inserted with the transaction's other new records before its next query or at commit."""
        self._new_records.append(record)
        self._order_records[record.order_id] = record

    def _write_records(self) -> None:
        """The new order records in one INSERT, the changed ones (a sequence taken, an erasure) in
        one UPDATE of the columns that change."""
        session = self._open_session()
        new, self._new_records = self._new_records, []
        if new:
            session.execute(_INSERT_ORDER_RECORDS, [{c: getattr(r, c) for c in _ORDER_RECORD_COLUMNS} for r in new])
            for record in new:
                self._records_as_written[record.order_id] = _record_state(record)
        changed = [r for order_id, written in self._records_as_written.items()
                   if (r := self._order_records.get(order_id)) is not None and _record_state(r) != written]
        if changed:
            session.execute(_UPDATE_ORDER_RECORD, [
                {"b_order_id": r.order_id, **{c: getattr(r, c) for c in _CHANGING_ORDER_RECORD_COLUMNS}}
                for r in changed])
            for record in changed:
                self._records_as_written[record.order_id] = _record_state(record)

    def event(self, event_id: str) -> WebhookEvent | None:
        self._write_new()
        return self._open_session().get(WebhookEvent, event_id)

    def events_by_ids(self, event_ids: list[str]) -> dict[str, WebhookEvent]:
        self._write_new()
        if not event_ids:
            return {}
        return {e.event_id: e for e in self._open_session().scalars(
            select(WebhookEvent).where(tables.events.c.event_id.in_(set(event_ids))))}

    def events_of_order(self, order_id: str) -> list[WebhookEvent]:
        self._write_new()
        e = tables.events.c
        return list(self._open_session().scalars(
            select(WebhookEvent).where(e.order_id == order_id).order_by(e.event_id)))

    def attempts_of_events(self, event_ids: list[str]) -> list[Attempt]:
        """Every attempt of every delivery of these events (to erase echoes of their bodies)."""
        self._write_new()
        if not event_ids:
            return []
        a, d = tables.attempts.c, tables.deliveries.c
        return list(self._open_session().scalars(select(Attempt).join(tables.deliveries, a.delivery_id == d.delivery_id)
                                         .where(d.event_id.in_(set(event_ids)))))

    # -- deliveries ------------------------------------------------------------------------
    def delivery(self, delivery_id: str, *, merchant_id: str | None = None, lock: bool = False) -> Delivery | None:
        self._write_new()
        d = tables.deliveries.c
        stmt = select(Delivery).where(d.delivery_id == delivery_id)
        if merchant_id is not None:
            stmt = stmt.where(d.merchant_id == merchant_id)
        return self._open_session().scalars(stmt.with_for_update() if lock else stmt).first()

    def deliveries_page(self, merchant_id: str, *, endpoint_id: str | None, event_id: str | None,
                        status: str | None, limit: int, cursor: str | None, order_id: str | None = None):
        self._write_new()
        d = tables.deliveries.c
        stmt = select(Delivery).where(d.merchant_id == merchant_id)
        for column, value in ((d.endpoint_id, endpoint_id), (d.event_id, event_id), (d.status, status)):
            if value is not None:
                stmt = stmt.where(column == value)
        if order_id is not None:
            # The order's events by ix_events_order, then their deliveries by ix_deliveries_event.
            e = tables.events.c
            stmt = stmt.where(d.event_id.in_(select(e.event_id).where(e.order_id == order_id)))
        return paginate(self._open_session(), stmt, d.created_at, d.delivery_id, limit, cursor)

    def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
        """Attempts of a page of deliveries in one query, oldest first."""
        self._write_new()
        out: dict[str, list[Attempt]] = {i: [] for i in delivery_ids}
        if delivery_ids:
            a = tables.attempts.c
            for attempt in self._open_session().scalars(select(Attempt).where(a.delivery_id.in_(delivery_ids))
                                                .order_by(a.attempted_at, a.attempt_id)):
                out[attempt.delivery_id].append(attempt)
        return out

    def deliveries_to_settle(self, delivery_ids: list[str]) -> dict[str, tuple[Delivery, str, Endpoint]]:
        """The deliveries whose attempts are being recorded, locked in id order, each with its
        event's body as stored now and its endpoint as read (NOT locked: `endpoints_locked`
        locks, and reads again, the ones an attempt may change): one Core query, and plain
        objects outside the session (`save_settled` writes them back), not ORM rows."""
        self._write_new()
        rows = self._open_session().execute(_DELIVERIES_TO_SETTLE, {"ids": sorted(set(delivery_ids))})
        return {delivery.delivery_id: (delivery, body, endpoint)
                for delivery, body, endpoint in _deliveries_with_endpoints(rows)}

    def endpoints_locked(self, endpoint_ids: list[str]) -> dict[str, Endpoint]:
        """Locked in id order; plain objects outside the session: `save_endpoints` writes back the
        ones an attempt changed."""
        out: dict[str, Endpoint] = {}
        if not endpoint_ids:
            return out
        rows = self._open_session().execute(_ENDPOINTS_LOCKED, {"ids": sorted(set(endpoint_ids))})
        for row in rows.mappings():
            endpoint = out[row["endpoint_id"]] = Endpoint(**row)
            self._endpoints_as_loaded[endpoint.endpoint_id] = _settled_state(endpoint)
        return out

    def save_settled(self, attempts: list[Attempt], deliveries: list[Delivery]) -> None:
        """Attempts in one INSERT and their deliveries in one UPDATE (executemany each)."""
        if attempts:
            self._open_session().execute(_INSERT_ATTEMPTS, [
                {c: getattr(a, c) for c in _ATTEMPT_COLUMNS} for a in attempts])
        if deliveries:
            self._open_session().execute(_UPDATE_SETTLED_DELIVERY, [
                {"b_delivery_id": x.delivery_id, **{c: getattr(x, c) for c in _SETTLED_DELIVERY_COLUMNS}}
                for x in deliveries])

    def save_endpoints(self, endpoints) -> None:
        """Write back what settling changed on endpoints loaded by `endpoints_locked` (usually nothing)."""
        changed = [e for e in endpoints if _settled_state(e) != self._endpoints_as_loaded.get(e.endpoint_id)]
        if changed:
            self._open_session().execute(_UPDATE_SETTLED_ENDPOINT, [
                {"b_endpoint_id": e.endpoint_id, **{c: getattr(e, c) for c in _SETTLED_ENDPOINT_COLUMNS}}
                for e in changed])
            for e in changed:
                self._endpoints_as_loaded[e.endpoint_id] = _settled_state(e)

    def claim_due(self, now: datetime, limit: int,
                  skip_endpoints: Set[str] = frozenset()) -> list[tuple[Delivery, str, Endpoint]]:
        """Due pending deliveries, oldest first, each with its event's body and its endpoint, locked
        so a second worker skips them: one joined Core query.

        SKIP LOCKED on PostgreSQL; on SQLite the BEGIN IMMEDIATE of our engine serialises writers.
        The caller leases them (`lease`) and commits, so the rows stay out of other polls after the
        lock ends.
        """
        self._write_new()
        rows = self._open_session().execute(_DUE, {"now": now, "limit": limit, "skip": sorted(skip_endpoints)})
        return _deliveries_with_endpoints(rows)

    def lease(self, delivery_ids: list[str], until: datetime) -> None:
        """Lease claimed deliveries (one UPDATE for the lot: they share the lease's end)."""
        if delivery_ids:
            self._open_session().execute(_LEASE, {"ids": delivery_ids, "until": until})


def _deliveries_with_endpoints(rows) -> list[tuple[Delivery, str, Endpoint]]:
    """Rows of `_DELIVERY_WITH_EVENT_AND_ENDPOINT` as (delivery, event body, endpoint); one
    Endpoint object per endpoint."""
    out: list[tuple[Delivery, str, Endpoint]] = []
    endpoints: dict[str, Endpoint] = {}
    for row in rows.mappings():
        fields = dict(row)
        body = fields.pop("body")
        endpoint_fields = {name: fields.pop(label) for name, label in _ENDPOINT_FIELDS}
        endpoint = endpoints.get(endpoint_fields["endpoint_id"])
        if endpoint is None:
            endpoint = endpoints[endpoint_fields["endpoint_id"]] = Endpoint(**endpoint_fields)
        out.append((Delivery(**fields), body, endpoint))
    return out
