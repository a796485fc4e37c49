"""Unit-test fakes: an in-memory unit of work (the same ports, no database) and a service over it."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tillkey.contracts import make_event
from tillkey.orders.domain.errors import Conflict
from tillkey.orders.service_layer.handlers import HANDLERS
from tillkey.orders.service_layer.ports import Deps
from tillkey.platform.clock import FixedClock


def _page(items, limit, cursor):
    items = sorted(items, key=lambda x: x.created_at, reverse=True)
    start = int(cursor or 0)
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return chunk, (str(start + limit) if more else None)


class _Repo:
    def __init__(self, key):
        self.items = {}
        self._key = key

    def add(self, obj):
        self.items[self._key(obj)] = obj


class FakeMerchants(_Repo):
    def get(self, merchant_id):
        return self.items.get(merchant_id)


class FakeProducts(_Repo):
    def get(self, product_id):
        return self.items.get(product_id)

    def get_many(self, product_ids):
        return {p: self.items[p] for p in product_ids if p in self.items}

    def page(self, merchant_id, limit, cursor):
        return _page([p for p in self.items.values() if p.merchant_id == merchant_id], limit, cursor)


class FakeCoupons(_Repo):
    def add(self, coupon):
        if (coupon.merchant_id, coupon.code_key) in self.items:
            raise Conflict("duplicate", code="coupon_exists")
        super().add(coupon)

    def get(self, merchant_id, code_key):
        return self.items.get((merchant_id, code_key))

    def page(self, merchant_id, limit, cursor):
        return _page([c for c in self.items.values() if c.merchant_id == merchant_id], limit, cursor)

    def redeem(self, merchant_id, code_key):
        coupon = self.items[(merchant_id, code_key)]
        if coupon.exhausted:
            return False
        coupon.redemptions += 1
        return True

    def release(self, merchant_id, code_key):
        coupon = self.items.get((merchant_id, code_key))
        if coupon is not None and coupon.redemptions > 0:
            coupon.redemptions -= 1


class FakeCarts(_Repo):
    def __init__(self, key, products):
        super().__init__(key)
        self._products = products
        self.claims = []

    def get(self, cart_id, lock=False):
        return self.items.get(cart_id)

    def claim_for_checkout(self, cart_id, order_id, now):
        cart = self.items.get(cart_id)
        if cart is None or not cart.is_open:
            return None
        # Applied at commit, as the database's conditional update is: a refused checkout leaves it open.
        self.claims.append((cart, order_id, now))
        return cart, self._products.get_many([line.product_id for line in cart.lines])

    def apply_claims(self):
        for cart, order_id, now in self.claims:
            cart.mark_checked_out(order_id, now)
        self.claims = []


class FakeOrders(_Repo):
    def get(self, order_id, lock=False, lines=True):
        return self.items.get(order_id)

    def lock_many(self, order_ids, lines=True):
        pass    # the fake's orders are stored objects: nothing to read ahead

    def claim_unpaid(self, created_before, limit, *, unreminded=False, created_after=None):
        found = [o for o in self.items.values() if o.status == "not_paid" and o.created_at <= created_before
                 and not (unreminded and o.reminder_sent_at is not None)
                 and (created_after is None or o.created_at > created_after)]
        return sorted(found, key=lambda o: (o.created_at, o.order_id))[:limit]

    def reserve_refund(self, order_id, amount):
        order = self.items[order_id]
        if order.status != "paid" or order.refundable < amount:
            return False
        order.refund_reserved += amount
        return True

    def page(self, which, limit, cursor):
        email = which.email.lower() if which.email is not None else None
        found = [o for o in self.items.values() if which.merchant_id in (None, o.merchant_id)
                 and which.status in (None, o.status) and which.delivery_status in (None, o.delivery_status)
                 and email in (None, (o.customer.email or "").lower())
                 and (which.created_from is None or o.created_at >= which.created_from)
                 and (which.created_before is None or o.created_at < which.created_before)]
        return _page(found, limit, cursor)


class FakeRefunds(_Repo):
    def get(self, refund_id, lock=False):
        return self.items.get(refund_id)


class FakeApiKeys(_Repo):
    def add_if_absent(self, key):
        self.items.setdefault(key.key_id, key)

    def get(self, key_id):
        return self.items.get(key_id)

    def of_merchant(self, merchant_id, lock=False):
        return sorted((k for k in self.items.values() if k.merchant_id == merchant_id),
                      key=lambda k: k.created_at, reverse=True)

    def deny(self, merchant_id, key_id, revoked_at):
        self.denied = {**getattr(self, "denied", {}), key_id: merchant_id}


class FakeUnitOfWork:
    """Shared state across `with` blocks, like a database; `emit` validates against the contract."""

    def __init__(self):
        self.merchants = FakeMerchants(lambda m: m.merchant_id)
        self.api_keys = FakeApiKeys(lambda k: k.key_id)
        self.products = FakeProducts(lambda p: p.product_id)
        self.coupons = FakeCoupons(lambda c: (c.merchant_id, c.code_key))
        self.carts = FakeCarts(lambda c: c.cart_id, self.products)
        self.orders = FakeOrders(lambda o: o.order_id)
        self.refunds = FakeRefunds(lambda r: r.refund_id)
        self.events = []        # committed
        self._pending = []
        self.commits = 0

    def __enter__(self):
        self._pending = []
        self.carts.claims = []
        return self

    def __exit__(self, *exc):
        self._pending = []
        self.carts.claims = []

    def emit(self, type, data, version=1):
        env = make_event(type, data, "orders", version=version)   # raises if off-contract
        self._pending.append(env)
        return env

    def commit(self):
        self.carts.apply_claims()
        self.events.extend(self._pending)
        self._pending = []
        self.commits += 1


def make_deps(clock=None):
    counter = itertools.count(1)
    return Deps(clock=clock or FixedClock(datetime(2026, 1, 1, tzinfo=UTC)),
                new_id=lambda prefix: f"{prefix}_{next(counter):06d}",
                platform_secret="secret", orders_public_url="https://shop.test",
                payments_public_url="https://pay.test")


class Service:
    def __init__(self):
        self.uow = FakeUnitOfWork()
        self.deps = make_deps()

    def __call__(self, cmd):
        with self.uow:
            return HANDLERS[type(cmd)](cmd, self.uow, self.deps)

    @property
    def clock(self):
        return self.deps.clock


@pytest.fixture
def svc():
    return Service()
