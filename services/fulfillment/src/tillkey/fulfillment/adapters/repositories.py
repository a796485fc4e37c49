"""SQLAlchemy repositories: the service layer's ports (service_layer/ports.py) over one session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, bindparam, case, delete, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillkey.fulfillment.adapters import rows, tables
from tillkey.fulfillment.domain.errors import Conflict
from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Delivery, Order, Product
from tillkey.fulfillment.domain.sources import DEFAULT_LOW_STOCK_THRESHOLD, LicenseSource, Pool
from tillkey.fulfillment.service_layer.ports import Claimed
from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.pagination import paginate
from tillkey.platform.revoked_keys import record_revocation
from tillkey.platform.sql import insert_unless_present

IN_CHUNK = 500  # keep IN (...) lists well under every database's parameter limit


class Products:
    def __init__(self, session: Session):
        self.session = session

    def get(self, product_id: str) -> Product | None:
        return self.session.get(Product, product_id)

    def add(self, product: Product) -> None:
        self.session.add(product)

    def add_now(self, product: Product) -> None:
        """Flushed at once: a product the consumer stored from product.created since our read (two
        first calls of one product) meets the primary key here, a refusal rather than a 500."""
        self.session.add(product)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"The product {product.product_id} is known already.") from None


class Orders:
    """Locked orders are read with Core, detached, and their changed columns (and their lines')
    written back just before the transaction commits (the unit of work's `writes_back`), as the
    ORM's flush would have: one identity per transaction, forgotten on rollback."""

    def __init__(self, session: Session, sources: Sources | None = None, pools: Pools | None = None):
        self.session = session
        self._locked: dict[str, _Locked] = {}
        self._sources = sources  # told the lines' sources, read with them (Sources.for_delivery)
        self._pools = pools  # told the pools locked with the lines (Pools.get)

    def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        """`lock`: the order's row held until commit (PostgreSQL `FOR UPDATE`; SQLite serializes
        writers anyway): two payment events of one order must not start a line twice.

        A locked order comes with its deliveries, read with Core statements (one each), detached
        from the ORM; the columns that change on them are written when the unit of work commits.
        Asked for again in the same transaction (a batch, or unlocked after), it is the same
        object, with the changes made so far. Unlocked and not locked before: the ORM's."""
        known = self._locked.get(order_id)
        if known is not None:
            return cast(Order, known.obj)
        session = self.session
        if not lock:
            return session.get(Order, order_id)
        session.flush()  # what the ORM holds changed is in the rows read below (its own get autoflushed)
        conn = session.connection()
        row = _LOCK_ORDER.first(conn, {"b_key": order_id})
        if row is None:
            return None
        read = row._asdict()
        order = rows.order_from(read)
        # Read after the order's row is locked: a line is only ever changed under that lock. Each
        # line comes with its product's license source (a LEFT JOIN), which paying the order
        # delivers it by: one statement less per line than asking Sources for it after.
        # A line to start from a pool locks its pool row here too (_LINES_OF_ORDER_LOCKING_POOLS),
        # which taking its keys would do next: one statement less per order paid.
        lines_of_order = _LINES_OF_ORDER_LOCKING_POOLS if conn.dialect.name == "postgresql" else _LINES_OF_ORDER
        found = [line._asdict() for line in lines_of_order.all(conn, {"b_key": order_id})]
        lines = [rows.delivery_from(m) for m in found]
        if self._sources is not None:
            self._sources.read_with_lines({m["product_id"]: rows.source_from(m) for m in found})
        if self._pools is not None:
            self._pools.locked_with_lines([pool for m in found if (pool := rows.pool_values(m)) is not None])
        # Into the instance's dict, past the ORM's instrumentation: a detached order's deliveries
        # are a plain list (the ORM never flushes them; write_changes does).
        order.__dict__["deliveries"] = lines
        self._locked[order_id] = _Locked(order, rows.kept(read),
                                         {d.line_id: rows.kept(rows.delivery_values(d)) for d in lines})
        return order

    def write_changes(self) -> None:
        """UPDATE the columns that changed on the orders locked in this transaction and on their
        deliveries: one statement per table and set of changed columns (an executemany for many
        rows). Their locks end with the commit, so they are forgotten."""
        locked, self._locked = self._locked, {}
        if not locked:
            return
        conn = self.session.connection()
        lines: dict[tuple[str, ...], list[rows.Values]] = {}
        for entry in locked.values():
            order = entry.obj
            if changes := rows.changed(entry.values, rows.order_values(order)):
                _UPDATE_ORDER.execute(conn, {"b_key": order.order_id, **changes})
            current = order.__dict__.get("deliveries")
            if not isinstance(current, list) or {d.line_id for d in current} != entry.lines.keys():
                raise RuntimeError(f"the deliveries of order {order.order_id} were replaced; lines never change")
            for line in current:
                if changes := rows.changed(entry.lines[line.line_id], rows.delivery_values(line)):
                    lines.setdefault(tuple(changes), []).append({"b_key": line.line_id, **changes})
        for params in lines.values():
            _UPDATE_DELIVERY.execute_many(conn, params)

    def forget(self) -> None:
        self._locked = {}  # what was read under the rolled-back transaction's locks is stale

    def add_unless_known(self, order: Order) -> bool:
        """A new order and its deliveries, in Core statements (the order's INSERT … ON CONFLICT DO
        NOTHING, then one INSERT of its deliveries, an executemany for several): False, and nothing
        written, when an order with its id is here already (orders re-emitting order.created)."""
        conn = self.session.connection()
        if not insert_unless_present(conn, tables.orders, rows.order_values(order), conflict_on="order_id"):
            return False
        _INSERT_DELIVERY.execute_many(conn, [rows.delivery_values(d) for d in order.deliveries])
        return True

    def get_with_lines(self, order_id: str) -> Order | None:
        """The order with its deliveries loaded, for the HTTP edge (detached on exit)."""
        order = self.get(order_id)
        if order is not None:
            list(order.deliveries)
        return order

    def line(self, line_id: str, *, lock: bool = False) -> Delivery | None:
        return self.session.get(Delivery, line_id, with_for_update=True if lock else None)

    def lines_waiting_for_pool(self, product_id: str) -> list[Delivery]:
        """Lines that fell back to the merchant because the pool ran short, oldest order first."""
        d, o = tables.deliveries.c, tables.orders.c
        stmt = (select(Delivery).join(tables.orders, o.order_id == d.order_id)
                .where(d.product_id == product_id, d.status == "awaiting_merchant", d.fallback_from == "pool")
                .order_by(o.created_at, o.order_id, d.position).with_for_update(of=tables.deliveries))
        return list(self.session.scalars(stmt))

    # -- the web-service call schedule ---------------------------------------------------------
    def due_web_service_lines(self, now: datetime, limit: int) -> list[Delivery]:
        """Lines whose call is due and not leased, oldest due first, locked so a second worker skips them."""
        d = tables.deliveries.c
        stmt = (select(Delivery).where(d.status == "pending", d.method == "web_service", d.next_attempt_at <= now,
                                       or_(d.lease_expires_at.is_(None), d.lease_expires_at <= now))
                .order_by(d.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
        return list(self.session.scalars(stmt))

    def next_web_service_call_at(self) -> datetime | None:
        """When the earliest pending call falls due: its retry time, or its lease's end if later."""
        d = tables.deliveries.c
        due = case((d.lease_expires_at > d.next_attempt_at, d.lease_expires_at), else_=d.next_attempt_at)
        return self.session.scalar(select(func.min(due)).where(d.status == "pending", d.method == "web_service"))


class Sources:
    """`for_delivery` answers from the sources read with a locked order's lines (Orders.get) when
    it can; they are forgotten when the transaction ends, as the order's lock is."""

    def __init__(self, session: Session):
        self.session = session
        self._with_lines: dict[str, LicenseSource | None] = {}

    def get(self, product_id: str) -> LicenseSource | None:
        """The ORM's: for the merchant's edits of it."""
        return self.session.get(LicenseSource, product_id)

    def for_delivery(self, product_id: str) -> LicenseSource | None:
        """The product's source to deliver a line by, only read: as read with the locked order's
        lines in this transaction, or else one Core statement; detached either way."""
        if product_id in self._with_lines:
            return self._with_lines[product_id]
        row = _SOURCE.first(self.session.connection(), {"b_key": product_id})
        return LicenseSource(**row._asdict()) if row is not None else None

    def read_with_lines(self, sources: dict[str, LicenseSource | None]) -> None:
        self._with_lines.update(sources)

    # The unit of work calls these at commit and rollback (`writes_back`): what was read is
    # forgotten with the transaction it was read in.
    def write_changes(self) -> None:
        self._with_lines = {}

    def forget(self) -> None:
        self._with_lines = {}

    def add(self, source: LicenseSource) -> None:
        self.session.add(source)


class Pools:
    """A locked pool is read with Core, detached, and its changed columns written back just before
    the transaction commits (`writes_back`); one identity per transaction, forgotten on rollback."""

    def __init__(self, session: Session):
        self.session = session
        self._locked: dict[str, _Locked] = {}

    def get(self, product_id: str, *, lock: bool = False) -> Pool | None:
        """With `lock`, claims and uploads of one product take turns (a row lock on PostgreSQL; on
        SQLite BEGIN IMMEDIATE already made this transaction the only writer). Asked for again in
        the same transaction, it is the same object."""
        known = self._locked.get(product_id)
        if known is not None:
            return cast(Pool, known.obj)
        session = self.session
        if not lock:
            return session.get(Pool, product_id)
        session.flush()
        row = _LOCK_POOL.first(session.connection(), {"b_key": product_id})
        if row is None:
            return None
        values = row._asdict()
        pool = Pool(**values)
        self._locked[product_id] = _Locked(pool, values)
        return pool

    def locked_with_lines(self, pools: list[rows.Values]) -> None:
        """Pool rows locked by the statement that read a locked order's lines (Orders.get): `get`
        answers from them. One locked before in this transaction stays as it is, changes and all."""
        for values in pools:
            if values["product_id"] not in self._locked:
                self._locked[values["product_id"]] = _Locked(Pool(**values), values)

    def write_changes(self) -> None:
        """UPDATE the columns that changed on the pools locked in this transaction, then forget them."""
        locked, self._locked = self._locked, {}
        if not locked:
            return
        conn = self.session.connection()
        for entry in locked.values():
            pool = entry.obj
            if changes := rows.changed(entry.values, {k: getattr(pool, k) for k in entry.values}):
                _UPDATE_POOL.execute(conn, {"b_key": pool.product_id, **changes})

    def forget(self) -> None:
        self._locked = {}

    def lock(self, product_id: str, merchant_id: str) -> Pool:
        """The product's pool row, created if missing, locked for this transaction.

        Two first uploads at once both find no row: the loser's insert fails inside a savepoint
        (the transaction survives) and it locks the winner's row instead of answering 500.
        """
        pool = self.get(product_id, lock=True)
        if pool is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(tables.pools.insert().values(
                        product_id=product_id, merchant_id=merchant_id,
                        low_stock_threshold=DEFAULT_LOW_STOCK_THRESHOLD, alarm_armed=True))
            except IntegrityError:
                pass
            pool = self.get(product_id, lock=True)
            if pool is None:  # inserted here or by the other transaction: the row is there
                raise RuntimeError(f"no pool row for product {product_id} after inserting it")
        return pool

    def counts(self, product_id: str) -> tuple[int, int]:
        """(available, issued) keys of the product's pool."""
        k = tables.license_keys.c
        free = func.sum(case((k.line_id.is_(None), 1), else_=0))
        row = self.session.execute(select(func.count(), free).where(k.product_id == product_id)).one()
        total, available = row[0] or 0, row[1] or 0
        return int(available), int(total - available)

    def available(self, product_id: str, up_to: int) -> int:
        """How many keys are left in the pool, counted no further than `up_to`: a claim only asks
        whether the pool fell below a threshold, and counting every key of a large pool (what
        `counts` does) on every claim cost the database time in proportion to the pool."""
        return int(_COUNT_FREE.scalar(self.session.connection(),
                                      {"b_product": product_id, "b_up_to": max(0, up_to)}))

    def claim(self, product_id: str, quantity: int, line_id: str, now: datetime, *,
              count_left_up_to: int = 0) -> Claimed | None:
        """`quantity` keys taken from the pool for the line, oldest first, and how many are left, in
        one statement (_CLAIM); None, and nothing taken, when fewer than `quantity` could be taken.

        FOR UPDATE SKIP LOCKED: a key locked by another transaction is never read here, so two
        claimers can never both take it; the update marks ours before the locks are released, and
        only keys still free (`line_id IS NULL`, rechecked on the locked row). Callers hold the pool
        row's lock (`get(lock=True)`) as well: under READ COMMITTED a row that another claimer took
        just before is dropped from a LIMIT query after the recheck and not replaced, so without
        turns a claim could come back short while keys remain — never doubled, but a line would
        wait for nothing. Under that lock, the count in the same statement is what a count after
        it would have said.
        """
        conn = self.session.connection()
        # RETURNING gives the rows in the database's order, not the pick's: oldest (lowest seq) first.
        taken = sorted(_CLAIM.all(conn, {"b_product": product_id, "b_quantity": quantity, "b_line": line_id,
                                         "b_now": now, "b_up_to": quantity + max(0, count_left_up_to)}))
        if len(taken) != quantity:
            if len(taken) > quantity:  # cannot happen (LIMIT); refuse rather than hand out more
                raise RuntimeError(f"claimed {len(taken)} of {quantity} pool keys for {line_id}")
            if taken:  # all of a line's keys or none: the few taken go back (rare: a pool short of the line)
                conn.execute(_UNCLAIM, {"b_seqs": [r.seq for r in taken], "b_line": line_id})
            return None
        # The count took in this claim's own keys (free, or the line's: see _CLAIM), then stopped
        # at quantity + count_left_up_to: what is left after them, up to count_left_up_to.
        return Claimed([r.key for r in taken], max(0, int(taken[0].free_or_ours) - quantity))

    def existing(self, product_id: str, keys: list[str]) -> set[str]:
        k = tables.license_keys.c
        found: set[str] = set()
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start:start + IN_CHUNK]
            found.update(self.session.scalars(select(k.key).where(k.product_id == product_id, k.key.in_(chunk))))
        return found

    def insert(self, product_id: str, keys: list[str], now: datetime) -> None:
        if keys:
            self.session.execute(tables.license_keys.insert(),
                                 [{"product_id": product_id, "key": key, "added_at": now} for key in keys])


class SigningKeys:
    def __init__(self, session: Session):
        self.session = session

    def get(self, product_id: str) -> SigningKey | None:
        return self.session.get(SigningKey, product_id)

    def add(self, key: SigningKey) -> None:
        self.session.add(key)
        self.session.flush()


class GeneratedKeys:
    def __init__(self, session: Session):
        self.session = session

    def add(self, key: GeneratedKey) -> None:
        self.session.add(key)

    def get(self, key_id: str, *, lock: bool = False) -> GeneratedKey | None:
        return self.session.get(GeneratedKey, key_id, with_for_update=True if lock else None)

    def by_hash(self, key_hash: str) -> tuple[GeneratedKey | None, int]:
        """The key and how many activations it has, in one indexed query whether it exists or not:
        a guess costs what a real key costs (no second query only real keys make)."""
        g, a = tables.generated_keys.c, tables.activations.c
        count = select(func.count()).where(a.key_id == g.key_id).correlate(tables.generated_keys).scalar_subquery()
        row = self.session.execute(select(GeneratedKey, count).where(g.key_hash == key_hash)).first()
        return (row[0], int(row[1])) if row is not None else (None, 0)

    def lock_by_hash(self, key_hash: str) -> GeneratedKey | None:
        """Locked: activations of one key take turns, and count what the one before committed."""
        g = tables.generated_keys.c
        return self.session.scalars(select(GeneratedKey).where(g.key_hash == key_hash).with_for_update()).first()

    def of_order(self, order_id: str, *, lock: bool = False) -> list[GeneratedKey]:
        g = tables.generated_keys.c
        stmt = select(GeneratedKey).where(g.order_id == order_id).order_by(g.line_id, g.position)
        if lock:
            stmt = stmt.with_for_update()
        return list(self.session.scalars(stmt))

    def page(self, product_id: str, limit: int, cursor: str | None) -> tuple[list[GeneratedKey], str | None]:
        g = tables.generated_keys.c
        return paginate(self.session, select(GeneratedKey).where(g.product_id == product_id),
                        g.issued_at, g.key_id, limit, cursor)

    def tokens_of_lines(self, line_ids: list[str]) -> dict[str, list[str]]:
        g = tables.generated_keys.c
        tokens: dict[str, list[str]] = {}
        if line_ids:
            found = self.session.execute(select(g.line_id, g.token).where(g.line_id.in_(line_ids))
                                         .order_by(g.line_id, g.position))
            for line_id, token in found:
                tokens.setdefault(line_id, []).append(token)
        return tokens


class Activations:
    def __init__(self, session: Session):
        self.session = session

    def add(self, activation: Activation) -> None:
        self.session.add(activation)

    def get(self, activation_id: str) -> Activation | None:
        return self.session.get(Activation, activation_id)

    def of_key(self, key_id: str) -> list[Activation]:
        a = tables.activations.c
        return list(self.session.scalars(select(Activation).where(a.key_id == key_id)
                                         .order_by(a.created_at, a.activation_id)))

    def counts(self, key_ids: list[str]) -> dict[str, int]:
        a = tables.activations.c
        counts: dict[str, int] = {}
        for start in range(0, len(key_ids), IN_CHUNK):
            chunk = key_ids[start:start + IN_CHUNK]
            found = self.session.execute(select(a.key_id, func.count()).where(a.key_id.in_(chunk)).group_by(a.key_id))
            counts.update({key_id: int(n) for key_id, n in found})
        return counts

    def remove(self, activation: Activation) -> None:
        self.session.delete(activation)

    def remove_of_keys(self, key_ids: list[str]) -> int:
        if not key_ids:
            return 0
        # cast: a DELETE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
        deleted = cast(CursorResult[Any], self.session.execute(
            delete(tables.activations).where(tables.activations.c.key_id.in_(key_ids))))
        return deleted.rowcount


@dataclass(eq=False)
class _Locked:
    """An order or pool locked in this transaction, its columns as read (`values`) and, for an
    order, its deliveries' columns as read by line id (`lines`)."""

    obj: Any
    values: rows.Values
    lines: dict[str, rows.Values] = field(default_factory=dict)


# Built once, and run per message as LeanStatements: each is compiled once per database and then
# goes straight to the driver's cursor (tillkey.platform.lean_sql), not through session.execute.
_o, _d, _p = tables.orders.c, tables.deliveries.c, tables.pools.c
_INSERT_DELIVERY = LeanStatement(tables.deliveries.insert())
_LOCK_ORDER = LeanStatement(select(tables.orders).where(_o.order_id == bindparam("b_key")).with_for_update())
_s = tables.license_sources.c
# A line's pool comes with it when the line is about to be started from it (pending, no method
# yet, its source a pool): the pool row the claim needs locked (Pools.claim), which start_line
# would lock next. On PostgreSQL a LATERAL subquery locks it: FOR UPDATE may not name the nullable
# side of an outer join, and a lock waited for gives the row as its holder committed it; the claim
# after is a statement of its own, whose snapshot is taken under the lock. SQLite needs no row
# locks (BEGIN IMMEDIATE made this transaction the only writer).
_TO_START_FROM_POOL = and_(_d.status == "pending", _d.method.is_(None), _s.method == "pool")
_POOL_OF_LINE = select(tables.pools).where(_p.product_id == _d.product_id, _TO_START_FROM_POOL)
_LOCKED_POOL_OF_LINE = _POOL_OF_LINE.with_for_update().lateral("pool")
_LINES_WITH_SOURCES = tables.deliveries.outerjoin(tables.license_sources, _s.product_id == _d.product_id)


def _lines_of_order(pool: Any, joined: Any) -> LeanStatement:
    return LeanStatement(select(tables.deliveries, *rows.SOURCE_LABELS, *(pool.c[name].label(f"pool_{name}")
                                                                          for name in rows.POOL_COLUMNS))
                         .select_from(joined).where(_d.order_id == bindparam("b_key")).order_by(_d.position))


_LINES_OF_ORDER = _lines_of_order(tables.pools, _LINES_WITH_SOURCES.outerjoin(
    tables.pools, and_(_p.product_id == _d.product_id, _TO_START_FROM_POOL)))
_LINES_OF_ORDER_LOCKING_POOLS = _lines_of_order(_LOCKED_POOL_OF_LINE,
                                                _LINES_WITH_SOURCES.outerjoin(_LOCKED_POOL_OF_LINE, true()))
# No values(): the SET clause is the parameters' columns, b_key aside (SQLAlchemy caches one per set).
_UPDATE_ORDER = LeanStatement(update(tables.orders).where(_o.order_id == bindparam("b_key")))
_UPDATE_DELIVERY = LeanStatement(update(tables.deliveries).where(_d.line_id == bindparam("b_key")))
_UPDATE_POOL = LeanStatement(update(tables.pools).where(_p.product_id == bindparam("b_key")))
_SOURCE = LeanStatement(select(tables.license_sources).where(_s.product_id == bindparam("b_key")))
_LOCK_POOL = LeanStatement(select(tables.pools).where(_p.product_id == bindparam("b_key")).with_for_update())

# A pool claim in one statement: the oldest free keys, picked under FOR UPDATE SKIP LOCKED (aliases,
# or SQLAlchemy would correlate the subqueries to the UPDATE's own table), marked as the line's, and
# their keys returned with a count of the pool's keys that are free or this line's, no further than
# b_up_to. The pick is a MATERIALIZED CTE, evaluated once: as a plain `IN (subquery)`, PostgreSQL
# may run the subquery again for each row, and a rerun skips the rows this statement just took (its
# own changes are invisible to it, the lock says "updated") and takes the next ones — LIMIT 1 took
# five keys. "Or this line's" makes the count the same whether the database evaluates it before the
# update (PostgreSQL: a statement never sees its own changes) or after some of its rows (SQLite): a
# line owns no key before its claim (all or none, Pools.claim). It replaced a SELECT … FOR UPDATE,
# an UPDATE and a count after them: three statements and round trips per claim.
_k = tables.license_keys.c
_picked, _counted = tables.license_keys.alias("picked"), tables.license_keys.alias("counted")
_PICK = (select(_picked.c.seq)
         .where(_picked.c.product_id == bindparam("b_product"), _picked.c.line_id.is_(None))
         .order_by(_picked.c.seq).limit(bindparam("b_quantity")).with_for_update(skip_locked=True)
         .cte("pick").prefix_with("MATERIALIZED"))
_FREE_OR_OURS = (select(_counted.c.seq)
                 .where(_counted.c.product_id == bindparam("b_product"),
                        or_(_counted.c.line_id.is_(None), _counted.c.line_id == bindparam("b_line")))
                 .limit(bindparam("b_up_to")).subquery())
_CLAIM = LeanStatement(
    update(tables.license_keys).where(_k.seq.in_(select(_PICK.c.seq)), _k.line_id.is_(None))
    .values(line_id=bindparam("b_line", type_=_k.line_id.type), issued_at=bindparam("b_now", type_=_k.issued_at.type))
    .returning(_k.seq, _k.key, select(func.count()).select_from(_FREE_OR_OURS).scalar_subquery().label("free_or_ours")))
_UNCLAIM = (update(tables.license_keys)
            .where(_k.seq.in_(bindparam("b_seqs", expanding=True)), _k.line_id == bindparam("b_line"))
            .values(line_id=None, issued_at=None))
_FREE = (select(_k.seq).where(_k.product_id == bindparam("b_product"), _k.line_id.is_(None))
         .limit(bindparam("b_up_to")).subquery())
_COUNT_FREE = LeanStatement(select(func.count()).select_from(_FREE))


class RevokedKeys:
    def __init__(self, session: Session):
        self.session = session

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        record_revocation(self.session, merchant_id, key_id, revoked_at)
