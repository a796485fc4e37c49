"""SQLAlchemy repositories: the service layer's ports over one session."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillkey.orders.adapters import tables as t
from tillkey.orders.domain.api_keys import ApiKey
from tillkey.orders.domain.carts import Cart
from tillkey.orders.domain.catalog import Merchant, Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.errors import Conflict
from tillkey.orders.domain.orders import NOT_PAID, PAID, Order
from tillkey.orders.domain.refunds import Refund
from tillkey.orders.service_layer.commands import OrderFilter
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
        if not product_ids:
            return {}
        rows = self.session.scalars(select(Product).where(t.products.c.product_id.in_(set(product_ids))))
        return {p.product_id: p for p in rows}

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        stmt = select(Product).where(t.products.c.merchant_id == merchant_id)
        return paginate(self.session, stmt, t.products.c.created_at, t.products.c.product_id, limit, cursor)


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
        c = t.coupons.c
        # Conditional increment: the database decides, under its row lock, whether one is left.
        # cast: an UPDATE gives a CursorResult (it has rowcount); Session.execute is annotated as any Result.
        result = cast(CursorResult[Any], self.session.execute(
            update(t.coupons)
            .where(c.merchant_id == merchant_id, c.code_key == code_key,
                   (c.max_redemptions.is_(None)) | (c.redemptions < c.max_redemptions))
            .values(redemptions=c.redemptions + 1)
            .execution_options(synchronize_session=False)))
        if result.rowcount == 1:
            coupon = self.session.identity_map.get(self.session.identity_key(Coupon, (merchant_id, code_key)))
            if coupon is not None:
                self.session.expire(coupon, ["redemptions"])
            return True
        return False

    def release(self, merchant_id: str, code_key: str) -> None:
        c = t.coupons.c
        # Relative and floored at zero: concurrent releases never lose one, nor go negative.
        self.session.execute(
            update(t.coupons)
            .where(c.merchant_id == merchant_id, c.code_key == code_key, c.redemptions > 0)
            .values(redemptions=c.redemptions - 1)
            .execution_options(synchronize_session=False))


class Carts:
    def __init__(self, session: Session):
        self.session = session

    def add(self, cart: Cart) -> None:
        self.session.add(cart)

    def get(self, cart_id: str, lock: bool = False) -> Cart | None:
        # FOR UPDATE on PostgreSQL; SQLite takes its write lock at BEGIN IMMEDIATE already.
        return self.session.get(Cart, cart_id, with_for_update=lock or None)


class Orders:
    def __init__(self, session: Session):
        self.session = session

    def add(self, order: Order) -> None:
        self.session.add(order)

    def get(self, order_id: str, lock: bool = False) -> Order | None:
        # `lock`: FOR UPDATE on PostgreSQL (SQLite holds its write lock from BEGIN IMMEDIATE), so a
        # consumer marking the order paid and the scheduler deleting it never both win.
        return self.session.get(Order, order_id, with_for_update=lock or None)

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
        # cast: as in redeem, the UPDATE's result is a CursorResult.
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


class Refunds:
    def __init__(self, session: Session):
        self.session = session

    def add(self, refund: Refund) -> None:
        self.session.add(refund)

    def get(self, refund_id: str, lock: bool = False) -> Refund | None:
        return self.session.get(Refund, refund_id, with_for_update=lock or None)
