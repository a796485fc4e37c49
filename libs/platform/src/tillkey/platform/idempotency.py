"""`Idempotency-Key` for POST calls that create something (SPEC §4).

Same key + same body within 24 h → the first response again; different body → 422; the first
request still running → 409. Keys are scoped to the caller (credential, or anonymous) and path.

The key is claimed in its own short transaction before the view runs and the response stored
after it. If the process dies in between, the claim stays "running"; after STALE_AFTER it may be
claimed again — the window in which a retried request can run twice is that crash, nothing else.
"""
from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.exc import IntegrityError

from tillkey.platform.clock import as_utc
from tillkey.platform.problems import ApiError

TTL = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)


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


PRUNE_EVERY_SECONDS = 300.0


class IdempotencyStore:
    def __init__(self, session_factory, table: Table):
        self._session_factory = session_factory
        self._table = table
        self._last_prune = float("-inf")

    def prune(self, now: datetime | None = None) -> int:
        """Delete records past the 24 h TTL: stored responses (a checkout's holds the customer's
        email) must not outlive their use, let alone the 90-day erasure."""
        cutoff = (now or datetime.now(UTC)) - TTL
        with self._session_factory() as session:
            deleted = session.execute(delete(self._table).where(self._table.c.created_at < cutoff)).rowcount
            session.commit()
        return deleted or 0

    def _prune_when_due(self) -> None:
        # Piggybacks on traffic, at most once per PRUNE_EVERY_SECONDS per process: no extra loop.
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            self.prune()

    def claim(self, scope: str, key: str, request_hash: str) -> tuple[str, int | None, str | None]:
        """('new', …) when this request owns the key, else ('replay'|'mismatch'|'running', status, body)."""
        self._prune_when_due()
        t = self._table
        now = datetime.now(UTC)
        for _ in range(3):
            with self._session_factory() as session:
                row = session.execute(select(t).where(t.c.scope == scope, t.c.key == key)).first()
                if row is None:
                    try:
                        session.execute(t.insert().values(scope=scope, key=key, request_hash=request_hash,
                                                          status="running", created_at=now))
                        session.commit()
                        return "new", None, None
                    except IntegrityError:
                        session.rollback()
                        continue
                age = now - as_utc(row.created_at)
                if age > TTL or (row.status == "running" and age > STALE_AFTER):
                    session.execute(delete(t).where(t.c.scope == scope, t.c.key == key,
                                                    t.c.created_at == row.created_at))
                    session.commit()
                    continue
                if row.request_hash != request_hash:
                    return "mismatch", None, None
                if row.status == "running":
                    return "running", None, None
                return "replay", row.response_status, row.response_body
        return "running", None, None

    def finish(self, scope: str, key: str, status: int, body: str) -> None:
        t = self._table
        with self._session_factory() as session:
            session.execute(update(t).where(t.c.scope == scope, t.c.key == key).values(
                status="done", response_status=status, response_body=body))
            session.commit()

    def release(self, scope: str, key: str) -> None:
        t = self._table
        with self._session_factory() as session:
            session.execute(delete(t).where(t.c.scope == scope, t.c.key == key))
            session.commit()


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
        outcome, status, body = store.claim(scope, key, request_hash)
        if outcome == "mismatch":
            raise ApiError(422, "This Idempotency-Key was used with a different request body.",
                           code="idempotency_key_reused")
        if outcome == "running":
            raise ApiError(409, "A request with this Idempotency-Key is still being processed.",
                           code="idempotency_in_progress", headers={"Retry-After": "1"})
        if outcome == "replay":
            # Stored 4xx answers are problems: replay them with the same media type as the first time.
            mimetype = "application/problem+json" if status >= 400 else "application/json"
            resp = Response(body, status=status, mimetype=mimetype)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        try:
            resp = current_app.make_response(view(**kwargs))
        except ApiError as exc:
            if exc.status >= 500 or "Retry-After" in exc.headers:
                # A refusal that says "try again" (e.g. 409 order_not_ready) is not this request's
                # answer: storing it would replay the refusal to the very retry it asks for.
                store.release(scope, key)
                raise
            # A 4xx is the answer to this request: replay it too, like Stripe does.
            from tillkey.platform.problems import problem_response
            resp = problem_response(exc.status, exc.code, exc.detail, exc.title, exc.errors, exc.headers)
        except Exception:
            store.release(scope, key)
            raise
        if resp.status_code >= 500:
            store.release(scope, key)
        else:
            store.finish(scope, key, resp.status_code, resp.get_data(as_text=True))
        return resp

    wrapper.openapi = getattr(view, "openapi", None)
    return wrapper
