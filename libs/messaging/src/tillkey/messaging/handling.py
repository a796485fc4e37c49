"""The parts of the messaging library a service layer declares its handler table with, and the
errors its handlers raise: pure Python, so a service layer imports them without pika or SQLAlchemy
(the import rules of docs/architecture.md 8)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from tillkey.contracts import Envelope

Handler = Callable[["Envelope", object], object]  # (event, unit of work); what it returns is ignored
F = TypeVar("F", bound=Callable[..., object])


class RetryLater(Exception):
    """Transient: the message cannot be handled yet (the order is not known here yet, a peer is down)."""


class PermanentError(Exception):
    """The message can never succeed: it goes straight to the dead-letter queue."""


@dataclass(frozen=True)
class InboxHandler:
    """A handler as its service's table declares it.

    `name` is what the inbox records with each message this handler took: the key of "already
    handled". It is declared in the table, never derived from where the function lives, so moving
    or renaming the function cannot make a redelivered message look new (docs/architecture.md).
    """

    name: str
    handle: Handler
    # Its name, and the name releases before declared names recorded for it (module and qualified
    # name): a worker of the previous release still running during a rollout writes that one, after
    # the migration renamed the older rows. Worked out once here, not per message.
    recorded_as: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 128:
            raise ValueError(f"an inbox handler name is 1 to 128 characters, not {self.name!r}")
        object.__setattr__(self, "recorded_as", (self.name, derived_name(self.handle)))

    def __call__(self, envelope: Envelope, uow) -> None:
        self.handle(envelope, uow)


def prefetching(prefetch: Callable[[list[Envelope], Any], None]) -> Callable[[F], F]:
    """Give a handler a `prefetch(envelopes, uow)` that the batch path calls once, before the
    handler runs for each of those envelopes: it loads (and locks) what they will read in one
    query, instead of one query per message. The handler must still work without it (the
    one-by-one path, `__call__`, does not prefetch)."""
    def attach(handler: F) -> F:
        handler.prefetch = prefetch  # type: ignore[attr-defined]
        return handler
    return attach


def derived_name(handler) -> str:
    """The inbox name of releases before declared names: the function's module and qualified name.
    functools.partial and callable objects have no __qualname__ of their own."""
    target = getattr(handler, "func", handler)
    qualname = getattr(target, "__qualname__", type(target).__qualname__)
    return f"{getattr(target, '__module__', '?')}.{qualname}"[-128:]


# Handlers written `handle(event, uow, deps)` (docs/architecture.md 10): the service's table declares
# them with `declared`, and its composition root binds the deps once with `bind_deps`.
DepsHandler = Callable[["Envelope", Any, Any], object]


def declared(name: str, handle: DepsHandler) -> InboxHandler:
    """InboxHandler(name, handle) for a handler that takes deps too; `bind_deps` binds them before the
    dispatcher calls it as (event, uow)."""
    # cast: InboxHandler annotates `handle` as the dispatcher calls it, (event, uow); until bind_deps
    # runs, the table holds the three-argument function, which that annotation cannot say.
    return InboxHandler(name, cast(Handler, handle))


def bind_deps(table: Mapping[str, Sequence[InboxHandler]], deps: object) -> dict[str, list[InboxHandler]]:
    """The table as the dispatcher runs it: each handler(event, uow, deps) as handler(event, uow), under
    its declared name. The wrapper keeps the function's own module and name too: releases before
    declared names recorded that one (InboxHandler.recorded_as). One wrapper per function, however
    many event types list it: the batch path calls a `prefetching` handler's prefetch once per
    function, so a batch mixing those types still loads what they read in one query."""
    wrappers: dict[DepsHandler, Handler] = {}

    def wrapped(handle: DepsHandler) -> Handler:
        if handle not in wrappers:
            def with_deps(event: Envelope, uow: Any) -> object:
                return handle(event, uow, deps)
            wrappers[handle] = update_wrapper(with_deps, handle)
        return wrappers[handle]

    return {event_type: [replace(h, handle=wrapped(cast(DepsHandler, h.handle))) for h in handlers]
            for event_type, handlers in table.items()}
