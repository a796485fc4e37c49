"""The notifications database: its tables, the shared outbox/inbox, and the domain mapping.

Domain classes are mapped imperatively so that `domain/` stays free of SQLAlchemy.
"""
from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.orm import registry

from tillkey.messaging import define_inbox, define_outbox
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

merchant_contacts = Table(
    "merchant_contacts", metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
)

order_recipients = Table(
    "order_recipients", metadata,
    Column("order_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False, index=True),
    Column("email", String(320), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("locale", String(16), nullable=False),
)

_registry = registry()
_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    _registry.map_imperatively(MerchantContact, merchant_contacts)
    _registry.map_imperatively(OrderRecipient, order_recipients)
    _mapped = True
