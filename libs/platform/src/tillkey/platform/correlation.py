"""Which request or message the current thread works for: ids for log lines and new events.

One context variable holding a small tuple, set once per HTTP request (from `X-Request-ID`, or a
new id) and once per consumed message (from its envelope). Reading it is a lookup; nothing here
is serialised until a log line is written.

- `request_id`: one HTTP request (echoed as `X-Request-ID`);
- `correlation_id`: one story: set by the request that started it (the caller's
  `X-Correlation-ID`, else the request id) and copied into every event it causes, and every event
  those cause, across all five services;
- `causation_id`: what directly caused the current work (the event being handled);
- `event_id`: the event being handled.
"""
from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from typing import NamedTuple

_SAFE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


class Ids(NamedTuple):
    request_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    event_id: str | None = None


_EMPTY = Ids()
_current: ContextVar[Ids] = ContextVar("tillkey_correlation", default=_EMPTY)


def current() -> Ids:
    return _current.get()


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def accepted_id(value: str | None) -> str | None:
    """A caller's id if it is safe to log and echo (no spaces, quotes or newlines), else None."""
    return value if value and _SAFE_ID.fullmatch(value) else None


def bind_request(request_id: str, correlation_id: str | None = None) -> None:
    _current.set(Ids(request_id=request_id, correlation_id=correlation_id or request_id))


def bind_event(event_id: str, correlation_id: str | None, causation_id: str | None = None) -> None:
    """While handling event `event_id`: its story (correlation) and the event itself as the cause
    of whatever it leads to."""
    _current.set(Ids(correlation_id=correlation_id or event_id, causation_id=causation_id, event_id=event_id))


def clear() -> None:
    _current.set(_EMPTY)
