"""Telling "the database is briefly gone" from a bug.

A PostgreSQL restart takes about 3 s; requests that meet it (connection refused, connection
terminated by the administrator, a pool with no live connection, a transaction whose connection
died) are not internal errors: the client should come back in a moment, so they answer 503 with
`Retry-After` (issue 18). SQLite's "database is locked" after its busy timeout is the same kind.
"""
from __future__ import annotations

from sqlalchemy import exc as sa_exc

# Seconds a client is asked to wait: about one PostgreSQL restart.
RETRY_AFTER_SECONDS = 2

_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                sa_exc.TimeoutError, sa_exc.PendingRollbackError)


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # SQLite-only installs
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


def database_unavailable(error: BaseException) -> bool:
    """True when `error`, or what caused it, says the database could not be reached or went away."""
    kinds = _UNAVAILABLE + _driver_errors()
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds) or (isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated):
            return True
        current = current.__cause__ or current.__context__
    return False


def summary(error: BaseException) -> str:
    """One line for the log: the driver's first line, without the SQL or parameters."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:300]
