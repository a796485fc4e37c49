"""Messaging plumbing shared by every service: topology, transactional outbox + relay, inbox, consumer.

The package is lazy (PEP 562), like `tillkey.contracts`: `from tillkey.messaging import RetryLater`
imports only the pure `handling` module, so a service layer's handler table and its handlers stay
free of pika and SQLAlchemy; `Consumer` or `SqlAlchemyUnitOfWork` import their modules on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name → the submodule that defines it
_EXPORTS = {
    "InboxHandler": "handling", "PermanentError": "handling", "RetryLater": "handling", "prefetching": "handling",
    "Consumer": "consumer", "InboxDispatcher": "dispatch", "OutboxRelay": "relay",
    "define_inbox": "tables", "define_outbox": "tables", "QueueTopology": "topology",
    "SqlAlchemyUnitOfWork": "uow",
}
__all__ = [
    "Consumer", "PermanentError", "RetryLater", "InboxDispatcher", "InboxHandler", "prefetching", "OutboxRelay",
    "define_inbox", "define_outbox", "QueueTopology", "SqlAlchemyUnitOfWork",
]
assert set(__all__) == set(_EXPORTS)

if TYPE_CHECKING:   # for type checkers and the import graph (import-linter sees these edges)
    from tillkey.messaging.consumer import Consumer
    from tillkey.messaging.dispatch import InboxDispatcher
    from tillkey.messaging.handling import InboxHandler, PermanentError, RetryLater, prefetching
    from tillkey.messaging.relay import OutboxRelay
    from tillkey.messaging.tables import define_inbox, define_outbox
    from tillkey.messaging.topology import QueueTopology
    from tillkey.messaging.uow import SqlAlchemyUnitOfWork


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # Not ours: `from tillkey.messaging import relay` then imports the submodule itself.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
