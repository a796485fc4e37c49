"""Unit-test fakes: an in-memory unit of work with the same ports as the real one (checked by
tests/integration/test_ports_conformance.py), and the dependencies a handler takes."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tillkey.platform.clock import FixedClock
from tillkey.testing.fakes import FakeUnitOfWork as _BaseFake
from tillkey.webhooks.domain.model import Attempt, Delivery, Endpoint, OrderRecord, WebhookEvent
from tillkey.webhooks.service_layer.ports import Deps

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _page(items, limit, cursor):
    items = sorted(items, key=lambda x: x.created_at, reverse=True)
    start = int(cursor or 0)
    return items[start:start + limit], (str(start + limit) if start + limit < len(items) else None)


class _Repo:
    """Every fake repository writes into the unit of work's one `added` log (what a test asserts on)."""

    def __init__(self, added: list):
        self.added = added

    def of(self, cls):
        return [o for o in self.added if isinstance(o, cls)]


class FakeEndpoints(_Repo):
    def __init__(self, added, endpoints=()):
        super().__init__(added)
        self.items = list(endpoints)
        self.loaded_merchants = None

    def add(self, endpoint):
        self.items.append(endpoint)
        self.added.append(endpoint)

    def get(self, merchant_id, endpoint_id, *, lock=False):
        return next((e for e in self.items if (e.merchant_id, e.endpoint_id) == (merchant_id, endpoint_id)
                     and e.deleted_at is None), None)

    def by_id(self, endpoint_id, *, lock=False):
        return next((e for e in self.items if e.endpoint_id == endpoint_id), None)

    def page(self, merchant_id, limit, cursor):
        return _page([e for e in self.items if e.merchant_id == merchant_id and e.deleted_at is None], limit, cursor)

    def live(self, merchant_id):
        return [e for e in self.items if e.merchant_id == merchant_id and e.enabled]

    def load_live(self, merchant_ids):
        self.loaded_merchants = sorted(merchant_ids)

    def locked(self, endpoint_ids):
        return {e.endpoint_id: e for e in self.items if e.endpoint_id in endpoint_ids}

    def disabled(self):
        return sorted((e for e in self.items if not e.enabled and e.deleted_at is None), key=lambda e: e.endpoint_id)


class FakeOrderRecords(_Repo):
    def __init__(self, added):
        super().__init__(added)
        self.items: dict[str, OrderRecord] = {}
        self.locked = None

    def get(self, order_id):
        return self.items.get(order_id)

    def lock(self, order_ids):
        self.locked = sorted(order_ids)

    def add(self, record):
        self.items[record.order_id] = record
        self.added.append(record)

    def owner(self, order_id):
        record = self.items.get(order_id)
        return record.merchant_id if record is not None else None


class FakeEvents(_Repo):
    def add(self, event):
        self.added.append(event)

    def get(self, event_id):
        return next((e for e in self.of(WebhookEvent) if e.event_id == event_id), None)

    def by_ids(self, event_ids):
        return {e.event_id: e for e in self.of(WebhookEvent) if e.event_id in event_ids}

    def of_order(self, order_id):
        return [e for e in self.of(WebhookEvent) if e.order_id == order_id]


class FakeDeliveries(_Repo):
    def __init__(self, added):
        super().__init__(added)
        self.leased: dict[str, datetime] = {}
        self.abandoned_endpoints: list[str] = []

    def add(self, delivery):
        self.added.append(delivery)

    def get(self, delivery_id, *, merchant_id=None, lock=False):
        return next((d for d in self.of(Delivery) if d.delivery_id == delivery_id
                     and merchant_id in (None, d.merchant_id)), None)

    def page(self, merchant_id, *, endpoint_id, event_id, status, limit, cursor, order_id=None):
        events = {e.event_id: e for e in self.of(WebhookEvent)}
        found = [d for d in self.of(Delivery) if d.merchant_id == merchant_id
                 and endpoint_id in (None, d.endpoint_id) and event_id in (None, d.event_id)
                 and status in (None, d.status)
                 and (order_id is None or getattr(events.get(d.event_id), "order_id", None) == order_id)]
        return _page(found, limit, cursor)

    def attempts_of(self, delivery_ids):
        out = {i: [] for i in delivery_ids}
        for attempt in self.of(Attempt):
            if attempt.delivery_id in out:
                out[attempt.delivery_id].append(attempt)
        return out

    def attempts_of_events(self, event_ids):
        ids = {d.delivery_id for d in self.of(Delivery) if d.event_id in event_ids}
        return [a for a in self.of(Attempt) if a.delivery_id in ids]

    def _with_body_and_endpoint(self, delivery, endpoints):
        body = next(e.body for e in self.of(WebhookEvent) if e.event_id == delivery.event_id)
        return delivery, body, endpoints.by_id(delivery.endpoint_id)

    def claim_due(self, now, limit, skip_endpoints=frozenset()):
        due = sorted((d for d in self.of(Delivery) if d.status == "pending" and d.next_attempt_at <= now
                      and (d.lease_expires_at is None or d.lease_expires_at <= now)
                      and d.endpoint_id not in skip_endpoints), key=lambda d: d.next_attempt_at)
        return [self._with_body_and_endpoint(d, self.endpoints) for d in due[:limit]]

    def lease(self, delivery_ids, until):
        for delivery in self.of(Delivery):
            if delivery.delivery_id in delivery_ids:
                delivery.lease_expires_at = until
                self.leased[delivery.delivery_id] = until

    def to_settle(self, delivery_ids):
        return {d.delivery_id: self._with_body_and_endpoint(d, self.endpoints)
                for d in self.of(Delivery) if d.delivery_id in delivery_ids}

    def save_settled(self, attempts, deliveries):
        self.added.extend(attempts)  # the deliveries are the stored objects already

    def abandon_pending(self, endpoint_id):
        self.abandoned_endpoints.append(endpoint_id)
        for delivery in self.of(Delivery):
            if delivery.endpoint_id == endpoint_id:
                delivery.abandon()


class FakeRevokedApiKeys:
    def __init__(self):
        self.denied: dict[str, str] = {}

    def deny(self, merchant_id, key_id, revoked_at):
        self.denied[key_id] = merchant_id


class FakeUnitOfWork(_BaseFake):
    """Shared state across `with` blocks, like a database; `emit` validates against the contract."""

    def __init__(self, endpoints: list[Endpoint] = (), **kw):
        super().__init__(**kw)
        self.endpoints = FakeEndpoints(self.added, endpoints)
        self.order_records = FakeOrderRecords(self.added)
        self.events = FakeEvents(self.added)
        self.deliveries = FakeDeliveries(self.added)
        self.deliveries.endpoints = self.endpoints
        self.revoked_api_keys = FakeRevokedApiKeys()

    def of(self, cls):
        return [o for o in self.added if isinstance(o, cls)]


def make_deps(clock=None) -> Deps:
    counter = itertools.count(1)

    def check_url(url):
        if "forbidden" in url:
            raise ValueError("This address is not allowed.")

    secrets = itertools.count(1)
    return Deps(clock=clock or FixedClock(NOW), new_id=lambda prefix: f"{prefix}_{next(counter):06d}",
                new_secret=lambda: f"whsec_test{next(secrets)}", check_url=check_url)
