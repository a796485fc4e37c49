"""The unit of work with this service's repositories (queries live here, rules in the domain)."""
from __future__ import annotations

from datetime import datetime
from typing import Self

from sqlalchemy import Table, bindparam, func, select, update

from tillkey.messaging import SqlAlchemyUnitOfWork
from tillkey.notifications.adapters import tables
from tillkey.notifications.domain.messages import QUEUED, Message
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product
from tillkey.platform.clock import Clock, SystemClock
from tillkey.platform.pagination import paginate
from tillkey.platform.sql import insert_unless_present


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    """Reads and writes are Core statements run at once, not ORM loads and flushes.

    Why: the consumer handles hundreds of events per second, and session.get, lazy unit-of-work
    flushes and one loaded object per row were most of its database cost. Every write goes through
    a method here, so the rows a later handler of the same batch reads are already in the
    transaction, and the per-transaction caches (recipients, merchants) stay what the rows say.
    """

    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or SystemClock()  # handlers read time here, so tests can move it
        self._recipients: dict[str, OrderRecipient] = {}
        self._merchants: dict[str, MerchantContact] = {}

    def __enter__(self) -> Self:
        self._forget()
        return super().__enter__()

    def rollback(self) -> None:
        super().rollback()
        self._forget()

    def _forget(self) -> None:
        self._recipients, self._merchants = {}, {}

    def _run(self, stmt, params=None):
        return self._open_session().execute(stmt, params)

    # -- who we write to -------------------------------------------------------------------
    def add(self, obj) -> None:
        self.add_all([obj])

    def add_all(self, objs) -> None:
        """INSERTs now: one executemany per table."""
        by_table: dict[Table, list[dict]] = {}
        for obj in objs:
            table, row = _row(obj)
            by_table.setdefault(table, []).append(row)
            self._remember(obj)
        for table, rows in by_table.items():
            self._run(table.insert(), rows)

    def add_recipient(self, recipient: OrderRecipient) -> bool:
        """INSERT unless the order is known (then False), in one statement instead of a read first."""
        if recipient.order_id in self._recipients or not self._insert_unless_present(recipient, "order_id"):
            return False
        self._remember(recipient)
        return True

    def save(self, obj) -> None:
        """UPDATE the row of a contact, recipient or product the caller changed."""
        table, row = _row(obj)
        key = next(iter(table.primary_key.columns))
        self._run(update(table).where(key == row[key.name]).values(
            {name: value for name, value in row.items() if name != key.name}))
        self._remember(obj)

    def _remember(self, obj) -> None:
        if isinstance(obj, OrderRecipient):
            self._recipients[obj.order_id] = obj
        elif isinstance(obj, MerchantContact):
            self._merchants[obj.merchant_id] = obj

    def merchant(self, merchant_id: str) -> MerchantContact | None:
        merchant = self._merchants.get(merchant_id)
        if merchant is None:
            row = self._run(select(*tables.merchant_contacts.c).where(
                tables.merchant_contacts.c.merchant_id == merchant_id)).first()
            if row is not None:
                merchant = self._merchants[merchant_id] = MerchantContact(*row)
        return merchant

    def recipient(self, order_id: str) -> OrderRecipient | None:
        """The order's recipient, and its merchant's contact with it (the email needs both)."""
        recipient = self._recipients.get(order_id)
        if recipient is not None:
            return recipient
        r, mc = tables.order_recipients.c, tables.merchant_contacts.c
        row = self._run(select(r.order_id, r.merchant_id, r.email, r.first_name, r.locale,
                               mc.name.label("m_name"), mc.email.label("m_email"))
                        .outerjoin_from(tables.order_recipients, tables.merchant_contacts,
                                        mc.merchant_id == r.merchant_id)
                        .where(r.order_id == order_id)).first()
        if row is None:
            return None
        recipient = self._recipients[order_id] = OrderRecipient(*row[:5])
        if row.m_name is not None and recipient.merchant_id not in self._merchants:
            self._merchants[recipient.merchant_id] = MerchantContact(recipient.merchant_id, row.m_name, row.m_email)
        return recipient

    def line(self, line_id: str) -> OrderLine | None:
        row = self._run(select(*tables.order_lines.c).where(tables.order_lines.c.line_id == line_id)).first()
        return OrderLine(*row) if row is not None else None

    def product(self, product_id: str) -> Product | None:
        row = self._run(select(*tables.products.c).where(tables.products.c.product_id == product_id)).first()
        return Product(*row) if row is not None else None

    def known_products(self, product_ids) -> set[str]:
        p = tables.products.c
        return set(self._open_session().scalars(select(p.product_id).where(p.product_id.in_(set(product_ids)))))

    # -- messages --------------------------------------------------------------------------
    def queue_message(self, message: Message) -> bool:
        """INSERT unless a message with its cause exists (then False): the unique `cause` decides,
        in one statement. A second transaction inserting the same cause at once waits for the
        first on PostgreSQL and then inserts nothing; SQLite runs writers one at a time."""
        return self._insert_unless_present(message, "cause")

    def _insert_unless_present(self, obj, unique: str) -> bool:
        """INSERT … ON CONFLICT (unique) DO NOTHING: True if the row is new."""
        table, row = _row(obj)
        return insert_unless_present(self._open_session(), table, row, conflict_on=unique)

    def save_messages(self, messages: list[Message], *, with_content: bool = False) -> None:
        """One executemany UPDATE of their state (and address and bodies, when erased)."""
        if not messages:
            return
        names = _MESSAGE_STATE + (_MESSAGE_CONTENT if with_content else ())
        rows = []
        for message in messages:
            row = _row(message)[1]
            rows.append({"key": message.message_id, **{name: row[name] for name in names}})
        m = tables.messages.c
        self._run(update(tables.messages).where(m.message_id == bindparam("key")), rows)

    def message(self, message_id: str, *, lock: bool = False) -> Message | None:
        found = self._messages(tables.messages.c.message_id == message_id, lock=lock)
        return found[0] if found else None

    def messages_locked(self, message_ids: list[str]) -> dict[str, Message]:
        ids = sorted(set(message_ids))  # locked in id order, as every writer does: no deadlock
        return {msg.message_id: msg for msg in self._messages(tables.messages.c.message_id.in_(ids), lock=True)}

    def messages_of_order(self, order_id: str) -> list[Message]:
        return self._messages(tables.messages.c.order_id == order_id)

    def claim_due(self, now: datetime, limit: int) -> list[Message]:
        """Queued messages whose time has come, oldest first, locked so a second sender skips them.

        SKIP LOCKED on PostgreSQL; on SQLite the BEGIN IMMEDIATE of our engine serialises writers.
        The caller leases them (next_attempt_at moves on), saves them and commits, so after the
        lock ends they stay out of other senders' polls until the lease runs out.
        """
        m = tables.messages.c
        stmt = (select(*tables.messages.c).where(m.status == QUEUED, m.next_attempt_at <= now)
                .order_by(m.next_attempt_at, m.created_at).limit(limit).with_for_update(skip_locked=True))
        return [_message(row) for row in self._run(stmt)]

    def _messages(self, where, *, lock: bool = False) -> list[Message]:
        stmt = select(*tables.messages.c).where(where).order_by(tables.messages.c.message_id)
        if lock:
            stmt = stmt.with_for_update()
        return [_message(row) for row in self._run(stmt)]

    def next_due_at(self) -> datetime | None:
        """When the earliest queued message falls due (a retry, or a lease running out)."""
        m = tables.messages.c
        return self._open_session().scalar(select(func.min(m.next_attempt_at)).where(m.status == QUEUED))

    def messages_page(self, *, merchant_id: str | None, order_id: str | None, to: str | None,
                      limit: int, cursor: str | None, status: str | None = None):
        m = tables.messages.c
        stmt = select(Message)
        if merchant_id is not None:
            stmt = stmt.where(m.merchant_id == merchant_id)
        if order_id is not None:
            stmt = stmt.where(m.order_id == order_id)
        if to is not None:
            stmt = stmt.where(func.lower(m.to_address) == to.lower())
        if status is not None:
            stmt = stmt.where(m.status == status)
        return paginate(self._open_session(), stmt, m.created_at, m.message_id, limit, cursor)


_MESSAGE_STATE = ("status", "attempts", "last_error", "next_attempt_at", "sent_at")
_MESSAGE_CONTENT = ("to_address", "text_body", "html_body")
_TABLES = {MerchantContact: tables.merchant_contacts, OrderRecipient: tables.order_recipients,
           OrderLine: tables.order_lines, Product: tables.products, Message: tables.messages}


def _row(obj) -> tuple[Table, dict]:
    """The table of a domain object and its row; the dataclass fields are the columns (`to` is
    stored as to_address)."""
    table = _TABLES[type(obj)]
    return table, {column.key: getattr(obj, "to" if column.key == "to_address" else column.key)
                   for column in table.c}


_MESSAGE_FIELDS = tuple("to" if column.key == "to_address" else column.key for column in tables.messages.c)


def _message(row) -> Message:
    return Message(**dict(zip(_MESSAGE_FIELDS, row, strict=True)))
