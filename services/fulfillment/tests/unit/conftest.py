"""A fake unit of work with fulfillment's repositories, for handler and use-case tests."""
from __future__ import annotations

from tillkey.fulfillment.adapters.license_crypto import LicenseCrypto
from tillkey.fulfillment.domain.licensing import Activation, GeneratedKey, SigningKey
from tillkey.fulfillment.domain.model import Order, Product
from tillkey.fulfillment.domain.sources import LicenseSource, Pool
from tillkey.testing.fakes import FakeUnitOfWork


class FakeFulfillmentUow(FakeUnitOfWork):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.orders: dict[str, Order] = {}
        self.products: dict[str, Product] = {}
        self.sources: dict[str, LicenseSource] = {}
        self.pools: dict[str, Pool] = {}
        self.keys: dict[str, list[list]] = {}  # product → [[key, line_id or None], …] in upload order
        self.crypto = LicenseCrypto("unit-test-secret")
        self.signing_keys: dict[str, SigningKey] = {}
        self.generated: list[GeneratedKey] = []
        self.activations: list[Activation] = []
        self.calls_scheduled = 0  # web_service_call_scheduled() calls: the consumer's wake-up signal

    # -- generated keys -----------------------------------------------------------------------
    def signing_key(self, product_id):
        return self.signing_keys.get(product_id)

    def generated_keys_of_order(self, order_id, lock=False):
        return [k for k in self.generated if k.order_id == order_id]

    def delete_activations_of(self, key_ids):
        before = len(self.activations)
        self.activations = [a for a in self.activations if a.key_id not in key_ids]
        return before - len(self.activations)

    def order(self, order_id, lock=False):
        return self.orders.get(order_id)

    def add_order_unless_known(self, order):
        if order.order_id in self.orders:
            return False
        self.add(order)
        return True

    def product(self, product_id):
        return self.products.get(product_id)

    def source(self, product_id):
        return self.sources.get(product_id)

    def delivery_source(self, product_id):
        return self.sources.get(product_id)

    def pool(self, product_id, lock=False):
        return self.pools.get(product_id)

    def delivery(self, line_id, lock=False):
        return next((d for o in self.orders.values() for d in o.deliveries if d.line_id == line_id), None)

    def flush(self):
        pass

    def add(self, obj):
        super().add(obj)
        if isinstance(obj, Order):
            self.orders[obj.order_id] = obj
        elif isinstance(obj, Product):
            self.products[obj.product_id] = obj
        elif isinstance(obj, LicenseSource):
            self.sources[obj.product_id] = obj
        elif isinstance(obj, Pool):
            self.pools[obj.product_id] = obj
        elif isinstance(obj, SigningKey):
            self.signing_keys[obj.product_id] = obj
        elif isinstance(obj, GeneratedKey):
            self.generated.append(obj)
        elif isinstance(obj, Activation):
            self.activations.append(obj)

    # -- the pool, as plain lists ---------------------------------------------------------
    def fill(self, product_id, *keys):
        self.keys.setdefault(product_id, []).extend([k, None] for k in keys)

    def pool_counts(self, product_id):
        rows = self.keys.get(product_id, [])
        available = sum(1 for _k, line in rows if line is None)
        return available, len(rows) - available

    def web_service_call_scheduled(self):
        self.calls_scheduled += 1

    def available_keys(self, product_id, up_to):
        return min(up_to, self.pool_counts(product_id)[0])

    def claim_keys(self, product_id, quantity, line_id, now):
        free = [row for row in self.keys.get(product_id, []) if row[1] is None][:quantity]
        if len(free) < quantity:
            return None
        for row in free:
            row[1] = line_id
        return [row[0] for row in free]
