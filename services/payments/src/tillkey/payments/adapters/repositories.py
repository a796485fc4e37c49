"""SQLAlchemy repositories: the service layer's ports (service_layer/ports.py) over one session."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, MutableSequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Integer, Select, Update, bindparam, column, func, select, text, update
from sqlalchemy.orm import Session, class_mapper, noload

from tillkey.payments.adapters import rows, tables
from tillkey.payments.domain.model import Merchant, Order, Payment
from tillkey.payments.domain.refunds import Refund
from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.pagination import paginate
from tillkey.platform.revoked_keys import record_revocation
from tillkey.platform.sql import insert_unless_present


class Merchants:
    def __init__(self, session: Session):
        self.session = session

    def add(self, merchant: Merchant) -> None:
        self.session.add(merchant)

    def get(self, merchant_id: str) -> Merchant | None:
        return self.session.get(Merchant, merchant_id)


class Orders:
    """A locked order is read with Core statements, detached from the ORM, and what changes on it is
    written by `write_changes` when the unit of work commits (it registers this repository with
    `writes_back`): the columns that changed, the new payments and refunds. An unlocked one is the
    ORM's."""

    def __init__(self, session: Session):
        self.session = session
        self._locked: dict[str, _Locked] = {}  # the orders locked in this transaction, by id

    def get(self, order_id: str, lock: bool = False, *, with_payments: bool = True,
            with_refunds: bool = True) -> Order | None:
        """`lock`: hold the order's row until commit (PostgreSQL `FOR UPDATE`), so two requests or
        notifications about one order decide one after the other. SQLite serializes every write
        transaction anyway (BEGIN IMMEDIATE).

        Locked again in the same transaction (a batch), it is the same object, with the changes made
        so far. It comes with its payments and refunds (one statement each) unless the caller says it
        never looks at them: an unloaded one still loads when touched, it only costs a statement then."""
        if not lock:
            return self.session.get(Order, order_id)
        return self._lock(_LOCK_ORDER, order_id, with_payments, with_refunds)

    def of_payment(self, payment_id: str, *, with_payments: bool = True, with_refunds: bool = True) -> Order | None:
        """The order a payment belongs to, locked and loaded like `get(lock=True)`, its row found and
        locked by one statement (a join on the attempt's id; an attempt never changes order). None if
        no such payment."""
        return self._lock(_LOCK_ORDER_OF_PAYMENT, payment_id, with_payments, with_refunds)

    def of_refund(self, refund_id: str, *, with_payments: bool = True, with_refunds: bool = True) -> Order | None:
        """The order a refund belongs to, as `of_payment`."""
        return self._lock(_LOCK_ORDER_OF_REFUND, refund_id, with_payments, with_refunds)

    def add_unless_known(self, order: Order) -> bool:
        """A new order with the payments it comes with (a free order's), in Core statements: False,
        and nothing written, when an order with its id is here already (orders re-emitting)."""
        if not insert_unless_present(self.session, tables.orders, rows.order_values(order), conflict_on="order_id"):
            return False
        _KINDS["payments"].insert.execute_many(self.session.connection(),
                                               [rows.payment_values(p) for p in order.payments])
        return True

    def of_notification(self, gateway: str, notification_id: str, type: str, reference: str,
                        received_at: datetime, *, is_refund: bool) -> tuple[Order | None, bool]:
        """The order a gateway's notification names (`reference`: a payment attempt's id, or a
        refund's), locked and loaded as `of_refund` loads it, or as `of_payment(with_refunds=False)`
        for a charge's result; and whether the notification is new, recorded now in this transaction
        (False: it was recorded before, a redelivery). (None, False), nothing recorded, when no
        attempt or refund has that id.

        PostgreSQL: the notification's row goes in with the statement that reads the order's
        payments after the lock (WITH … INSERT … ON CONFLICT DO NOTHING), one statement instead of
        a read and an insert. That statement starts after the lock was granted, so it sees all the
        lock's previous holders committed, as the plain read did. SQLite: the payments come with the
        lock (see `_lock`) and the insert follows."""
        note = {"gateway": gateway, "notification_id": notification_id, "type": type, "reference": reference,
                "received_at": received_at}
        lock = _LOCK_ORDER_OF_REFUND if is_refund else _LOCK_ORDER_OF_PAYMENT
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            locked = lock.alone.first(conn, {"b_key": reference})
            if locked is None:
                return None, False
            row = locked._asdict()
            if row["order_id"] not in self._locked:
                found = [m._asdict() for m in _NOTE_WITH_PAYMENTS.all(conn, {**note, "b_key": row["order_id"]})]
                payments = [rows.joined_payment(m) for m in found if m[_JOINED_KEY] is not None]
                return self._adopt(row, payments, True, is_refund), bool(found[0]["noted"])
            order: Order | None = self._adopt(row, None, True, is_refund)  # locked before in this transaction
        else:
            order = self._lock(lock, reference, True, is_refund)
            if order is None:
                return None, False
        return order, insert_unless_present(self.session, tables.gateway_notifications, note)

    def _lock(self, lock: _Lock, key: str | None, with_payments: bool, with_refunds: bool) -> Order | None:
        conn = self.session.connection()
        # The collections are read after the order's row is locked, never joined to the locking
        # statement: on PostgreSQL that statement's joined rows are from before its wait. SQLite's
        # transaction holds the database's write lock from BEGIN IMMEDIATE on (docs/architecture.md
        # 7.7), so nothing changes between statements there: the payments come with the order's row,
        # one statement instead of two.
        payments: list[rows.Values] | None = None  # None: read when touched (or just below)
        if with_payments and conn.dialect.name == "sqlite":
            found = [m._asdict() for m in lock.with_payments.all(conn, {"b_key": key})]
            row = found[0] if found else None
            payments = [rows.joined_payment(m) for m in found if m[_JOINED_KEY] is not None]
        else:
            locked = lock.alone.first(conn, {"b_key": key})
            row = None if locked is None else locked._asdict()
        if row is None:
            return None
        return self._adopt(row, payments, with_payments, with_refunds)

    def _adopt(self, row: rows.RowValues, payments: list[rows.Values] | None, with_payments: bool,
               with_refunds: bool) -> Order:
        """The order of a row just locked, with its `payments` if they were read with it (None: read
        here if `with_payments`, else when touched)."""
        known = self._locked.get(row["order_id"])
        if known is not None:
            return known.order  # its row as read before is the one this transaction changed since
        locked = _Locked(rows.order_from(row), rows.kept({name: row[name] for name in rows.ORDER_COLUMNS}))
        self._locked[locked.order.order_id] = locked
        for name, load in (("payments", with_payments), ("refunds", with_refunds)):
            collection = _Collection(self._reader(locked, name, payments if name == "payments" else None))
            # Into the instance's dict, past the ORM's instrumentation: a detached order's
            # collections are plain containers (the ORM never flushes them; write_changes does).
            locked.order.__dict__[name] = locked.collections[name] = collection
            if load:
                collection.load()
        return locked.order

    def _reader(self, locked: _Locked, name: str, read_with_order: list[rows.Values] | None = None
                ) -> Callable[[], list]:
        kind = _KINDS[name]

        def read() -> list:
            found = read_with_order if read_with_order is not None else [
                m._asdict() for m in kind.read.all(self.session.connection(), {"b_key": locked.order.order_id})]
            items = [kind.build(m) for m in found]
            locked.before[name] = {getattr(item, kind.key): rows.kept(kind.values(item)) for item in items}
            return items
        return read

    def forget(self) -> None:
        """The transaction rolled back: what was read under its locks is stale."""
        self._locked = {}

    def write_changes(self) -> None:
        """UPDATE what changed on the orders locked in this transaction, and INSERT their new payments
        and refunds (payments first: a refund's row names its payment's), one statement per table
        and set of changed columns. Their locks end with the commit, so they are forgotten.

        PostgreSQL: one order's UPDATE rides, as a WITH, on the first statement that writes a single
        payment or refund (a paid order and its succeeded attempt: one statement, not two). The two
        touch different tables and the order's key never changes, so it is the same writes."""
        locked, self._locked = list(self._locked.values()), {}
        if not locked:
            return
        conn = self.session.connection()
        order_updates: list[rows.Values] = []
        for entry in locked:
            changes = rows.changed(entry.values, rows.order_values(entry.order))
            if changes:
                order_updates.append({"b_key": entry.order.order_id, **changes})
        writes: list[tuple[LeanStatement, list[rows.Values]]] = []
        for name, kind in _KINDS.items():
            new: list[rows.Values] = []
            changed: dict[tuple[str, ...], list[rows.Values]] = {}
            for entry in locked:
                before = entry.before.get(name)
                if before is None:
                    continue  # never touched, so never changed (touching it reads it)
                if entry.order.__dict__.get(name) is not entry.collections[name]:
                    raise RuntimeError(f"the {name} of order {entry.order.order_id} were replaced; only appended to")
                items = list(entry.collections[name])
                if len({getattr(item, kind.key) for item in items} & before.keys()) != len(before):
                    raise RuntimeError(f"{name} of order {entry.order.order_id} went missing; none is ever removed")
                for item in items:
                    values = kind.values(item)
                    was = before.get(values[kind.key])
                    if was is None:
                        new.append(values)
                    elif changes := rows.changed(was, values):
                        changed.setdefault(tuple(changes), []).append({"b_key": values[kind.key], **changes})
            if new:
                writes.append((kind.insert, new))
            writes.extend((kind.update, params) for params in changed.values())
        if len(order_updates) == 1 and conn.dialect.name == "postgresql":
            single = next((i for i, (_, params) in enumerate(writes) if len(params) == 1), None)
            if single is not None:
                statement, [params] = writes[single]
                writes[single] = _riding(order_updates.pop(), statement, params)
        for params in order_updates:
            _UPDATE_ORDER.execute(conn, params)
        for statement, many in writes:
            statement.execute_many(conn, many)


class Payments:
    def __init__(self, session: Session):
        self.session = session

    def get(self, payment_id: str, *, with_refunds: bool = True) -> Payment | None:
        """`with_refunds=False` when the caller never looks at them: one statement, not two."""
        options = () if with_refunds else (noload(_attribute(Payment, "refunds")),)
        return self.session.get(Payment, payment_id, options=options)

    def record_charge_accepted(self, payment_id: str, charge_id: str) -> str | None:
        """Payment.record_charge as one UPDATE, without loading and locking the order: the charge id
        only ever goes from none to this gateway's (the notification may have written the same one).
        Returns the attempt's status as this UPDATE found it (None: no such attempt)."""
        return _RECORD_CHARGE_ACCEPTED.scalar(self.session.connection(),
                                              {"b_key": payment_id, "b_charge_id": charge_id})

    def id_by_reference(self, reference: str) -> str | None:
        """The bank transfer with this reference (unique index uq_payments_reference)."""
        return _ID_BY_REFERENCE.scalar(self.session.connection(), {"b_key": reference})

    def reference_taken(self, reference: str) -> bool:
        return self.id_by_reference(reference) is not None

    def awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Payment]:
        p = tables.payments.c
        return list(self.session.scalars(select(Payment).where(
            p.status == "pending", p.gateway_token.is_not(None), p.charge_id.is_(None),
            p.updated_at <= updated_before).order_by(p.updated_at).limit(limit)))

    def page(self, order_id: str, limit: int, cursor: str | None) -> tuple[list[Payment], str | None]:
        stmt = select(Payment).where(tables.payments.c.order_id == order_id)
        items, next_cursor = paginate(self.session, stmt, tables.payments.c.created_at,
                                      tables.payments.c.payment_id, limit, cursor)
        # A read for the HTTP edge: detach the rows so the rollback on leaving the unit of work
        # does not expire them before the response is dumped.
        for item in items:
            self.session.expunge(item)
        return items, next_cursor


class Refunds:
    def __init__(self, session: Session):
        self.session = session

    def get(self, refund_id: str) -> Refund | None:
        return self.session.get(Refund, refund_id)

    def awaiting_submission(self, updated_before: datetime, limit: int = 50) -> list[Refund]:
        r = tables.refunds.c
        return list(self.session.scalars(select(Refund).where(
            r.status == "pending", r.gateway.is_not(None), r.gateway_refund_id.is_(None),
            r.updated_at <= updated_before).order_by(r.updated_at).limit(limit)))


class RevokedKeys:
    def __init__(self, session: Session):
        self.session = session

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        record_revocation(self.session, merchant_id, key_id, revoked_at)


@dataclass(eq=False)
class _Locked:
    """An order locked in this transaction, with its columns as read (`values`), its collections,
    and the columns of their items as read (`before`, per collection once it was read)."""

    order: Order
    values: rows.Values
    collections: dict[str, _Collection] = field(default_factory=dict)
    before: dict[str, dict[str, rows.Values]] = field(default_factory=dict)


class _Collection(MutableSequence):
    """A locked order's payments or refunds, read on first touch (as the ORM's lazy load would)."""

    def __init__(self, read: Callable[[], list]):
        self._read = read
        self._items: list | None = None

    def load(self) -> list:
        if self._items is None:
            self._items = self._read()
        return self._items

    def __getitem__(self, index):
        return self.load()[index]

    def __setitem__(self, index, value) -> None:
        self.load()[index] = value

    def __delitem__(self, index) -> None:
        del self.load()[index]

    def __len__(self) -> int:
        return len(self.load())

    def __iter__(self) -> Iterator:
        return iter(self.load())

    def insert(self, index: int, value) -> None:
        self.load().insert(index, value)

    def append(self, value) -> None:
        self.load().append(value)

    def __eq__(self, other: object) -> bool:
        return self.load() == (list(other) if isinstance(other, _Collection) else other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return repr(self.load()) if self._items is not None else "<not read yet>"


@dataclass(frozen=True)
class _Kind:
    """How one of an order's collections is read and written."""

    read: LeanStatement
    build: Callable[[Any], Any]
    values: Callable[[Any], rows.Values]
    key: str
    insert: LeanStatement  # keyed by the parameters' names: the columns given
    update: LeanStatement  # the changed columns and b_key


@dataclass(frozen=True)
class _Lock:
    """Locks an order's row by a key: `alone`, or `with_payments`, the order's payments joined to
    it (SQLite, see Orders._lock)."""

    alone: LeanStatement
    with_payments: LeanStatement


# Built once, each compiled once per database (tillkey.platform.lean_sql): these run per request.
def _by(column, statement):
    return statement.where(column == bindparam("b_key"))


_o, _p, _r = tables.orders.c, tables.payments.c, tables.refunds.c
# SQLite's locking read with the order's payments, in their order, a row of NULLs for none.
_ORDER_PAYMENTS = tables.payments.alias("order_payments")
_JOINED_KEY = rows.JOINED_PAYMENT_PREFIX + "payment_id"


def _locking(lock: Select) -> _Lock:
    with_payments = lock.add_columns(*(c.label(rows.JOINED_PAYMENT_PREFIX + c.name) for c in _ORDER_PAYMENTS.c)
                                     ).outerjoin(_ORDER_PAYMENTS, _ORDER_PAYMENTS.c.order_id == _o.order_id
                                                 ).order_by(_ORDER_PAYMENTS.c.created_at, _ORDER_PAYMENTS.c.payment_id)
    return _Lock(LeanStatement(lock), LeanStatement(with_payments))


_LOCK_ORDER = _locking(_by(_o.order_id, select(tables.orders)).with_for_update())
# Of the orders row only: the payment's or refund's row is not locked.
_LOCK_ORDER_OF_PAYMENT = _locking(_by(_p.payment_id, select(tables.orders).join(
    tables.payments, _p.order_id == _o.order_id)).with_for_update(of=tables.orders))
_LOCK_ORDER_OF_REFUND = _locking(_by(_r.refund_id, select(tables.orders).join(
    tables.refunds, _r.order_id == _o.order_id)).with_for_update(of=tables.orders))
# The card path's second transaction (and a bank transfer's reference check), once per attempt.
_RECORD_CHARGE_ACCEPTED = LeanStatement(_by(_p.payment_id, update(tables.payments)).values(
    charge_id=func.coalesce(_p.charge_id, bindparam("b_charge_id")), gateway_token=None).returning(_p.status))
_ID_BY_REFERENCE = LeanStatement(_by(_p.reference, select(_p.payment_id)))
# PostgreSQL: a gateway's notification recorded unless it was before, with the payments of the order
# just locked (Orders.of_notification), a row of NULLs for none; `noted` 1 if recorded now. Text, as
# tillkey.platform.sql.insert_unless_present writes its INSERT: the dialect's ON CONFLICT construct has
# no cache key. The binds and the columns carry their types, so values go and come as with Core.
_NOTE_COLUMNS = tuple(c.name for c in tables.gateway_notifications.c)
_NOTE_WITH_PAYMENTS = LeanStatement(text(
    f"WITH noted AS (INSERT INTO {tables.gateway_notifications.name} ({', '.join(_NOTE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _NOTE_COLUMNS)}) ON CONFLICT DO NOTHING RETURNING 1) "
    "SELECT (SELECT count(*) FROM noted) AS noted, "
    + ", ".join(f"order_payments.{c.name} AS {rows.JOINED_PAYMENT_PREFIX}{c.name}" for c in _p)
    + f" FROM (SELECT 1) AS one LEFT OUTER JOIN {tables.payments.name} AS order_payments"
    " ON order_payments.order_id = :b_key ORDER BY order_payments.created_at, order_payments.payment_id"
).bindparams(*(bindparam(c.name, type_=c.type) for c in tables.gateway_notifications.c),
             bindparam("b_key", type_=_p.order_id.type)).columns(
    column("noted", Integer), *(column(rows.JOINED_PAYMENT_PREFIX + c.name, c.type) for c in _p)))


# Executed with the columns to set as parameters (besides b_key): only those are written.
_UPDATE_ORDER = LeanStatement(_by(_o.order_id, update(tables.orders)))
_KINDS = {
    "payments": _Kind(LeanStatement(_by(_p.order_id, select(tables.payments)).order_by(_p.created_at, _p.payment_id)),
                      rows.payment_from, rows.payment_values, "payment_id", LeanStatement(tables.payments.insert()),
                      LeanStatement(_by(_p.payment_id, update(tables.payments)))),
    "refunds": _Kind(LeanStatement(_by(_r.order_id, select(tables.refunds)).order_by(_r.created_at, _r.refund_id)),
                     rows.refund_from, rows.refund_values, "refund_id", LeanStatement(tables.refunds.insert()),
                     LeanStatement(_by(_r.refund_id, update(tables.refunds)))),
}


def _attribute(cls: type, name: str):
    # The relationships exist on the mapped classes only (adapters/tables.py), not on the domain's.
    return class_mapper(cls).attrs[name].class_attribute


def _riding(order: rows.Values, statement: LeanStatement, values: rows.Values
            ) -> tuple[LeanStatement, list[rows.Values]]:
    """`statement` (one payment's or refund's INSERT or UPDATE) with the order's UPDATE in a WITH,
    and its parameters: the order's prefixed `o_`, the row's own `v_` (both tables share names)."""
    columns = tuple(name for name in values if name != "b_key")
    params = {"o_" + name: value for name, value in order.items()}
    params.update(("v_" + name, values[name]) for name in columns)
    if "b_key" in values:
        params["b_key"] = values["b_key"]
    return _with_order_update(statement, tuple(name for name in order if name != "b_key"), columns), [params]


@functools.lru_cache(maxsize=64)  # one per statement and sets of columns: built once, compiled once per database
def _with_order_update(statement: LeanStatement, order_columns: tuple[str, ...], columns: tuple[str, ...]
                       ) -> LeanStatement:
    row_write = cast(Insert | Update, statement.statement)  # a _Kind's insert or update
    table = row_write.table
    order_update = update(tables.orders).where(_o.order_id == bindparam("o_b_key")).values(
        {name: bindparam("o_" + name, type_=_o[name].type) for name in order_columns}).cte("order_update")
    return LeanStatement(row_write.values({name: bindparam("v_" + name, type_=table.c[name].type)
                                           for name in columns}).add_cte(order_update))
