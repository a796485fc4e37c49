"""The background worker: settles due charges and refunds, then delivers their signed notifications.

Everything it does starts from rows in the SQLite file, so a restart picks up where it stopped:
a charge still `pending`, a notification not yet answered 2xx.
"""
from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tillkey.contracts import signing
from tillkey.payments.sandbox import cards
from tillkey.payments.sandbox.gateway import iso, new_id
from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.payments.sandbox.store import Store
from tillkey.platform.outbound import OutboundFailed, OutboundHttp, OutboundTimeout
from tillkey.platform.urls import UnsafeUrl

log = logging.getLogger("tillkey.sandbox.worker")
BATCH = 50
ANSWER_BYTES = 64 * 1024  # of a receiver's answer: only its status counts


def retry_delay(schedule: tuple[float, ...], attempts: int) -> float:
    """Delay before the next try after `attempts` failed ones; the last interval repeats."""
    return schedule[min(attempts, len(schedule)) - 1]


class Worker:
    def __init__(self, store: Store, settings: SandboxSettings, clock=time.time, http=None):
        self.store = store
        self.settings = settings
        self.clock = clock
        # Notifications go out side by side, as a real provider's do, over kept connections (a pool
        # per receiver shared by the sending threads, urllib3's; tillkey.platform.outbound): no proxy
        # from the environment, no redirects, and a kept connection the receiver closed just as we
        # sent is tried once more on a new one instead of waiting for the retry schedule. An
        # injected `http` (tests) is used alone, one post at a time, in order.
        self._http = http or OutboundHttp(allow_private=True, per_origin=settings.notify_concurrency)
        self._senders = ThreadPoolExecutor(1 if http else settings.notify_concurrency,
                                           thread_name_prefix="sandbox-notify")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._nap_ends = math.inf  # when the current nap ends; infinity while the notifier is awake

    def wake(self) -> None:
        """A new charge or refund, due settle_delay from now. A notifier whose nap ends before then
        finds it anyway, so it is not woken: that pass would only read that nothing is due yet
        (three read transactions for nothing, per charge, under a steady flow of charges)."""
        if self._nap_ends > self.clock() + self.settings.settle_delay:
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self._nap_ends = math.inf  # awake: every nudge counts until the next nap is planned
            self._wake.clear()  # before the work: a charge arriving during it wakes the next wait
            try:
                busy = self.tick()
            except Exception:  # noqa: BLE001 — a bad row or a locked file must not kill the loop
                log.exception("worker tick failed; trying again")
                busy = False
            if not busy:
                # Sleep until the next thing falls due (a charge settles, a retry is due), or a new
                # charge or refund wakes us; the poll interval is only the longest nap. A charge
                # committed after the read below either sees the nap end set (and wakes us if it
                # falls due sooner) or sees infinity and wakes us at once.
                nap = self._seconds_until_due()
                self._nap_ends = self.clock() + nap
                self._wake.wait(nap)
        self._senders.shutdown(wait=True)
        if isinstance(self._http, OutboundHttp):
            self._http.close()

    def _seconds_until_due(self) -> float:
        try:
            with self.store.read() as db:
                (due,) = db.execute(
                    "SELECT MIN(t) FROM (SELECT MIN(settle_at) AS t FROM charges WHERE status = 'pending'"
                    " UNION ALL SELECT MIN(settle_at) FROM refunds WHERE status = 'pending'"
                    " UNION ALL SELECT MIN(next_attempt_at) FROM notifications WHERE status = 'pending')").fetchone()
        except sqlite3.Error:
            return self.settings.poll_interval
        if due is None:
            return self.settings.poll_interval
        return min(max(due - self.clock(), 0.0), self.settings.poll_interval)

    def tick(self) -> bool:
        """One pass; True if there may be more work due right away."""
        settled = self.settle_due()
        delivered = self.deliver_due()
        return settled + delivered >= BATCH

    # -- settling -------------------------------------------------------------------------------
    def settle_due(self) -> int:
        now = self.clock()
        with self.store.read() as db:  # most ticks find nothing: do not take the write lock for that
            (due,) = db.execute("SELECT (SELECT COUNT(*) FROM charges WHERE status = 'pending' AND settle_at <= ?)"
                                " + (SELECT COUNT(*) FROM refunds WHERE status = 'pending' AND settle_at <= ?)",
                                (now, now)).fetchone()
        if not due:
            return 0
        with self.store.tx() as db:
            # The status change and its notification commit together: the result is never
            # decided without being told, nor told twice.
            charges = db.execute("SELECT * FROM charges WHERE status = 'pending' AND settle_at <= ?"
                                 " ORDER BY settle_at LIMIT ?", (now, BATCH)).fetchall()
            for c in charges:
                self._settle_charge(db, c, now)
            refunds = db.execute("SELECT r.*, c.currency, c.behaviour FROM refunds r JOIN charges c USING"
                                 " (charge_id) WHERE r.status = 'pending' AND r.settle_at <= ?"
                                 " ORDER BY r.settle_at LIMIT ?", (now, BATCH)).fetchall()
            for r in refunds:
                self._settle_refund(db, r, now)
        return len(charges) + len(refunds)

    def _settle_charge(self, db: sqlite3.Connection, c: sqlite3.Row, now: float) -> None:
        b = cards.BEHAVIOURS[c["behaviour"]]
        db.execute("UPDATE charges SET status = ?, failure_code = ?, failure_message = ?, settled_at = ?"
                   " WHERE charge_id = ?", (b.charge_status, b.failure_code, b.failure_message, now, c["charge_id"]))
        data = {"charge_id": c["charge_id"], "reference": c["reference"], "amount": c["amount"],
                "currency": c["currency"], "status": b.charge_status, "metadata": json.loads(c["metadata"])}
        if b.failure_code:
            data |= {"failure_code": b.failure_code, "failure_message": b.failure_message}
        self._enqueue(db, c["notification_url"], f"charge.{b.charge_status}", data, now)
        log.info("charge %s %s%s", c["charge_id"], b.charge_status, f" ({b.failure_code})" if b.failure_code else "")

    def _settle_refund(self, db: sqlite3.Connection, r: sqlite3.Row, now: float) -> None:
        fails = cards.BEHAVIOURS[r["behaviour"]].refund_fails
        status, code, message = ("failed", "refund_declined", "The card issuer refused the refund.") if fails \
            else ("succeeded", None, None)
        db.execute("UPDATE refunds SET status = ?, failure_code = ?, failure_message = ?, settled_at = ?"
                   " WHERE refund_id = ?", (status, code, message, now, r["refund_id"]))
        data = {"charge_id": r["charge_id"], "refund_id": r["refund_id"], "reference": r["reference"],
                "amount": r["amount"], "currency": r["currency"], "status": status}
        if code:
            data |= {"failure_code": code, "failure_message": message}
        self._enqueue(db, r["notification_url"], f"refund.{status}", data, now)
        log.info("refund %s %s", r["refund_id"], status)

    @staticmethod
    def _enqueue(db: sqlite3.Connection, url: str, type_: str, data: dict[str, Any], now: float) -> None:
        ntf_id = new_id("ntf")
        body = json.dumps({"id": ntf_id, "type": type_, "created_at": iso(now), "data": data},
                          separators=(",", ":"))
        db.execute("INSERT INTO notifications (notification_id, url, body, status, next_attempt_at, created_at)"
                   " VALUES (?, ?, ?, 'pending', ?, ?)", (ntf_id, url, body, now, now))

    # -- delivering -----------------------------------------------------------------------------
    def deliver_due(self) -> int:
        with self.store.read() as db:
            due = db.execute("SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ?"
                             " ORDER BY next_attempt_at, created_at LIMIT ?", (self.clock(), BATCH)).fetchall()
        if not due or self._stop.is_set():
            return 0
        # Sent before the rows are marked: a crash in between sends them again with the same
        # webhook-id, which receivers de-duplicate on (at least once, never lost).
        outcomes = list(self._senders.map(self._send, due))
        now = self.clock()
        with self.store.tx() as db:  # one transaction records the whole batch
            for n, (status, error) in zip(due, outcomes, strict=True):
                self._record(db, n, status, error, now)
        return len(due)

    def _send(self, n: sqlite3.Row) -> tuple[int | None, str | None]:
        stamp = int(self.clock())
        headers = {"Content-Type": "application/json", "User-Agent": "tillkey-sandbox-gateway/1",
                   **signing.headers([self.settings.secret], n["notification_id"], stamp, n["body"])}
        try:
            answer = self._http.post(n["url"], n["body"].encode(), headers, timeout=self.settings.notify_timeout,
                                     max_bytes=ANSWER_BYTES)
            return answer.status, None
        except (OutboundFailed, OutboundTimeout, UnsafeUrl) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]

    def _record(self, db: sqlite3.Connection, n: sqlite3.Row, status: int | None, error: str | None,
                now: float) -> None:
        if status is not None and 200 <= status < 300:
            db.execute("UPDATE notifications SET status = 'delivered', attempts = attempts + 1,"
                       " last_status = ?, last_error = NULL, delivered_at = ? WHERE notification_id = ?",
                       (status, now, n["notification_id"]))
            log.info("notification %s delivered (%s)", n["notification_id"], status)
            return
        attempts = n["attempts"] + 1
        next_at = now + retry_delay(self.settings.retry_schedule, attempts)
        gave_up = next_at - n["created_at"] > self.settings.give_up_after
        db.execute("UPDATE notifications SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?,"
                   " last_error = ? WHERE notification_id = ?",
                   ("failed" if gave_up else "pending", attempts, next_at, status,
                    error or f"HTTP {status}", n["notification_id"]))
        log.warning("notification %s to %s not accepted (%s), %s", n["notification_id"], n["url"],
                    error or f"HTTP {status}", "giving up" if gave_up else f"retry in {next_at - now:.1f}s")
