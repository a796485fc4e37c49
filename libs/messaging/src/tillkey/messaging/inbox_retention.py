"""The inbox does not grow for ever: each worker deletes its inbox rows older than `INBOX_RETENTION`.

An inbox row says "this handler already took this message" (docs/architecture.md 7.2). It is needed
for as long as the same message can arrive again: a broker redelivery or an outbox republish comes
within minutes, a retry within the longest retry delay, and a dead letter can be replayed by an
operator until `DEAD_LETTER_RETENTION` drops it. So the retention must outlast dead letters plus the
longest retry delay; a shorter setting is refused at start-up, since a replay would then run a
handler twice. The default keeps rows a week longer than dead letters.

Rows go in batches (`batch` at a time, each its own short transaction) so a large backlog never
holds a long lock or a long transaction; the `processed_at` index of every service's inbox makes
finding them cheap.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, tuple_

from tillkey.platform.periodic import PeriodicLoop

log = logging.getLogger(__name__)

RETENTION_BEYOND_DEAD_LETTERS = 7 * 86400.0


def inbox_retention(dead_letter_retention: float, longest_retry_delay: float, setting: float | None) -> float:
    """The retention to use, in seconds: `setting` (INBOX_RETENTION), or by default a week beyond
    dead letters. Raises ValueError for a setting under which a replayed dead letter or a late retry
    could find its row already gone."""
    floor = dead_letter_retention + longest_retry_delay
    if setting is None:
        return max(floor, dead_letter_retention + RETENTION_BEYOND_DEAD_LETTERS)
    if setting < floor:
        raise ValueError(f"INBOX_RETENTION must be at least DEAD_LETTER_RETENTION plus the longest retry delay "
                         f"({floor:.0f} s): a message replayed from the dead letters, or retried late, would "
                         f"otherwise find no inbox row and be handled twice; it is {setting:.0f} s")
    return setting


class InboxRetention(PeriodicLoop):
    """Every `interval` seconds, delete the inbox rows processed more than `retention` seconds ago."""

    def __init__(self, service: str, uow_factory: Callable[..., Any], inbox: Table, retention: float,
                 interval: float = 3600.0, batch: int = 5000, clock: Callable[[], datetime] | None = None):
        super().__init__(f"{service}: inbox retention", interval, retry_after=min(interval, 60.0),
                         traceback_on_failure=False)
        self.service, self.retention, self.batch = service, retention, batch
        self._uow_factory, self._inbox = uow_factory, inbox
        self._clock = clock or (lambda: datetime.now(UTC))
        self._oldest = (select(inbox.c.message_id, inbox.c.handler)
                        .where(inbox.c.processed_at < bindparam("cutoff")).order_by(inbox.c.processed_at)
                        .limit(batch))
        self._key = tuple_(inbox.c.message_id, inbox.c.handler)

    def tick(self) -> int:
        return self.prune()

    def prune(self) -> int:
        """Delete every row past the retention, a batch per transaction; the number deleted."""
        cutoff = self._clock() - timedelta(seconds=self.retention)
        deleted = 0
        while True:
            with self._uow_factory() as uow:   # the service's own unit of work: its session, its SQLite gate
                keys = [tuple(row) for row in uow.session.execute(self._oldest, {"cutoff": cutoff})]
                if keys:
                    uow.session.execute(delete(self._inbox).where(self._key.in_(keys)))
                uow.commit()
            deleted += len(keys)
            if len(keys) < self.batch:
                break
        if deleted:
            log.info("%s: deleted %d inbox rows processed before %s (INBOX_RETENTION %.0f s)",
                     self.service, deleted, cutoff.isoformat(), self.retention)
        return deleted

