"""Unit-test fakes: an in-memory unit of work with the same ports as the real one (no database),
checked against them by tests/integration/test_ports_conformance.py, and the Deps a test runs with."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tillkey.notifications.adapters.rendering import JinjaRenderer
from tillkey.notifications.service_layer.ports import Deps
from tillkey.platform.clock import FixedClock


class _Repo:
    def __init__(self, key):
        self.items = {}
        self._key = key
        self.added = 0      # how many rows were inserted (a second order.created inserts none)

    def add(self, obj):
        self.items[self._key(obj)] = obj
        self.added += 1

    def add_all(self, objs):
        for obj in objs:
            self.add(obj)

    def get(self, key):
        return self.items.get(key)

    def save(self, obj):
        assert self.items.get(self._key(obj)) is obj  # the caller changed what it read


class FakeMerchants(_Repo):
    pass


class FakeRecipients(_Repo):
    def __init__(self, key, lines):
        super().__init__(key)
        self._lines = lines

    def get_with_line(self, order_id, line_id):
        recipient, line = self.get(order_id), self._lines.get(line_id)
        return recipient, (line.name if recipient and line and line.order_id == order_id else None)

    def add_unless_known(self, recipient, lines=()):
        if recipient.order_id in self.items:
            return False
        self.add(recipient)
        self._lines.add_all(lines)
        return True


class FakeOrderLines(_Repo):
    pass


class FakeProducts(_Repo):
    def known(self, product_ids):
        return {p for p in product_ids if p in self.items}


class FakeMessages(_Repo):
    def all(self):
        return list(self.items.values())

    def queue(self, message):
        if any(m.cause == message.cause for m in self.items.values()):
            return False
        self.add(message)
        return True

    def save_all(self, messages, *, with_content=False):
        for message in messages:
            self.save(message)

    def mark_sent(self, message_ids, now):
        for message_id in message_ids:
            if message_id in self.items:
                self.items[message_id].mark_sent(now)

    def locked(self, message_ids):
        return {i: self.items[i] for i in sorted(set(message_ids)) if i in self.items}

    def of_order(self, order_id):
        return [m for m in self.items.values() if m.order_id == order_id]

    def claim_due(self, now, limit):
        due = [m for m in self.items.values() if m.status == "queued" and m.next_attempt_at <= now]
        return sorted(due, key=lambda m: (m.next_attempt_at, m.created_at))[:limit]

    def next_due_at(self):
        return min((m.next_attempt_at for m in self.items.values() if m.status == "queued"), default=None)

    def page(self, *, merchant_id, order_id, to, status, limit, cursor):
        found = [m for m in self.items.values()
                 if (merchant_id is None or m.merchant_id == merchant_id)
                 and (order_id is None or m.order_id == order_id)
                 and (to is None or (m.to or "").lower() == to.lower())
                 and (status is None or m.status == status)]
        found.sort(key=lambda m: (m.created_at, m.message_id), reverse=True)
        start = int(cursor or 0)
        more = start + limit < len(found)
        return found[start:start + limit], (str(start + limit) if more else None)


    def failed(self, limit):
        found = sorted((m for m in self.items.values() if m.status == "failed"), key=lambda m: m.created_at,
                       reverse=True)[:limit]
        return [{"message_id": m.message_id, "template": m.template, "order_id": m.order_id, "attempts": m.attempts,
                 "last_error": m.last_error, "created_at": m.created_at} for m in found]

    def requeue_failed(self, message_ids, now):
        found = [m for m in self.items.values()
                 if m.status == "failed" and (message_ids is None or m.message_id in message_ids)]
        for m in found:
            m.status, m.next_attempt_at = "queued", now
        return len(found)


class FakeRevokedKeys:
    def __init__(self):
        self.denied = {}

    def deny(self, merchant_id, key_id, revoked_at):
        self.denied.setdefault(key_id, (merchant_id, revoked_at))


class FakeUnitOfWork:
    """Shared state across `with` blocks, like a database."""

    def __init__(self):
        self.merchants = FakeMerchants(lambda m: m.merchant_id)
        self.lines = FakeOrderLines(lambda line: line.line_id)
        self.recipients = FakeRecipients(lambda r: r.order_id, self.lines)
        self.products = FakeProducts(lambda p: p.product_id)
        self.messages = FakeMessages(lambda m: m.message_id)
        self.revoked_keys = FakeRevokedKeys()
        self.commits = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def commit(self):
        self.commits += 1

    def rollback(self):
        pass

    def sending_lease(self):
        return None  # no sender in this process: queued emails wait for its poll

    def hand_off(self, job):
        raise AssertionError("nothing is handed off without a sending lease")

    def added(self) -> int:
        return sum(repo.added for repo in (self.merchants, self.recipients, self.lines, self.products, self.messages))


def make_deps(clock=None) -> Deps:
    counter = itertools.count(1)
    return Deps(clock=clock or FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
                new_id=lambda prefix: f"{prefix}_{next(counter):06d}", renderer=JinjaRenderer(),
                platform_secret="s", orders_public_url="http://orders.test", payments_public_url="http://pay.test")
