"""Count what one scenario's orders left in the world: the merchant's receiver, the mail server, the
card gateway and each service's database. Shared by every chaos scenario (tests/chaos/tally.py).

An order the client paid for must end paid and delivered in orders, with its license email and
payment confirmation sent, and every webhook about it at the merchant, numbered 1..n without a gap.
Effects are counted once per fact: a webhook re-sent under the same webhook-id is a redelivery
(allowed, listed apart); two different webhooks for one fact, a key in two orders, a second email of
one kind to one customer, a second charge kept by the gateway are duplicates.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.chaos.tally import Tally

# Every order of the flow meets these; the webhooks and emails a paid, delivered order must have.
ORDER_WEBHOOKS = ("order.created", "payment.succeeded", "product.delivered", "order.delivered")
ORDER_EMAILS = ("payment_confirmation", "license_delivery")
# Emails a customer gets at most once per order (the reminder: only while unpaid).
ONCE_PER_ORDER = (*ORDER_EMAILS, "payment_reminder")
# What happened to a paid order, in order. `sequence` is the order webhooks took the events in
# (docs/architecture.md, 7.4): order.created is always 1, the others come from three services and
# may be numbered in another order than this one; that is noted, not counted.
CAUSAL_ORDER = ORDER_WEBHOOKS


@dataclass
class Order:
    order_id: str
    email: str  # one address per order: the emails are told apart by it
    paid: bool  # the client's payment attempt was accepted


@dataclass
class Run:
    """Where one scenario's effects are: `receiver` (tillkey.testing.receiver.Receiver), `mail`
    (tillkey.testing.smtp.SmtpSink), the services' database URLs and the sandbox gateway's file."""

    merchant_id: str
    orders: list[Order]
    receiver: object
    mail: object
    database_urls: dict[str, str]
    sandbox_db: Path
    since: float = field(default_factory=time.time)  # receiver arrivals before this are another run's
    # The mail sender was SIGKILLed: an email the server accepted just before may go again under
    # the same Message-ID (the one window docs/architecture.md 7.6 leaves; at most one copy per
    # crash) — listed as a redelivery then, like a webhook's. Any other second email is a duplicate.
    mail_sender_killed: bool = False

    def webhooks(self) -> dict[str, list[dict]]:
        """order id → every webhook body that arrived about it (redeliveries included), with its id."""
        ours = {o.order_id for o in self.orders}
        out: dict[str, list[dict]] = defaultdict(list)
        for req in self.receiver.snapshot():
            if req.at < self.since - 1:
                continue
            try:
                body = req.json()
            except ValueError:
                continue
            order_id = (body.get("data") or {}).get("order_id")
            if order_id in ours:
                out[order_id].append({**body, "_webhook_id": req.headers.get("webhook-id")})
        return out

    def emails(self) -> dict[str, list]:
        """customer address → the emails the mail server took for it."""
        ours = {o.email.lower() for o in self.orders}
        out: dict[str, list] = defaultdict(list)
        for mail in self.mail.received():
            for rcpt in mail.rcpt_tos:
                if rcpt.lower() in ours:
                    out[rcpt.lower()].append(mail)
        return out

    def rows(self, service: str, sql: str) -> list:
        engine = create_engine(self.database_urls[service])
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), {"m": self.merchant_id}))
        finally:
            engine.dispose()


def settle(run: Run, timeout: float) -> float:
    """Wait (at most `timeout` s) until every paid order is complete and no webhook is pending."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if not _incomplete(run) and not _pending_webhooks(run):
                break
        except Exception:  # noqa: BLE001 — a database still coming back: look again
            pass
        time.sleep(0.5)
    return time.monotonic() - started


def count(run: Run, tally: Tally) -> Tally:
    """Fill lost, duplicated, undelivered and redelivered for the run's orders."""
    tally.orders += len(run.orders)
    tally.count("lost", _incomplete(run))
    webhooks = run.webhooks()
    tally.notes.append(f"seen: {sum(o.paid for o in run.orders)} orders paid, "
                       f"{sum(len(v) for v in webhooks.values())} webhooks, "
                       f"{sum(len(v) for v in run.emails().values())} emails to customers")
    redelivered, webhook_dups, gaps, disorder = _webhook_findings(webhooks)
    tally.count("unexpected", [d for d in disorder if d.endswith("(BROKEN)")], "webhook sequence")
    tally.notes.extend(f"numbered in arrival order, not as it happened: {d}" for d in disorder
                       if not d.endswith("(BROKEN)"))
    tally.count("redelivered", len(redelivered))
    tally.notes.extend(f"redelivered: {r}" for r in redelivered[:10])
    tally.count("duplicated", webhook_dups, "webhook")
    tally.count("lost", gaps, "webhook sequence")
    resent, duplicated = _email_duplicates(run)
    tally.count("duplicated", duplicated, "email")
    tally.count("redelivered", len(resent))
    tally.notes.extend(f"redelivered: email {r} after its sender was killed" for r in resent)
    tally.count("duplicated", _keys_issued_twice(run, webhooks), "license key")
    tally.count("duplicated", _double_charges(run), "charge")
    tally.count("duplicated", _orders_nobody_asked_for(run), "order")
    tally.count("undelivered", _pending_webhooks(run) + _failed_webhooks(run))
    return tally


# -- lost -------------------------------------------------------------------------------------
def _incomplete(run: Run) -> list[str]:
    state = {r.order_id: (r.status, r.delivery_status) for r in run.rows(
        "orders", "SELECT order_id, status, delivery_status FROM orders WHERE merchant_id = :m")}
    webhooks, emails = run.webhooks(), run.emails()
    missing = []
    for order in (o for o in run.orders if o.paid):
        status = state.get(order.order_id)
        if status != ("paid", "delivered"):
            missing.append(f"{order.order_id} is {status} in orders")
        arrived = {w["type"] for w in webhooks.get(order.order_id, [])}
        missing += [f"{order.order_id}: webhook {t} never arrived" for t in ORDER_WEBHOOKS if t not in arrived]
        sent = {m.header("X-Tillkey-Template") for m in emails.get(order.email.lower(), [])}
        missing += [f"{order.order_id}: email {t} never sent" for t in ORDER_EMAILS if t not in sent]
    return missing


# -- webhooks ---------------------------------------------------------------------------------
def _webhook_findings(webhooks: dict[str, list[dict]]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(redelivered, duplicated, gaps in the sequence, sequences against what happened)."""
    redelivered, duplicated, gaps, disorder = [], [], [], []
    for order_id, bodies in webhooks.items():
        by_id: dict[str, dict] = {}
        for body in bodies:
            if body["_webhook_id"] in by_id:
                redelivered.append(f"{order_id} {body['type']} ({body['_webhook_id']})")
            by_id[body["_webhook_id"]] = body
        kinds = Counter(b["type"] for b in by_id.values())
        duplicated += [f"{order_id}: {n} different {kind} webhooks" for kind, n in kinds.items() if n > 1]
        sequences = sorted(b.get("sequence") for b in by_id.values() if b.get("sequence") is not None)
        if sequences != list(range(1, len(sequences) + 1)):
            gaps.append(f"{order_id}: sequences {sequences}")
        first = [b["type"] for b in by_id.values() if b.get("sequence") == 1]
        if "order.created" in kinds and first != ["order.created"]:
            disorder.append(f"{order_id}: sequence 1 is {first}, not order.created (BROKEN)")
        numbered = [b["type"] for b in sorted(by_id.values(), key=lambda b: b.get("sequence") or 0)
                    if b["type"] in CAUSAL_ORDER]
        if numbered != sorted(numbered, key=CAUSAL_ORDER.index):
            disorder.append(f"{order_id}: {numbered}")
    return redelivered, duplicated, gaps, disorder


def _pending_webhooks(run: Run) -> list[str]:
    return [f"delivery {r.delivery_id} ({r.event_type}) still pending" for r in run.rows(
        "webhooks", "SELECT delivery_id, event_type FROM deliveries WHERE merchant_id = :m AND status = 'pending'")]


def _failed_webhooks(run: Run) -> list[str]:
    return [f"delivery {r.delivery_id} ({r.event_type}) given up" for r in run.rows(
        "webhooks", "SELECT delivery_id, event_type FROM deliveries WHERE merchant_id = :m AND status = 'failed'")]


# -- duplicated effects -----------------------------------------------------------------------
def _email_duplicates(run: Run) -> tuple[list[str], list[str]]:
    """(resent under the same Message-ID after the sender's crash, duplicated)."""
    resent, found = [], []
    for address, mails in run.emails().items():
        by_id = Counter(m.message_id for m in mails)
        for message_id, n in by_id.items():
            if n > 1:
                (resent if run.mail_sender_killed and n == 2 else found).append(
                    f"Message-ID {message_id} sent {n} times to {address}")
        kinds = Counter(m.header("X-Tillkey-Template") for m in {m.message_id: m for m in mails}.values())
        for template, n in kinds.items():
            if n > 1 and template in ONCE_PER_ORDER:
                found.append(f"{n} different {template} emails to {address}")
    return resent, found


def _keys_issued_twice(run: Run, webhooks: dict[str, list[dict]]) -> list[str]:
    holders: dict[str, set[str]] = defaultdict(set)
    for row in run.rows("fulfillment", "SELECT d.order_id, d.quantity, d.licenses FROM deliveries d "
                                       "JOIN orders o ON o.order_id = d.order_id WHERE o.merchant_id = :m"):
        keys = json.loads(row.licenses) if isinstance(row.licenses, str) else (row.licenses or [])
        for key in keys:
            holders[key].add(row.order_id)
    for order_id, bodies in webhooks.items():
        for body in bodies:
            if body["type"] == "product.delivered":
                for key in body["data"].get("licenses") or []:
                    holders[key].add(order_id)
    return [f"{key} went to {sorted(orders)}" for key, orders in holders.items() if len(orders) > 1]


def _double_charges(run: Run) -> list[str]:
    order_of = {r.payment_id: r.order_id for r in run.rows(
        "payments", "SELECT p.payment_id, p.order_id FROM payments p JOIN orders o ON o.order_id = p.order_id "
                    "WHERE o.merchant_id = :m")}
    with sqlite3.connect(run.sandbox_db, timeout=15) as db:
        kept = db.execute(
            "SELECT c.reference, c.amount - COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.charge_id = "
            "c.charge_id AND r.status = 'succeeded'), 0) FROM charges c WHERE c.status = 'succeeded'").fetchall()
    per_order: Counter = Counter()
    for reference, amount in kept:
        if reference in order_of and amount > 0:
            per_order[order_of[reference]] += 1
    return [f"{order_id} charged {n} times" for order_id, n in per_order.items() if n > 1]


def _orders_nobody_asked_for(run: Run) -> list[str]:
    """An order the clients never got an answer for: a second order behind one Idempotency-Key, or
    a checkout that stranded its customer."""
    known = {o.order_id for o in run.orders}
    return [f"order {r.order_id} exists, no client was told of it" for r in run.rows(
        "orders", "SELECT order_id FROM orders WHERE merchant_id = :m") if r.order_id not in known]
