"""Renaming a service's inbox handler names in a migration, so no handled message looks new.

The inbox's key is (message id, handler name). When a release changes the name a handler is
recorded under, its migration maps the rows of the old name to the new one; a message
redelivered after the upgrade then still finds its row (docs/architecture.md, the inbox).
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Moves the old name's rows that have no row under the new name yet, then drops the rest (a
# message handled under both names, possible only if a worker of each release took it): idempotent.
_MOVE = text("UPDATE inbox SET handler = :new WHERE handler = :old AND NOT EXISTS "
             "(SELECT 1 FROM inbox AS taken WHERE taken.message_id = inbox.message_id AND taken.handler = :new)")
_DROP = text("DELETE FROM inbox WHERE handler = :old")


def rename_inbox_handlers(connection: Connection, renames: Mapping[str, str]) -> None:
    """`renames`: old name → new name, for every handler of the service whose name changes."""
    for old, new in renames.items():
        connection.execute(_MOVE, {"old": old, "new": new})
        connection.execute(_DROP, {"old": old})
