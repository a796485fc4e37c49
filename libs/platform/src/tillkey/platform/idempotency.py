"""`Idempotency-Key` for POST calls that create something (docs/integration.md, "Idempotency").

Same key + same body within 24 h → the first response again; different body → 422; the first
request still running → 409. Keys are scoped to the caller (credential, or anonymous) and path.

Crash-safe (issue 18): a keyed request runs in one database transaction (`request_tx`) that takes
the key, does the work and stores the answer. Nothing of it outlives the request: if the process
dies or the database restarts mid-request, the transaction and its lock go with the connection and
the retry runs at once, exactly once; if it committed, the retry gets the stored answer (a checkout's
order id and token included). "Still running" is the key's lock being held: PostgreSQL answers 409
at once (a transaction-level advisory lock), SQLite too (a `flock` beside the database file, see
key_locks): neither outlives the process that holds it.
"""
from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, select, text
from sqlalchemy.engine import Connection

from tillkey.platform import request_tx
from tillkey.platform.clock import as_utc
from tillkey.platform.key_locks import key_lock
from tillkey.platform.problems import ApiError, problem_response

TTL = timedelta(hours=24)
PRUNE_EVERY_SECONDS = 300.0


def define_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys", metadata,
        Column("scope", String(64), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("response_status", Integer, nullable=True),
        Column("response_body", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


class IdempotencyStore:
    def __init__(self, session_factory, table: Table):
        self.engine = session_factory.engine
        self._table = table
        self._last_prune = float("-inf")

    def prune(self, now: datetime | None = None) -> int:
        """Delete records past the 24 h TTL: stored responses (a checkout's holds the customer's
        email) must not outlive their use, let alone the 90-day erasure."""
        cutoff = (now or datetime.now(UTC)) - TTL
        with self.engine.begin() as conn:
            deleted = conn.execute(delete(self._table).where(self._table.c.created_at < cutoff)).rowcount
        return deleted or 0

    def prune_when_due(self) -> None:
        # Piggybacks on traffic, at most once per PRUNE_EVERY_SECONDS per process: no extra loop.
        # Before the request's transaction opens: on SQLite a second writer would wait on the first.
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            self.prune()

    def look(self, conn: Connection, scope: str, key: str, request_hash: str) -> tuple[str, int | None, str | None]:
        """Inside the request transaction: ('new', …) when this request owns the key until its
        transaction ends, else ('replay'|'mismatch'|'running', status, body)."""
        t = self._table
        if conn.dialect.name == "postgresql":
            lock_id = int.from_bytes(hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:8], "big", signed=True)
            if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id}).scalar_one():
                return "running", None, None
        row = conn.execute(select(t).where(t.c.scope == scope, t.c.key == key)).first()
        if row is not None and (row.status != "done" or datetime.now(UTC) - as_utc(row.created_at) > TTL):
            # Expired, or a claim left by the version before request transactions: free again.
            conn.execute(delete(t).where(t.c.scope == scope, t.c.key == key))
            row = None
        if row is None:
            return "new", None, None
        if row.request_hash != request_hash:
            return "mismatch", None, None
        return "replay", row.response_status, row.response_body

    def save(self, conn: Connection, scope: str, key: str, request_hash: str, status: int, body: str) -> None:
        conn.execute(self._table.insert().values(scope=scope, key=key, request_hash=request_hash, status="done",
                                                 response_status=status, response_body=body,
                                                 created_at=datetime.now(UTC)))


def _replay(status: int, body: str) -> Response:
    # Stored 4xx answers are problems: replay them with the same media type as the first time.
    resp = Response(body, status=status, mimetype="application/problem+json" if status >= 400 else "application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def idempotent(view):
    """Wrap a POST view (outermost, above @endpoint) to honour the Idempotency-Key header."""

    @wraps(view)
    def wrapper(**kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(**kwargs)
        if not key.strip() or len(key) > 255:
            raise ApiError(422, "Idempotency-Key must be 1 to 255 characters.", code="validation_error",
                           errors={"Idempotency-Key": ["Must be 1 to 255 characters."]})
        store: IdempotencyStore = current_app.extensions["tillkey.idempotency"]
        caller = request.headers.get("Authorization", "") or request.args.get("token", "") or "anonymous"
        scope = hashlib.sha256(f"{caller}\n{request.method} {request.path}".encode()).hexdigest()
        request_hash = hashlib.sha256(request.get_data()).hexdigest()
        store.prune_when_due()
        with key_lock(store.engine, f"{scope}\n{key}") as held:
            if not held:
                raise _in_progress()
            return _run_holding_the_key(store, scope, key, request_hash, view, kwargs)

    wrapper.openapi = getattr(view, "openapi", None)
    return wrapper


def _in_progress() -> ApiError:
    return ApiError(409, "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_in_progress", headers={"Retry-After": "1"})


def _run_holding_the_key(store: IdempotencyStore, scope: str, key: str, request_hash: str, view, kwargs) -> Response:
    with request_tx.request_transaction(store.engine) as tx:
        outcome, status, body = store.look(tx.connection, scope, key, request_hash)
        if outcome == "mismatch":
            raise ApiError(422, "This Idempotency-Key was used with a different request body.",
                           code="idempotency_key_reused")
        if outcome == "running":
            raise _in_progress()
        if outcome == "replay":
            if status is None or body is None:  # look() replays only a 'done' row, which stores both
                raise RuntimeError("an Idempotency-Key's stored answer has no status or body")
            return _replay(status, body)
        try:
            resp = current_app.make_response(view(**kwargs))
        except ApiError as exc:
            if exc.status >= 500 or "Retry-After" in exc.headers:
                # A refusal that says "try again" (e.g. 409 order_not_ready) is not this request's
                # answer: storing it would replay the refusal to the very retry it asks for.
                raise
            # A 4xx is the answer to this request: replay it too, like Stripe does.
            resp = problem_response(exc.status, exc.code, exc.detail, exc.title, exc.errors, exc.headers)
        if resp.status_code >= 500:
            return resp  # rolled back with the block: nothing happened, the retry runs afresh
        store.save(tx.connection, scope, key, request_hash, resp.status_code, resp.get_data(as_text=True))
        request_tx.commit(tx)
    return resp
