"""Unit-test fakes: an in-memory unit of work with fulfillment's repositories (the same ports as
adapters/uow.py, checked by tests/integration/test_ports_conformance.py), and the deps."""
from __future__ import annotations

import itertools

from tillkey.fulfillment.adapters.license_crypto import LicenseCrypto
from tillkey.fulfillment.domain.errors import Conflict
from tillkey.fulfillment.domain.sources import DEFAULT_LOW_STOCK_THRESHOLD, Pool
from tillkey.fulfillment.service_layer.ports import Claimed, Deps
from tillkey.platform.clock import FixedClock
from tillkey.testing.fakes import FakeUnitOfWork


class _Repo:
    """Objects by key, like a table; what is added is also in the unit of work's `added`."""

    def __init__(self, uow: FakeFulfillmentUow, key):
        self.items: dict = {}
        self._uow = uow
        self._key = key

    def add(self, obj) -> None:
        self._uow.added.append(obj)
        self.items[self._key(obj)] = obj

    def get(self, key):
        return self.items.get(key)

    def __getitem__(self, key):
        return self.items[key]

    def __iter__(self):
        return iter(list(self.items.values()))


class FakeProducts(_Repo):
    def add_now(self, product):
        if product.product_id in self.items:
            raise Conflict(f"The product {product.product_id} is known already.")
        self.add(product)


class FakeOrders(_Repo):
    def get(self, order_id, *, lock=False):
        return self.items.get(order_id)

    def get_with_lines(self, order_id):
        return self.items.get(order_id)

    def add_unless_known(self, order):
        if order.order_id in self.items:
            return False
        self.add(order)
        return True

    def _lines(self):
        return [d for o in self.items.values() for d in o.deliveries]

    def line(self, line_id, *, lock=False):
        return next((d for d in self._lines() if d.line_id == line_id), None)

    def lines_waiting_for_pool(self, product_id):
        return [d for d in self._lines() if d.product_id == product_id and d.status == "awaiting_merchant"
                and d.fallback_from == "pool"]

    def due_web_service_lines(self, now, limit):
        due = [d for d in self._lines() if d.status == "pending" and d.method == "web_service"
               and d.next_attempt_at <= now and (d.lease_expires_at is None or d.lease_expires_at <= now)]
        return sorted(due, key=lambda d: d.next_attempt_at)[:limit]

    def next_web_service_call_at(self):
        due = [max(d.next_attempt_at, d.lease_expires_at or d.next_attempt_at) for d in self._lines()
               if d.status == "pending" and d.method == "web_service"]
        return min(due, default=None)


class FakeSources(_Repo):
    def for_delivery(self, product_id):
        return self.items.get(product_id)


class FakePools(_Repo):
    """The pool settings by product, and its keys as plain lists: [[key, line_id or None], …] in upload order."""

    def __init__(self, uow, key):
        super().__init__(uow, key)
        self.keys: dict[str, list[list]] = {}

    def get(self, product_id, *, lock=False):
        return self.items.get(product_id)

    def lock(self, product_id, merchant_id):
        if product_id not in self.items:
            self.items[product_id] = Pool(product_id, merchant_id, DEFAULT_LOW_STOCK_THRESHOLD, True)
        return self.items[product_id]

    def fill(self, product_id, *keys):
        self.keys.setdefault(product_id, []).extend([k, None] for k in keys)

    def counts(self, product_id):
        rows = self.keys.get(product_id, [])
        available = sum(1 for _k, line in rows if line is None)
        return available, len(rows) - available

    def available(self, product_id, up_to):
        return min(up_to, self.counts(product_id)[0])

    def claim(self, product_id, quantity, line_id, now, *, count_left_up_to=0):
        free = [row for row in self.keys.get(product_id, []) if row[1] is None][:quantity]
        if len(free) < quantity:
            return None
        for row in free:
            row[1] = line_id
        return Claimed([row[0] for row in free], self.available(product_id, up_to=count_left_up_to))

    def existing(self, product_id, keys):
        return {k for k, _line in self.keys.get(product_id, [])} & set(keys)

    def insert(self, product_id, keys, now):
        self.fill(product_id, *keys)


class FakeSigningKeys(_Repo):
    pass


class FakeGeneratedKeys(_Repo):
    def get(self, key_id, *, lock=False):
        return self.items.get(key_id)

    def _by_hash(self, key_hash):
        return next((k for k in self.items.values() if k.key_hash == key_hash), None)

    def by_hash(self, key_hash):
        key = self._by_hash(key_hash)
        return (key, len(self._uow.activations.of_key(key.key_id))) if key is not None else (None, 0)

    def lock_by_hash(self, key_hash):
        return self._by_hash(key_hash)

    def of_order(self, order_id, *, lock=False):
        return [k for k in self.items.values() if k.order_id == order_id]

    def page(self, product_id, limit, cursor):
        keys = sorted((k for k in self.items.values() if k.product_id == product_id),
                      key=lambda k: (k.issued_at, k.key_id), reverse=True)
        start = int(cursor or 0)
        return keys[start:start + limit], (str(start + limit) if start + limit < len(keys) else None)

    def tokens_of_lines(self, line_ids):
        tokens: dict[str, list[str]] = {}
        for k in sorted(self.items.values(), key=lambda k: (k.line_id, k.position)):
            if k.line_id in line_ids:
                tokens.setdefault(k.line_id, []).append(k.token)
        return tokens


class FakeActivations(_Repo):
    def of_key(self, key_id):
        return [a for a in self.items.values() if a.key_id == key_id]

    def counts(self, key_ids):
        counts: dict[str, int] = {}
        for a in self.items.values():
            if a.key_id in key_ids:
                counts[a.key_id] = counts.get(a.key_id, 0) + 1
        return counts

    def remove(self, activation):
        del self.items[activation.activation_id]

    def remove_of_keys(self, key_ids):
        gone = [a for a in self.items.values() if a.key_id in key_ids]
        for a in gone:
            self.remove(a)
        return len(gone)


class FakeRevokedKeys:
    def __init__(self):
        self.denied: dict[str, str] = {}   # key id → merchant id

    def deny(self, merchant_id, key_id, revoked_at):
        self.denied[key_id] = merchant_id


class FakeFulfillmentUow(FakeUnitOfWork):
    """Shared state across `with` blocks, like a database; `emit` validates against the contract."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.products = FakeProducts(self, lambda p: p.product_id)
        self.orders = FakeOrders(self, lambda o: o.order_id)
        self.sources = FakeSources(self, lambda s: s.product_id)
        self.pools = FakePools(self, lambda p: p.product_id)
        self.signing_keys = FakeSigningKeys(self, lambda k: k.product_id)
        self.generated_keys = FakeGeneratedKeys(self, lambda k: k.key_id)
        self.activations = FakeActivations(self, lambda a: a.activation_id)
        self.revoked_keys = FakeRevokedKeys()
        self.calls_scheduled = 0  # web_service_call_scheduled() calls: the consumer's wake-up signal

    def web_service_call_scheduled(self):
        self.calls_scheduled += 1


def make_deps(clock=None) -> Deps:
    counter = itertools.count(1)
    return Deps(clock=clock or FixedClock(), new_id=lambda prefix: f"{prefix}_{next(counter):06d}",
                crypto=LicenseCrypto("unit-test-secret"))
