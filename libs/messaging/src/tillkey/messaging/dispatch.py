"""Runs each handler of an event once, in its own transaction, recording it in the inbox."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from tillkey.contracts import Envelope

log = logging.getLogger(__name__)

Handler = Callable[[Envelope, object], None]


class InboxDispatcher:
    """`handlers` maps an event type to the handlers that react to it.

    Each handler gets a fresh unit of work made for that event (`uow_factory(cause=envelope)`):
    its effect, its outbox rows and its inbox row commit together, and the message is acked only
    after that commit. A redelivered message finds the inbox row and is acked without effect; a
    failing second handler never repeats the first one's work.
    """

    def __init__(self, uow_factory: Callable[..., object], inbox: Table,
                 handlers: Mapping[str, Sequence[Handler]]):
        self._uow_factory = uow_factory
        self._inbox = inbox
        self.handlers = handlers

    @property
    def event_types(self) -> list[str]:
        return sorted(self.handlers)

    def __call__(self, envelope: Envelope) -> None:
        for handler in self.handlers.get(envelope.type, ()):
            name = _handler_name(handler)
            with self._uow_factory(cause=envelope) as uow:
                seen = uow.session.execute(select(self._inbox.c.message_id).where(
                    self._inbox.c.message_id == envelope.id, self._inbox.c.handler == name)).first()
                if seen:
                    log.info("duplicate %s %s for %s: already handled", envelope.type, envelope.id, name)
                    continue
                # Claim first, then act. A competing consumer with the same message blocks on this
                # key (PostgreSQL) until we commit, then fails here instead of repeating the effect.
                # (Inserting after the handler raised that IntegrityError from the insert, outside
                # the except below, and every IntegrityError at commit — e.g. the handler's own ORM
                # rows flushing — was swallowed as "a duplicate": the message acked, its effect lost.)
                try:
                    uow.session.execute(self._inbox.insert().values(
                        message_id=envelope.id, handler=name, processed_at=datetime.now(UTC)))
                except IntegrityError:
                    uow.rollback()
                    log.info("duplicate %s %s for %s: lost the race, no effect", envelope.type, envelope.id, name)
                    continue
                handler(envelope, uow)
                uow.commit()  # errors here are the handler's: they propagate and the message is retried


def _handler_name(handler) -> str:
    # functools.partial and callable objects have no __qualname__ of their own.
    target = getattr(handler, "func", handler)
    qualname = getattr(target, "__qualname__", type(target).__qualname__)
    return f"{getattr(target, '__module__', '?')}.{qualname}"[-128:]
