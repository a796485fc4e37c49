"""Messaging plumbing shared by every service: topology, transactional outbox + relay, inbox, consumer."""
from tillkey.messaging.consumer import Consumer, PermanentError, RetryLater
from tillkey.messaging.dispatch import InboxDispatcher, InboxHandler, prefetching
from tillkey.messaging.relay import OutboxRelay
from tillkey.messaging.tables import define_inbox, define_outbox
from tillkey.messaging.topology import QueueTopology
from tillkey.messaging.uow import SqlAlchemyUnitOfWork

__all__ = [
    "Consumer", "PermanentError", "RetryLater", "InboxDispatcher", "InboxHandler", "prefetching", "OutboxRelay",
    "define_inbox", "define_outbox", "QueueTopology", "SqlAlchemyUnitOfWork",
]
