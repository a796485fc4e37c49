"""Work that follows an event once its handler committed: sending a requested refund to its gateway.

Why a thread of its own: the follow-up calls a gateway, which with its retries can take close to a
minute when the gateway hangs. Run on the consumer's thread, that would stall every other event
and could outlast the broker connection's heartbeat. The follow-up only hurries work whose row is
committed and which the worker's sweeper resumes anyway, so it may be lost (a crash, a full
queue, a failure) without losing anything: its failure is logged, never a reason to retry or
dead-letter the message.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from tillkey.contracts import Envelope
from tillkey.payments.service_layer.ports import Deps

log = logging.getLogger(__name__)
MAX_WAITING = 1000
FollowUp = Callable[[Envelope, Deps], None]


class Dispatcher(Protocol):
    """What the consumer calls, and what is wrapped here (tillkey.messaging.InboxDispatcher is one)."""

    @property
    def event_types(self) -> list[str]: ...

    @property
    def handlers(self) -> Mapping[str, Sequence[object]]: ...

    def __call__(self, envelope: Envelope) -> None: ...

    def handle_batch(self, envelopes: Sequence[Envelope]) -> None: ...


class DispatchThenFollowUp:
    """Callable like the inbox dispatcher it wraps (the consumer's handle function)."""

    def __init__(self, dispatcher: Dispatcher, follow_ups: Mapping[str, FollowUp], deps: Deps):
        self.dispatcher, self.follow_ups, self.deps = dispatcher, follow_ups, deps
        self._waiting: queue.Queue[tuple[FollowUp, Envelope]] = queue.Queue(MAX_WAITING)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def event_types(self) -> list[str]:
        return self.dispatcher.event_types

    @property
    def handlers(self) -> Mapping[str, Sequence[object]]:
        return self.dispatcher.handlers

    def __call__(self, envelope: Envelope) -> None:
        self.dispatcher(envelope)  # committed (or raised: then no follow-up, the message is retried)
        self._follow_up(envelope)

    def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        self.dispatcher.handle_batch(envelopes)  # all committed, or raised and none did
        for envelope in envelopes:
            self._follow_up(envelope)

    def _follow_up(self, envelope: Envelope) -> None:
        follow_up = self.follow_ups.get(envelope.type)
        if follow_up is None:
            return
        self._start()
        try:
            self._waiting.put_nowait((follow_up, envelope))
        except queue.Full:
            log.warning("follow-up of %s %s dropped (queue full); the gateway sweeper will do it", envelope.type,
                        envelope.id)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                # A daemon: stopping the worker never waits for a hanging gateway.
                self._thread = threading.Thread(target=self._run, name="payments-follow-ups", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            follow_up, envelope = self._waiting.get()
            try:
                follow_up(envelope, self.deps)
            except Exception:  # noqa: BLE001 — the sweeper resumes it; the message itself was handled
                log.exception("follow-up of %s %s failed; the gateway sweeper will resume it", envelope.type,
                              envelope.id)
            finally:
                self._waiting.task_done()

    def join(self) -> None:
        """Wait until every queued follow-up ran (tests)."""
        self._waiting.join()
