"""What the sandbox does: tokenize, charge, refund — each in one SQLite transaction."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from tillkey.payments.sandbox import cards
from tillkey.payments.sandbox.store import Store
from tillkey.payments.sandbox.validation import GatewayProblem

log = logging.getLogger("tillkey.sandbox")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"  # 128 random bits


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


class Gateway:
    def __init__(self, store: Store, settle_delay: float, clock=time.time):
        self.store = store
        self.settle_delay = settle_delay
        self.clock = clock

    # -- tokens ---------------------------------------------------------------------------------
    def tokenize(self, number: str, exp_month: int, exp_year: int) -> dict[str, Any]:
        token, brand, last4 = new_id("tok"), cards.brand_of(number), number[-4:]
        with self.store.tx() as db:
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                       (token, brand, last4, exp_month, exp_year, cards.behaviour_for(number).name, self.clock()))
        log.info("token %s created (%s ending %s)", token, brand, last4)
        return {"payment_token": token, "brand": brand, "last4": last4, "exp_month": exp_month, "exp_year": exp_year}

    # -- idempotency ----------------------------------------------------------------------------
    def _claim(self, db: sqlite3.Connection, scope: str, key: str, body: dict) -> sqlite3.Row | None:
        """The key's row if the same request came before; 422 if the key was used for another body."""
        row = db.execute("SELECT * FROM idempotency WHERE scope = ? AND key = ?", (scope, key)).fetchone()
        if row is None:
            db.execute("INSERT INTO idempotency (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                       (scope, key, fingerprint(body), self.clock()))
            return None
        if row["fingerprint"] != fingerprint(body):
            raise GatewayProblem(422, "idempotency_key_reused",
                                 "This Idempotency-Key was used with a different request body.")
        return row

    @staticmethod
    def _remember(db: sqlite3.Connection, scope: str, key: str, answer: Answer) -> Answer:
        db.execute("UPDATE idempotency SET status_code = ?, response = ? WHERE scope = ? AND key = ?",
                   (answer.status, json.dumps(answer.body), scope, key))
        return answer

    # -- charges --------------------------------------------------------------------------------
    def charge(self, key: str, req: dict[str, Any]) -> Answer:
        unavailable = False
        with self.store.tx() as db:
            seen = self._claim(db, "charges", key, req)
            if seen is not None and seen["response"] is not None:
                return Answer(seen["status_code"], json.loads(seen["response"]), replayed=True)
            tok = db.execute("SELECT * FROM tokens WHERE token = ?", (req["payment_token"],)).fetchone()
            if tok is None:
                raise GatewayProblem(422, "token_invalid", "No such payment token.",
                                     {"payment_token": ["No such payment token."]})
            if tok["used_at"] is not None:
                raise GatewayProblem(422, "token_used", "This payment token was already used; tokens are single-use.",
                                     {"payment_token": ["Already used."]})
            behaviour = cards.BEHAVIOURS[tok["behaviour"]]
            failed_tries = seen["failed_tries"] if seen is not None else 0
            if failed_tries < behaviour.unavailable_tries:
                # Counted per idempotency key and committed before answering, so the caller's
                # retries with the same key are what gets the charge through.
                db.execute("UPDATE idempotency SET failed_tries = failed_tries + 1 WHERE scope = ? AND key = ?",
                           ("charges", key))
                unavailable = True
            else:
                answer = self._create_charge(db, key, req, tok)
        if unavailable:
            raise GatewayProblem(503, "temporarily_unavailable", "The card network did not answer; retry the "
                                 "same request with the same Idempotency-Key.", headers={"Retry-After": "0"})
        log.info("charge %s created for %s %s (reference %s)", answer.body["charge_id"], req["amount"],
                 req["currency"], req["reference"])
        return answer

    def _create_charge(self, db: sqlite3.Connection, key: str, req: dict, tok: sqlite3.Row) -> Answer:
        now, charge_id = self.clock(), new_id("ch")
        db.execute("UPDATE tokens SET used_at = ? WHERE token = ?", (now, tok["token"]))
        db.execute("INSERT INTO charges (charge_id, token, amount, currency, reference, notification_url, metadata,"
                   " brand, last4, behaviour, status, created_at, settle_at) VALUES"
                   " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                   (charge_id, tok["token"], req["amount"], req["currency"], req["reference"],
                    req["notification_url"], json.dumps(req["metadata"]), tok["brand"], tok["last4"],
                    tok["behaviour"], now, now + self.settle_delay))
        body = {"charge_id": charge_id, "status": "pending", "amount": req["amount"], "currency": req["currency"],
                "reference": req["reference"]}
        return self._remember(db, "charges", key, Answer(202, body))

    # -- refunds --------------------------------------------------------------------------------
    def refund(self, key: str, req: dict[str, Any]) -> Answer:
        with self.store.tx() as db:
            seen = self._claim(db, "refunds", key, req)
            if seen is not None and seen["response"] is not None:
                return Answer(seen["status_code"], json.loads(seen["response"]), replayed=True)
            charge = db.execute("SELECT * FROM charges WHERE charge_id = ?", (req["charge_id"],)).fetchone()
            if charge is None:
                raise GatewayProblem(422, "charge_not_found", "No such charge.", {"charge_id": ["No such charge."]})
            if charge["status"] != "succeeded":
                raise GatewayProblem(409, "charge_not_refundable",
                                     f"Only a succeeded charge can be refunded; this one is {charge['status']}.")
            # Pending refunds count: the amount is reserved at once, so concurrent refunds cannot
            # exceed the charge (a failed refund releases it).
            (taken,) = db.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE charge_id = ?"
                                  " AND status IN ('pending', 'succeeded')", (charge["charge_id"],)).fetchone()
            left = charge["amount"] - taken
            if req["amount"] > left:
                raise GatewayProblem(422, "amount_too_large", f"At most {left} is left to refund on this charge.",
                                     {"amount": [f"Must be at most {left}."]})
            now, refund_id = self.clock(), new_id("rfd")
            db.execute("INSERT INTO refunds (refund_id, charge_id, amount, reference, notification_url, status,"
                       " created_at, settle_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                       (refund_id, charge["charge_id"], req["amount"], req["reference"], req["notification_url"],
                        now, now + self.settle_delay))
            body = {"refund_id": refund_id, "status": "pending", "charge_id": charge["charge_id"],
                    "amount": req["amount"], "currency": charge["currency"], "reference": req["reference"]}
            answer = self._remember(db, "refunds", key, Answer(202, body))
        log.info("refund %s created for charge %s: %s", refund_id, req["charge_id"], req["amount"])
        return answer

    # -- reads ----------------------------------------------------------------------------------
    def get_charge(self, charge_id: str) -> dict[str, Any] | None:
        with self.store.read() as db:
            row = db.execute("SELECT * FROM charges WHERE charge_id = ?", (charge_id,)).fetchone()
            if row is None:
                return None
            refunds = db.execute("SELECT * FROM refunds WHERE charge_id = ? ORDER BY created_at DESC, refund_id",
                                 (charge_id,)).fetchall()
        return charge_view(row, [refund_view(r, row["currency"]) for r in refunds])

    def get_refund(self, refund_id: str) -> dict[str, Any] | None:
        with self.store.read() as db:
            row = db.execute("SELECT r.*, c.currency FROM refunds r JOIN charges c USING (charge_id)"
                             " WHERE refund_id = ?", (refund_id,)).fetchone()
        return None if row is None else refund_view(row, row["currency"])


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def refund_view(r: sqlite3.Row, currency: str) -> dict[str, Any]:
    return {"refund_id": r["refund_id"], "charge_id": r["charge_id"], "status": r["status"], "amount": r["amount"],
            "currency": currency, "reference": r["reference"], "failure_code": r["failure_code"],
            "failure_message": r["failure_message"], "created_at": iso(r["created_at"])}


def charge_view(c: sqlite3.Row, refunds: list[dict[str, Any]]) -> dict[str, Any]:
    refunded = sum(r["amount"] for r in refunds if r["status"] == "succeeded")
    return {"charge_id": c["charge_id"], "status": c["status"], "amount": c["amount"], "currency": c["currency"],
            "reference": c["reference"], "metadata": json.loads(c["metadata"]),
            "card": {"brand": c["brand"], "last4": c["last4"]},
            "failure_code": c["failure_code"], "failure_message": c["failure_message"],
            "amount_refunded": refunded, "refunds": refunds,
            "created_at": iso(c["created_at"]), "settled_at": iso(c["settled_at"])}
