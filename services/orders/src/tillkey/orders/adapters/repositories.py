"""SQLAlchemy repositories: the service layer's ports over one session."""
from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, CursorResult, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillkey.orders.adapters import rows
from tillkey.orders.adapters import tables as t
from tillkey.orders.adapters.together import insert_with_children, together_here, update_with_children
from tillkey.orders.domain.api_keys import ApiKey
from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.errors import Conflict
from tillkey.orders.domain.orders import NOT_PAID, PAID, Order
from tillkey.orders.domain.refunds import Refund
from tillkey.orders.service_layer.ports import OrderFilter
from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.pagination import paginate
from tillkey.platform.revoked_keys import record_revocation


class Merchants:
    def __init__(self, session: Session):
        self.session = session

    def add(self, merchant: Merchant) -> None:
        self.session.add(merchant)

    def get(self, merchant_id: str) -> Merchant | None:
        return self.session.get(Merchant, merchant_id)


class ApiKeys:
    def __init__(self, session: Session):
        self.session = session

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    def add_if_absent(self, key: ApiKey) -> None:
        """Record the key unless it is there already: two first calls of an older key at once must
        not meet at the primary key (a 500); the second one's row is rolled back to its savepoint."""
        try:
            with self.session.begin_nested():
                self.session.add(key)
        except IntegrityError:
            pass

    def get(self, key_id: str) -> ApiKey | None:
        return self.session.get(ApiKey, key_id)

    def of_merchant(self, merchant_id: str, lock: bool = False) -> list[ApiKey]:
        """Newest first; a merchant has a handful, so no pages. `lock`: hold them until commit."""
        query = (select(ApiKey).where(t.api_keys.c.merchant_id == merchant_id)
                 .order_by(t.api_keys.c.created_at.desc(), t.api_keys.c.key_id))
        return list(self.session.scalars(query.with_for_update() if lock else query))

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        """Orders' own denylist, in the revoking transaction (the others learn it from the event)."""
        record_revocation(self.session, merchant_id, key_id, revoked_at)


class Products:
    def __init__(self, session: Session):
        self.session = session

    def add(self, product: Product) -> None:
        self.session.add(product)

    def get(self, product_id: str) -> Product | None:
        return self.session.get(Product, product_id)

    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        """Read only (carts price and check with them): a Core read, detached products, no ORM load."""
        if not product_ids:
            return {}
        wanted = list(dict.fromkeys(product_ids))
        found = _products_by_id(len(wanted)).all(self.session.connection(), _numbered("b_product_id_", wanted))
        return {p.product_id: p for p in (rows.product_from(_by_column(_PRODUCT_COLUMNS, row)) for row in found)}

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        stmt = select(Product).where(t.products.c.merchant_id == merchant_id)
        return paginate(self.session, stmt, t.products.c.created_at, t.products.c.product_id, limit, cursor)


_PRODUCT_COLUMNS = tuple(t.products.c)


@functools.lru_cache(maxsize=64)   # by number of products: a cart holds a handful of lines
def _products_by_id(count: int) -> LeanStatement:
    return LeanStatement(select(*_PRODUCT_COLUMNS).where(_one_of(t.products.c.product_id, "b_product_id_", count)))


def _one_of(column: Column[Any], prefix: str, count: int) -> ColumnElement[bool]:
    """`column IN (…)` with one parameter per value (`_numbered`): a LeanStatement takes no IN list
    that expands per call, so there is a statement per number of values."""
    return column.in_([bindparam(f"{prefix}{i}", type_=column.type) for i in range(count)])


def _numbered(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `_one_of(column, prefix, len(values))`."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}


def _by_column(columns: Sequence[Column[Any]], row: Sequence[Any]) -> rows.RowValues:
    """A row of these columns keyed by the Column objects, as `Result.mappings()` keys a join's rows
    (two tables' columns may share a name)."""
    return dict(zip(columns, row, strict=True))


class Coupons:
    def __init__(self, session: Session):
        self.session = session

    def add(self, coupon: Coupon) -> None:
        self.session.add(coupon)
        try:
            # Flush now: a duplicate code that slipped past the read check (a concurrent create)
            # surfaces here as the unique key, and becomes a 409 rather than a 500 at commit.
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"A coupon with the code {coupon.code} exists already (codes ignore case).",
                           code="coupon_exists") from None

    def get(self, merchant_id: str, code_key: str) -> Coupon | None:
        return self.session.get(Coupon, (merchant_id, code_key))

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        stmt = select(Coupon).where(t.coupons.c.merchant_id == merchant_id)
        return paginate(self.session, stmt, t.coupons.c.created_at, t.coupons.c.code_key, limit, cursor)

    def redeem(self, merchant_id: str, code_key: str) -> bool:
        # Conditional increment: the database decides, under its row lock, whether one is left.
        redeemed = _REDEEM_COUPON.execute(self.session, {"b_merchant_id": merchant_id, "b_code_key": code_key})
        if redeemed == 1:
            coupon = self.session.identity_map.get(self.session.identity_key(Coupon, (merchant_id, code_key)))
            if coupon is not None:
                self.session.expire(coupon, ["redemptions"])
            return True
        return False

    def release(self, merchant_id: str, code_key: str) -> None:
        # Relative and floored at zero: concurrent releases never lose one, nor go negative.
        _RELEASE_COUPON.execute(self.session, {"b_merchant_id": merchant_id, "b_code_key": code_key})


_coupon = t.coupons.c
_THE_COUPON = (_coupon.merchant_id == bindparam("b_merchant_id"), _coupon.code_key == bindparam("b_code_key"))
_REDEEM_COUPON = LeanStatement(
    update(t.coupons)
    .where(*_THE_COUPON, _coupon.max_redemptions.is_(None) | (_coupon.redemptions < _coupon.max_redemptions))
    .values(redemptions=_coupon.redemptions + 1))
_RELEASE_COUPON = LeanStatement(
    update(t.coupons).where(*_THE_COUPON, _coupon.redemptions > 0).values(redemptions=_coupon.redemptions - 1))


class Carts:
    def __init__(self, session: Session):
        self.session = session

    def add(self, cart: Cart) -> None:
        """A new cart, written at once with its lines, in one statement on PostgreSQL (two on SQLite):
        the ORM's flush of a cart and its lines was a tenth of the API's CPU per order."""
        insert_with_children(self.session.connection(), t.carts, rows.cart_values(cart), t.cart_lines,
                             [rows.cart_line_values(cart.cart_id, line) for line in cart.lines])

    def get(self, cart_id: str, lock: bool = False) -> Cart | None:
        # FOR UPDATE on PostgreSQL; SQLite takes its write lock at BEGIN IMMEDIATE already.
        return self.session.get(Cart, cart_id, with_for_update=lock or None)

    def claim_for_checkout(self, cart_id: str, order_id: str, now: datetime) -> tuple[Cart, dict[str, Product]] | None:
        """Checkout's claim and read, in two Core statements: one conditional UPDATE marks the open
        cart checked out and holds its row (it replaced a locking SELECT and a later UPDATE), then
        its lines with their products. The lines are read after the claim, never joined to it: on
        PostgreSQL a statement's joined rows are from before its wait for the row, and a line added
        by the change that held it would be missing from the order."""
        conn = self.session.connection()
        claimed = _CLAIM_CART.first(conn, {"b_cart_id": cart_id, "order_id": order_id, "updated_at": now})
        if claimed is None:
            return None
        lines = [_by_column(_CART_LINE_AND_PRODUCT_COLUMNS, row)
                 for row in _CART_LINES_WITH_PRODUCTS.all(conn, {"b_cart_id": cart_id})]
        products = {p.product_id: p for p in (rows.product_from(line) for line in lines
                                              if line[t.products.c.product_id] is not None)}
        return rows.cart_from_rows(claimed._asdict(), lines), products


# Built once, and run on the driver's cursor (LeanStatement): these run per request.
# Only an open cart matches: on PostgreSQL a checkout that waited for the row re-checks it after the
# wait, and finds nothing when the checkout it waited for took the cart (SQLite: one writer at a time).
_CLAIM_CART = LeanStatement(
    update(t.carts)
    .where(t.carts.c.cart_id == bindparam("b_cart_id"), t.carts.c.order_id.is_(None))
    .values(order_id=bindparam("order_id"), updated_at=bindparam("updated_at"))
    .returning(*t.carts.c))
_CART_LINE_AND_PRODUCT_COLUMNS = (*t.cart_lines.c, *t.products.c)
_CART_LINES_WITH_PRODUCTS = LeanStatement(
    select(*_CART_LINE_AND_PRODUCT_COLUMNS)
    .outerjoin(t.products, t.products.c.product_id == t.cart_lines.c.product_id)
    .where(t.cart_lines.c.cart_id == bindparam("b_cart_id")).order_by(t.cart_lines.c.position))


class Orders:
    def __init__(self, session: Session):
        self.session = session
        # Orders read with lock=True in this transaction, each with its column values as read (its
        # lines' too, once read: `lines_read`).
        self._locked: dict[str, _Locked] = {}

    def add(self, order: Order) -> None:
        """Written at once with its lines, not by a flush: one statement on PostgreSQL, two on SQLite."""
        insert_with_children(self.session.connection(), t.orders, rows.order_values(order), t.order_lines,
                             [rows.line_values(order.order_id, line) for line in order.lines])

    def get(self, order_id: str, lock: bool = False, lines: bool = True) -> Order | None:
        if not lock:
            return self.session.get(Order, order_id)
        # FOR UPDATE on PostgreSQL (SQLite holds its write lock from BEGIN IMMEDIATE), so a consumer
        # marking the order paid and the scheduler deleting it never both win. Read with Core, and
        # written back by write_changes at commit: only the columns that changed.
        known = self._locked.get(order_id)
        if known is None:
            row = _LOCK_ORDER.first(self.session.connection(), {"b_order_id": order_id})
            if row is None:
                return None
            known = self._keep(rows.order_from_rows(row._asdict(), ()))
        # Else locked already in this transaction (a batch, a prefetch): the same object, as an identity map.
        if lines and not known.lines_read:
            self._read_lines([known])
        return known.order

    def lock_many(self, order_ids: Collection[str], lines: bool = True) -> None:
        """Lock these orders in one statement (a consumer's batch), for `get(lock=True)` to answer
        from. In order_id order: two such statements over overlapping orders queue rather than deadlock."""
        wanted = sorted(set(order_ids))
        new = [order_id for order_id in wanted if order_id not in self._locked]
        if new:
            conn = self.session.connection()
            # One order (a batch of one, the usual case below saturation): the plain statement, with
            # no IN list.
            found = (_LOCK_ORDER.all(conn, {"b_order_id": new[0]}) if len(new) == 1
                     else _lock_orders(len(new)).all(conn, _numbered("b_order_id_", new)))
            for row in found:
                self._keep(rows.order_from_rows(row._asdict(), ()))
        if lines:
            self._read_lines([k for k in map(self._locked.get, wanted) if k is not None and not k.lines_read])

    def _keep(self, order: Order) -> _Locked:
        known = self._locked[order.order_id] = _Locked(order, rows.order_snapshot(order))
        return known

    def _read_lines(self, locked: list[_Locked]) -> None:
        """The lines of orders locked already: read after the lock (never joined to the locking
        statement, whose joined rows on PostgreSQL are from before its wait), in one statement."""
        if not locked:
            return
        by_order = {k.order.order_id: k for k in locked}
        conn = self.session.connection()
        if len(by_order) == 1:
            found = _ORDER_LINES.all(conn, {"b_order_id": locked[0].order.order_id})
        else:
            found = _lines_of_orders(len(by_order)).all(conn, _numbered("b_order_id_", list(by_order)))
        for row in found:
            by_order[row.order_id].order.lines.append(rows.line_from(row._asdict()))
        for known in by_order.values():
            known.lines_before = rows.lines_snapshot(known.order)
            known.lines_read = True

    def write_changes(self) -> None:
        """UPDATE what changed on the orders locked in this transaction; the unit of work calls it
        just before commit. Their locks end with the commit, so they are forgotten (`forget`)."""
        if not self._locked:
            return
        conn = self.session.connection()
        together = together_here(conn)
        for known in self._locked.values():
            order = known.order
            after, lines_after = rows.snapshot(order)
            if lines_after.keys() != known.lines_before.keys():
                raise RuntimeError(f"the lines of order {order.order_id} changed; only their columns may")
            changes = rows.changed(known.before, after)
            line_changes = [(line_id, changed) for line_id, values in lines_after.items()
                            if (changed := rows.changed(known.lines_before[line_id], values))]
            if together and changes and line_changes:
                # A delivery changes the order and a line: one statement on PostgreSQL (adapters/together.py).
                update_with_children(conn, t.orders, order.order_id, changes, t.order_lines, line_changes)
                continue
            if changes:
                _UPDATE_ORDER.execute(conn, {"b_order_id": order.order_id, **changes})
            for line_id, line_values in line_changes:
                _UPDATE_ORDER_LINE.execute(conn, {"b_line_id": line_id, **line_values})
        self.forget()

    def forget(self) -> None:
        self._locked = {}

    def claim_unpaid(self, created_before: datetime, limit: int, *, unreminded: bool = False,
                     created_after: datetime | None = None) -> list[Order]:
        """Unpaid orders created before `created_before` (oldest first), locked for this transaction.

        SKIP LOCKED: a second scheduler passes over the rows the first one holds instead of waiting
        for them and acting twice; once the first commits, the rows no longer match (status or
        reminder changed), and the domain's own guard re-checks anyway.
        """
        c = t.orders.c
        stmt = select(Order).where(c.status == NOT_PAID, c.created_at <= created_before)
        if unreminded:
            stmt = stmt.where(c.reminder_sent_at.is_(None))
        if created_after is not None:
            stmt = stmt.where(c.created_at > created_after)
        stmt = stmt.order_by(c.created_at, c.order_id).limit(limit).with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    def reserve_refund(self, order_id: str, amount: int) -> bool:
        """Reserve `amount` if that much is still left on a paid order; False otherwise.

        One conditional UPDATE: the database evaluates what is left under its row lock, so
        concurrent refunds can never reserve more than the total, whatever each of them read.
        """
        c = t.orders.c
        # cast: an UPDATE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
        result = cast(CursorResult[Any], self.session.execute(
            update(t.orders)
            .where(c.order_id == order_id, c.status == PAID,
                   c.total - c.refunded_amount - c.refund_reserved >= amount)
            .values(refund_reserved=c.refund_reserved + amount)
            .execution_options(synchronize_session=False)))
        order = self.session.identity_map.get(self.session.identity_key(Order, order_id))
        if order is not None:
            self.session.expire(order, ["refund_reserved", "refunded_amount", "status"])
        return result.rowcount == 1

    def page(self, which: OrderFilter, limit: int, cursor: str | None):
        c = t.orders.c
        stmt = select(Order)
        for column, value in ((c.merchant_id, which.merchant_id), (c.status, which.status),
                              (c.delivery_status, which.delivery_status)):
            if value is not None:
                stmt = stmt.where(column == value)
        if which.email is not None:
            # Both sides lowered by the database, as the index ix_orders_customer_email_lower is.
            stmt = stmt.where(func.lower(c.customer_email) == func.lower(which.email))
        if which.created_from is not None:
            stmt = stmt.where(c.created_at >= which.created_from)
        if which.created_before is not None:
            stmt = stmt.where(c.created_at < which.created_before)
        return paginate(self.session, stmt, c.created_at, c.order_id, limit, cursor)


# Built once, as the carts' above (or once per number of orders). The UPDATEs set the columns given
# as parameters, and only those.
_LOCK_ORDER = LeanStatement(select(t.orders).where(t.orders.c.order_id == bindparam("b_order_id")).with_for_update())
_ORDER_LINES = LeanStatement(select(t.order_lines).where(t.order_lines.c.order_id == bindparam("b_order_id"))
                             .order_by(t.order_lines.c.position))
_UPDATE_ORDER = LeanStatement(update(t.orders).where(t.orders.c.order_id == bindparam("b_order_id")))
_UPDATE_ORDER_LINE = LeanStatement(update(t.order_lines).where(t.order_lines.c.line_id == bindparam("b_line_id")))


@functools.lru_cache(maxsize=128)   # by number of orders: a consumer's batch
def _lock_orders(count: int) -> LeanStatement:
    return LeanStatement(select(t.orders).where(_one_of(t.orders.c.order_id, "b_order_id_", count))
                         .order_by(t.orders.c.order_id).with_for_update())


@functools.lru_cache(maxsize=128)
def _lines_of_orders(count: int) -> LeanStatement:
    return LeanStatement(select(t.order_lines).where(_one_of(t.order_lines.c.order_id, "b_order_id_", count))
                         .order_by(t.order_lines.c.order_id, t.order_lines.c.position))


@dataclass
class _Locked:
    """An order locked in this transaction, with its column values as read (its lines' once read)."""

    order: Order
    before: rows.Values
    lines_before: dict[str, rows.Values] = field(default_factory=dict)
    lines_read: bool = False


class Refunds:
    def __init__(self, session: Session):
        self.session = session

    def add(self, refund: Refund) -> None:
        self.session.add(refund)

    def get(self, refund_id: str, lock: bool = False) -> Refund | None:
        return self.session.get(Refund, refund_id, with_for_update=lock or None)
