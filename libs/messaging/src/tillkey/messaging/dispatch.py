"""Runs each handler of an event once, in its own transaction, recording it in the inbox."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Session

from tillkey.contracts import Envelope
from tillkey.messaging.handling import InboxHandler, derived_name
from tillkey.messaging.inbox_claim import Pair, claim
from tillkey.messaging.inbox_retention import InboxRetention
from tillkey.platform import correlation, metrics, tracing

log = logging.getLogger(__name__)



class InboxUnitOfWork(Protocol):
    """What the dispatcher needs of the unit of work it is given (SqlAlchemyUnitOfWork is one)."""

    cause: Envelope | None

    @property
    def session(self) -> Session | None: ...  # open inside the `with` block

    def __enter__(self) -> InboxUnitOfWork: ...

    def __exit__(self, *exc_info: object) -> object: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def _pair(envelope: Envelope, handler: InboxHandler) -> Pair:
    """What the inbox claims for one handler of one message: its name, and the older name a
    release before declared names recorded for it (still counted as handled)."""
    older = next((n for n in handler.recorded_as if n != handler.name), handler.name)
    return envelope.id, handler.name, older


def _open_session(uow: InboxUnitOfWork) -> Session:
    if uow.session is None:  # a unit of work opens its session on entering its `with` block
        raise RuntimeError("the unit of work has no open session")
    return uow.session


class InboxDispatcher:
    """`handlers` maps an event type to the handlers that react to it.

    Each handler gets a fresh unit of work made for that event (`uow_factory(cause=envelope)`):
    its effect, its outbox rows and its inbox row commit together, and the message is acked only
    after that commit. A redelivered message finds the inbox row and is acked without effect; a
    failing second handler never repeats the first one's work.
    """

    def __init__(self, uow_factory: Callable[..., InboxUnitOfWork], inbox: Table,
                 handlers: Mapping[str, Sequence[InboxHandler]]):
        for event_type, listed in handlers.items():
            for handler in listed:
                if not isinstance(handler, InboxHandler):
                    raise TypeError(f"the handler table names each handler for the inbox: {event_type} lists "
                                    f"{handler!r}; write InboxHandler('<stable name>', handler)")
        self._uow_factory = uow_factory
        self._inbox = inbox
        self.handlers = handlers
        self._timers: dict = {}  # (event type, handler name) -> its histogram child

    @property
    def event_types(self) -> list[str]:
        return sorted(self.handlers)

    def retention(self, service: str, retention: float, interval: float) -> InboxRetention:
        """The loop that deletes this inbox's rows older than `retention` seconds (inbox_retention)."""
        return InboxRetention(service, self._uow_factory, self._inbox, retention, interval=interval)

    def __call__(self, envelope: Envelope) -> None:
        for handler in self.handlers.get(envelope.type, ()):
            name = handler.name
            with self._uow_factory(cause=envelope) as uow:
                session = _open_session(uow)
                # Claim first, then act: recorded in the transaction of the effect. A competing
                # consumer with the same message waits on this key (PostgreSQL) until we commit,
                # then finds it recorded instead of repeating the effect (inbox_claim).
                if not claim(session, self._inbox, [_pair(envelope, handler)], datetime.now(UTC)):
                    log.info("duplicate %s %s for %s: already handled", envelope.type, envelope.id, name)
                    continue
                self._timed(handler, name, envelope, uow)
                uow.commit()  # errors here are the handler's: they propagate and the message is retried

    def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Every handler of every envelope in ONE transaction: one inbox statement (claim and record)
        and one commit for the lot, instead of three round trips per message and handler.

        The batch commits whole or not at all. A handler that raises makes it raise `BatchFailed`
        naming the envelope, after the rollback, so the consumer can commit the ones before it,
        isolate that one, and go on with the rest (one poison message never repeats or holds up
        the others). Inbox rows are claimed before any handler runs, as in `__call__`, in one
        statement (inbox_claim); a claim that fails (the database gone, a deadlock with another
        consumer claiming the same redelivered messages) raises `BatchFailed(None)`, which sends the
        whole batch down the one-by-one path.
        """
        work = [(i, env, h, h.name) for i, env in enumerate(envelopes) for h in self.handlers.get(env.type, ())]
        if not work:
            return
        with self._uow_factory(cause=None) as uow:
            session = _open_session(uow)
            pairs: dict[tuple[str, str], tuple[str, str, str]] = {}
            for _i, env, handler, name in work:  # a message twice in one batch is claimed once
                pairs.setdefault((env.id, name), _pair(env, handler))
            try:
                claimed = claim(session, self._inbox, list(pairs.values()), datetime.now(UTC))
            except Exception as exc:
                # The database going away (a restart) names no message: the one-by-one path retries
                # each through its retry queue. Raised as is, it ended the consumer and the worker.
                uow.rollback()
                raise BatchFailed(None, exc) from exc
            todo = []
            for i, env, handler, name in work:
                if (env.id, name) not in claimed:  # handled before, or twice in this batch
                    log.info("duplicate %s %s for %s: already handled", env.type, env.id, name)
                    continue
                claimed.discard((env.id, name))
                todo.append((i, env, handler, name))
            if not todo:
                return
            try:
                _prefetch(todo, uow)
            except Exception as exc:
                uow.rollback()
                raise BatchFailed(None, exc) from exc
            for i, env, handler, name in todo:
                uow.cause = env  # events the handler emits are caused by its own message
                correlation.bind_event(env.id, env.correlation_id, env.causation_id)  # its log lines too
                try:
                    self._timed(handler, name, env, uow)
                except Exception as exc:
                    uow.rollback()
                    raise BatchFailed(i, exc) from exc
            try:
                uow.commit()
            except Exception as exc:  # a flush at commit names no message: isolate them all
                uow.rollback()
                raise BatchFailed(None, exc) from exc


    def _timed(self, handler: InboxHandler, name: str, envelope: Envelope, uow) -> None:
        timer = self._timers.get((envelope.type, name))
        if timer is None:
            # `tillkey.<service>.…`: the service is the handler's package.
            module = derived_name(handler.handle)
            service = module.split(".")[1] if module.startswith("tillkey.") else "?"
            timer = self._timers[(envelope.type, name)] = metrics.handler_duration.labels(
                service, envelope.type, name)
        started = time.perf_counter()
        if tracing.ACTIVE:
            with tracing.handling(envelope, name):
                handler(envelope, uow)
        else:
            handler(envelope, uow)
        elapsed = time.perf_counter() - started
        timer.observe(elapsed)
        # One INFO line per handled message and handler: with its correlation id, an operator follows
        # one order through every service at the default level (about 20 µs; LOG_LEVEL=WARNING drops it).
        log.info("%s handled %s %s in %.1f ms", name, envelope.type, envelope.id, elapsed * 1000)


def _prefetch(todo, uow) -> None:
    by_handler: dict = {}
    for _i, env, handler, _name in todo:
        if hasattr(handler.handle, "prefetch"):
            by_handler.setdefault(handler.handle, []).append(env)
    for handle, envelopes in by_handler.items():
        handle.prefetch(envelopes, uow)


class BatchFailed(Exception):
    """A batch rolled back because of `envelopes[index]` (None: no single message to blame)."""

    def __init__(self, index: int | None, cause: BaseException):
        super().__init__(f"batch failed at {index}: {cause!r}")
        self.index = index
        self.cause = cause


