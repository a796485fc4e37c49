"""The unit of work with this service's repositories (queries live here, rules in the domain)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from tillkey.fulfillment.adapters import rows, tables
from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.domain.sources import DEFAULT_LOW_STOCK_THRESHOLD, LicenseSource, Pool
from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.pagination import paginate
from tillkey.platform.sql import insert_unless_present

IN_CHUNK = 500  # keep IN (...) lists well under every database's parameter limit


class FulfillmentUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, *args, clock: Clock | None = None, crypto=None,
                 calls_scheduled: threading.Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()
        self.crypto = crypto  # adapters.license_crypto.LicenseCrypto: signs and hashes generated keys
        self._calls_scheduled = calls_scheduled
        # Orders and pools locked in this transaction, read with Core and written back at commit.
        self._orders: dict[str, _Locked] = {}
        self._pools: dict[str, _Locked] = {}

    def __enter__(self):
        self._orders, self._pools = {}, {}
        return super().__enter__()

    def commit(self) -> None:
        # Locked orders and pools are read and written with Core (`order(lock=True)`, `pool(lock=True)`):
        # their changes go into this transaction just before it commits, as the ORM's flush would have.
        self._write_changes()
        super().commit()

    def rollback(self) -> None:
        self._orders, self._pools = {}, {}  # what was read under the rolled-back transaction's locks is stale
        super().rollback()

    def web_service_call_scheduled(self) -> None:
        """A line now waits for a call to the merchant's web service: the consumer wakes the call
        worker after its batch commits (and only then: waking it for every batch cost a claim query
        per batch that found nothing). Set before the commit, so a rolled-back batch only costs a
        needless wake-up, never a missed one."""
        if self._calls_scheduled is not None:
            self._calls_scheduled.set()

    def add(self, obj) -> None:
        self._open_session().add(obj)

    def flush(self) -> None:
        self._open_session().flush()

    def _write_changes(self) -> None:
        """UPDATE the columns that changed on the orders, their deliveries and the pools locked in
        this transaction: one statement per table and set of changed columns (an executemany for
        many rows). Their locks end with the commit, so they are forgotten."""
        orders, pools, self._orders, self._pools = self._orders, self._pools, {}, {}
        if not orders and not pools:
            return
        conn = self._open_session().connection()
        lines: dict[tuple[str, ...], list[rows.Values]] = {}
        for locked in orders.values():
            order = locked.obj
            if changes := rows.changed(locked.values, rows.order_values(order)):
                conn.execute(_UPDATE_ORDER, {"b_key": order.order_id, **changes})
            current = order.__dict__.get("deliveries")
            if not isinstance(current, list) or {d.line_id for d in current} != locked.lines.keys():
                raise RuntimeError(f"the deliveries of order {order.order_id} were replaced; lines never change")
            for line in current:
                if changes := rows.changed(locked.lines[line.line_id], rows.delivery_values(line)):
                    lines.setdefault(tuple(changes), []).append({"b_key": line.line_id, **changes})
        for params in lines.values():
            conn.execute(_UPDATE_DELIVERY, params)
        for locked in pools.values():
            pool = locked.obj
            if changes := rows.changed(locked.values, {k: getattr(pool, k) for k in locked.values}):
                conn.execute(_UPDATE_POOL, {"b_key": pool.product_id, **changes})

    # -- products and orders -----------------------------------------------------------------
    def product(self, product_id: str) -> Product | None:
        return self._open_session().get(Product, product_id)

    def order(self, order_id: str, *, lock: bool = False) -> Order | None:
        """`lock`: the order's row held until commit (PostgreSQL `FOR UPDATE`; SQLite serializes
        writers anyway): two payment events of one order must not start a line twice.

        A locked order comes with its deliveries, read with Core statements (one each), detached
        from the ORM; the columns that change on them are written when the unit of work commits.
        Asked for again in the same transaction (a batch, or unlocked after), it is the same
        object, with the changes made so far. Unlocked and not locked before: the ORM's."""
        known = self._orders.get(order_id)
        if known is not None:
            return known.obj
        session = self._open_session()
        if not lock:
            return session.get(Order, order_id)
        session.flush()  # what the ORM holds changed is in the rows read below (its own get autoflushed)
        conn = session.connection()
        row = conn.execute(_LOCK_ORDER, {"b_key": order_id}).mappings().first()
        if row is None:
            return None
        order = rows.order_from(row)
        # Read after the order's row is locked: a line is only ever changed under that lock.
        lines = [rows.delivery_from(m) for m in conn.execute(_LINES_OF_ORDER, {"b_key": order_id}).mappings()]
        # Into the instance's dict, past the ORM's instrumentation: a detached order's deliveries
        # are a plain list (the ORM never flushes them; _write_changes does).
        order.__dict__["deliveries"] = lines
        self._orders[order_id] = _Locked(order, rows.kept(dict(row)),
                                         {d.line_id: rows.kept(rows.delivery_values(d)) for d in lines})
        return order

    def add_order_unless_known(self, order: Order) -> bool:
        """A new order and its deliveries, in Core statements (the order's INSERT … ON CONFLICT DO
        NOTHING, then one executemany INSERT of its deliveries): False, and nothing written, when an
        order with its id is here already (orders re-emitting order.created)."""
        session = self._open_session()
        if not insert_unless_present(session, tables.orders, rows.order_values(order), conflict_on="order_id"):
            return False
        if order.deliveries:
            session.connection().execute(_INSERT_DELIVERY, [rows.delivery_values(d) for d in order.deliveries])
        return True

    def order_for_reading(self, order_id: str) -> Order | None:
        """The order with its deliveries loaded, for the HTTP edge (detached on exit)."""
        order = self.order(order_id)
        if order is not None:
            list(order.deliveries)
        return order

    def delivery(self, line_id: str, *, lock: bool = False) -> Delivery | None:
        return self._open_session().get(Delivery, line_id, with_for_update=True if lock else None)

    # -- sources and pools ---------------------------------------------------------------------
    def source(self, product_id: str) -> LicenseSource | None:
        """The ORM's: for the merchant's edits of it."""
        return self._open_session().get(LicenseSource, product_id)

    def delivery_source(self, product_id: str) -> LicenseSource | None:
        """The product's source to deliver a line by, only read: one Core statement, detached."""
        row = self._open_session().connection().execute(_SOURCE, {"b_key": product_id}).mappings().first()
        return LicenseSource(**row) if row is not None else None

    def pool(self, product_id: str, *, lock: bool = False) -> Pool | None:
        """With `lock`, claims and uploads of one product take turns (a row lock on PostgreSQL; on
        SQLite BEGIN IMMEDIATE already made this transaction the only writer). A locked pool is
        read with Core, detached, and its changed columns written at commit; asked for again in
        the same transaction, it is the same object."""
        known = self._pools.get(product_id)
        if known is not None:
            return known.obj
        session = self._open_session()
        if not lock:
            return session.get(Pool, product_id)
        session.flush()
        row = session.connection().execute(_LOCK_POOL, {"b_key": product_id}).mappings().first()
        if row is None:
            return None
        pool = Pool(**row)
        self._pools[product_id] = _Locked(pool, dict(row))
        return pool

    def lock_pool(self, product_id: str, merchant_id: str) -> Pool:
        """The product's pool row, created if missing, locked for this transaction.

        Two first uploads at once both find no row: the loser's insert fails inside a savepoint
        (the transaction survives) and it locks the winner's row instead of answering 500.
        """
        pool = self.pool(product_id, lock=True)
        if pool is None:
            session = self._open_session()
            try:
                with session.begin_nested():
                    session.execute(tables.pools.insert().values(
                        product_id=product_id, merchant_id=merchant_id,
                        low_stock_threshold=DEFAULT_LOW_STOCK_THRESHOLD, alarm_armed=True))
            except IntegrityError:
                pass
            pool = self.pool(product_id, lock=True)
            if pool is None:  # inserted here or by the other transaction: the row is there
                raise RuntimeError(f"no pool row for product {product_id} after inserting it")
        return pool

    def pool_counts(self, product_id: str) -> tuple[int, int]:
        """(available, issued) keys of the product's pool."""
        k = tables.license_keys.c
        free = func.sum(case((k.line_id.is_(None), 1), else_=0))
        row = self._open_session().execute(select(func.count(), free).where(k.product_id == product_id)).one()
        total, available = row[0] or 0, row[1] or 0
        return int(available), int(total - available)

    def available_keys(self, product_id: str, up_to: int) -> int:
        """How many keys are left in the pool, counted no further than `up_to`: a claim only asks
        whether the pool fell below a threshold, and counting every key of a large pool (what
        `pool_counts` does) on every claim cost the database time in proportion to the pool."""
        k = tables.license_keys.c
        free = (select(k.seq).where(k.product_id == product_id, k.line_id.is_(None))
                .limit(max(0, up_to)).subquery())
        return int(self._open_session().scalar(select(func.count()).select_from(free)) or 0)

    def claim_keys(self, product_id: str, quantity: int, line_id: str, now: datetime) -> list[str] | None:
        """`quantity` keys taken from the pool for the line, oldest first, or None (nothing taken).

        FOR UPDATE SKIP LOCKED: a key locked by another transaction is never read here, so two
        claimers can never both take it; the update below marks ours before the locks are released.
        Callers hold the pool row's lock (`pool(lock=True)`) as well: under READ COMMITTED a row that
        another claimer took just before is dropped from a LIMIT query after the recheck and not
        replaced, so without turns a claim could come back short while keys remain — never doubled,
        but a line would wait for nothing.
        """
        k = tables.license_keys.c
        rows = self._open_session().execute(
            select(k.seq, k.key).where(k.product_id == product_id, k.line_id.is_(None))
            .order_by(k.seq).limit(quantity).with_for_update(skip_locked=True)).all()
        if len(rows) < quantity:
            return None
        # cast: an UPDATE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
        taken = cast(CursorResult[Any], self._open_session().execute(
            update(tables.license_keys).where(k.seq.in_([r.seq for r in rows]), k.line_id.is_(None))
            .values(line_id=line_id, issued_at=now)))
        if taken.rowcount != quantity:  # cannot happen under the locks; refuse rather than hand out twice
            raise RuntimeError(f"claimed {taken.rowcount} of {quantity} pool keys for {line_id}")
        return [r.key for r in rows]

    def existing_keys(self, product_id: str, keys: list[str]) -> set[str]:
        k = tables.license_keys.c
        found: set[str] = set()
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start:start + IN_CHUNK]
            found.update(self._open_session().scalars(
                select(k.key).where(k.product_id == product_id, k.key.in_(chunk))))
        return found

    def insert_keys(self, product_id: str, keys: list[str], now: datetime) -> None:
        if keys:
            self._open_session().execute(tables.license_keys.insert(),
                                 [{"product_id": product_id, "key": key, "added_at": now} for key in keys])

    def lines_waiting_for_pool(self, product_id: str) -> list[Delivery]:
        """Lines that fell back to the merchant because the pool ran short, oldest order first."""
        d, o = tables.deliveries.c, tables.orders.c
        stmt = (select(Delivery).join(tables.orders, o.order_id == d.order_id)
                .where(d.product_id == product_id, d.status == "awaiting_merchant", d.fallback_from == "pool")
                .order_by(o.created_at, o.order_id, d.position).with_for_update(of=tables.deliveries))
        return list(self._open_session().scalars(stmt))

    # -- the web-service call schedule ---------------------------------------------------------
    def due_web_service_lines(self, now: datetime, limit: int) -> list[Delivery]:
        """Lines whose call is due and not leased, oldest due first, locked so a second worker skips them."""
        d = tables.deliveries.c
        stmt = (select(Delivery).where(d.status == "pending", d.method == "web_service", d.next_attempt_at <= now,
                                       or_(d.lease_expires_at.is_(None), d.lease_expires_at <= now))
                .order_by(d.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
        return list(self._open_session().scalars(stmt))

    def next_web_service_call_at(self) -> datetime | None:
        """When the earliest pending call falls due: its retry time, or its lease's end if later."""
        d = tables.deliveries.c
        due = case((d.lease_expires_at > d.next_attempt_at, d.lease_expires_at), else_=d.next_attempt_at)
        return self._open_session().scalar(
            select(func.min(due)).where(d.status == "pending", d.method == "web_service"))

    # -- generated keys and their activations ---------------------------------------------------
    def signing_key(self, product_id: str) -> SigningKey | None:
        return self._open_session().get(SigningKey, product_id)

    def generated_key_by_hash(self, key_hash: str) -> tuple[GeneratedKey | None, int]:
        """The key and how many activations it has, in one indexed query whether it exists or not:
        a guess costs what a real key costs (no second query only real keys make)."""
        g, a = tables.generated_keys.c, tables.activations.c
        count = select(func.count()).where(a.key_id == g.key_id).correlate(tables.generated_keys).scalar_subquery()
        row = self._open_session().execute(select(GeneratedKey, count).where(g.key_hash == key_hash)).first()
        return (row[0], int(row[1])) if row is not None else (None, 0)

    def generated_key_for_update(self, key_hash: str) -> GeneratedKey | None:
        """Locked: activations of one key take turns, and count what the one before committed."""
        g = tables.generated_keys.c
        return self._open_session().scalars(
            select(GeneratedKey).where(g.key_hash == key_hash).with_for_update()).first()

    def activation_counts(self, key_ids: list[str]) -> dict[str, int]:
        a = tables.activations.c
        counts: dict[str, int] = {}
        for start in range(0, len(key_ids), IN_CHUNK):
            chunk = key_ids[start:start + IN_CHUNK]
            rows = self._open_session().execute(
                select(a.key_id, func.count()).where(a.key_id.in_(chunk)).group_by(a.key_id))
            counts.update({key_id: int(n) for key_id, n in rows})
        return counts

    def generated_key(self, key_id: str, *, lock: bool = False) -> GeneratedKey | None:
        return self._open_session().get(GeneratedKey, key_id, with_for_update=True if lock else None)

    def generated_keys_of_order(self, order_id: str, *, lock: bool = False) -> list[GeneratedKey]:
        g = tables.generated_keys.c
        stmt = select(GeneratedKey).where(g.order_id == order_id).order_by(g.line_id, g.position)
        if lock:
            stmt = stmt.with_for_update()
        return list(self._open_session().scalars(stmt))

    def generated_keys_page(self, product_id: str, limit: int, cursor: str | None):
        g = tables.generated_keys.c
        return paginate(self._open_session(), select(GeneratedKey).where(g.product_id == product_id),
                        g.issued_at, g.key_id, limit, cursor)

    def tokens_of_lines(self, line_ids: list[str]) -> dict[str, list[str]]:
        g = tables.generated_keys.c
        tokens: dict[str, list[str]] = {}
        if line_ids:
            rows = self._open_session().execute(select(g.line_id, g.token).where(g.line_id.in_(line_ids))
                                        .order_by(g.line_id, g.position))
            for line_id, token in rows:
                tokens.setdefault(line_id, []).append(token)
        return tokens

    def activations_of(self, key_id: str) -> list[Activation]:
        a = tables.activations.c
        return list(self._open_session().scalars(select(Activation).where(a.key_id == key_id)
                                         .order_by(a.created_at, a.activation_id)))

    def activation(self, activation_id: str) -> Activation | None:
        return self._open_session().get(Activation, activation_id)

    def delete(self, obj) -> None:
        self._open_session().delete(obj)

    def delete_activations_of(self, key_ids: list[str]) -> int:
        if not key_ids:
            return 0
        # cast: a DELETE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
        deleted = cast(CursorResult[Any], self._open_session().execute(
            delete(tables.activations).where(tables.activations.c.key_id.in_(key_ids))))
        return deleted.rowcount


@dataclass(eq=False)
class _Locked:
    """An order or pool locked in this transaction, its columns as read (`values`) and, for an
    order, its deliveries' columns as read by line id (`lines`)."""

    obj: Any
    values: rows.Values
    lines: dict[str, rows.Values] = field(default_factory=dict)


# Built once: a statement's cache key is computed once per statement object, and these run per message.
_o, _d, _p = tables.orders.c, tables.deliveries.c, tables.pools.c
_INSERT_DELIVERY = tables.deliveries.insert()
_LOCK_ORDER = select(tables.orders).where(_o.order_id == bindparam("b_key")).with_for_update()
_LINES_OF_ORDER = select(tables.deliveries).where(_d.order_id == bindparam("b_key")).order_by(_d.position)
# No values(): the SET clause is the parameters' columns, b_key aside (SQLAlchemy caches one per set).
_UPDATE_ORDER = update(tables.orders).where(_o.order_id == bindparam("b_key"))
_UPDATE_DELIVERY = update(tables.deliveries).where(_d.line_id == bindparam("b_key"))
_UPDATE_POOL = update(tables.pools).where(_p.product_id == bindparam("b_key"))
_SOURCE = select(tables.license_sources).where(tables.license_sources.c.product_id == bindparam("b_key"))
_LOCK_POOL = select(tables.pools).where(_p.product_id == bindparam("b_key")).with_for_update()
