"""The outbox and inbox tables; every service adds both to its own metadata (and migrations)."""
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text


def define_outbox(metadata: MetaData) -> Table:
    # `seq` keeps publication in commit order; `available_at` delays a row the broker returned.
    return Table(
        "outbox", metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("routing_key", String(64), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("available_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Index("ix_outbox_unpublished", "published_at", "seq"),
    )


def define_inbox(metadata: MetaData) -> Table:
    # One row per (message, handler): a redelivered message finds its row and has no second effect.
    # Rows older than INBOX_RETENTION are deleted oldest first (inbox_retention), by the index.
    return Table(
        "inbox", metadata,
        Column("message_id", String(64), primary_key=True),
        Column("handler", String(128), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        Index("ix_inbox_processed_at", "processed_at"),
    )
