"""SQLAlchemy repositories: the service layer's ports over one session (service_layer/ports.py).

Reads and writes are Core statements run at once, not ORM loads and flushes. Why: the consumer
handles hundreds of events per second, and session.get, lazy unit-of-work flushes and one loaded
object per row were most of its database cost. Every write goes through a method here, so the rows
a later handler of the same batch reads are already in the transaction, and the per-transaction
copies (recipients, merchants) stay what the rows say. The statements are built once, at import,
and those of the hot paths are LeanStatements: compiled once per database, then run on the driver's
cursor without session.execute's work per call (tillkey.platform.lean_sql). Several rows at once
are one executemany through session.execute (LeanStatement.execute_many), and IN lists that expand
per call stay on session.execute.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.orm import Bundle, Session

from tillkey.notifications.adapters import tables
from tillkey.notifications.adapters.together import insert_unless_present_with
from tillkey.notifications.domain.messages import FAILED, QUEUED, Message, sent_state
from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product
from tillkey.platform.lean_sql import LeanStatement
from tillkey.platform.pagination import paginate
from tillkey.platform.revoked_keys import record_revocation
from tillkey.platform.sql import insert_unless_present

_mc, _r, _l, _p, _m = (tables.merchant_contacts.c, tables.order_recipients.c, tables.order_lines.c,
                       tables.products.c, tables.messages.c)


def _row(table: Table, obj: object) -> dict[str, Any]:
    """A domain object's row: the dataclass fields are the columns (a message's `to` is stored as to_address)."""
    return {key: getattr(obj, field) for key, field in _fields(table)}


@functools.cache  # once per table: walking a Table's column collection for every row was a hot-path cost
def _fields(table: Table) -> tuple[tuple[str, str], ...]:
    return tuple((column.key, "to" if column.key == "to_address" else column.key) for column in table.c)


def _update_by_key(table: Table) -> LeanStatement:
    """UPDATE by key (bind `b_key`) of the columns given with it (every other one): built once per table."""
    return LeanStatement(update(table).where(next(iter(table.primary_key.columns)) == bindparam("b_key")))


def _save(session: Session, table: Table, statement: LeanStatement, obj: object) -> None:
    key = next(iter(table.primary_key.columns)).key
    row = _row(table, obj)
    row["b_key"] = row.pop(key)
    statement.execute(session, row)


class _Remembered:
    """Nothing to write back at commit (every write ran at once); what the transaction read is
    forgotten when it rolls back (SqlAlchemyUnitOfWork.writes_back)."""

    def write_changes(self) -> None:
        pass

    def forget(self) -> None:
        self.known.clear()

    known: dict[str, Any]


class Merchants(_Remembered):
    def __init__(self, session: Session):
        self.session = session
        self.known: dict[str, MerchantContact] = {}

    def add(self, merchant: MerchantContact) -> None:
        _INSERT_MERCHANT.execute(self.session, _row(tables.merchant_contacts, merchant))
        self.known[merchant.merchant_id] = merchant

    def get(self, merchant_id: str) -> MerchantContact | None:
        merchant = self.known.get(merchant_id)
        if merchant is None:
            row = _MERCHANT.first(self.session, {"b_merchant_id": merchant_id})
            if row is not None:
                merchant = self.known[merchant_id] = MerchantContact(*row)
        return merchant

    def save(self, merchant: MerchantContact) -> None:
        _save(self.session, tables.merchant_contacts, _UPDATE_MERCHANT, merchant)
        self.known[merchant.merchant_id] = merchant


_INSERT_MERCHANT = LeanStatement(tables.merchant_contacts.insert())
_MERCHANT = LeanStatement(select(*tables.merchant_contacts.c).where(_mc.merchant_id == bindparam("b_merchant_id")))
_UPDATE_MERCHANT = _update_by_key(tables.merchant_contacts)


class Recipients(_Remembered):
    def __init__(self, session: Session, merchants: Merchants):
        self.session = session
        self.known: dict[str, OrderRecipient] = {}
        self._merchants = merchants  # a recipient's read brings its merchant's contact along

    def add_unless_known(self, recipient: OrderRecipient, lines: Sequence[OrderLine] = ()) -> bool:
        if recipient.order_id in self.known:
            return False
        if not insert_unless_present_with(self.session.connection(), tables.order_recipients,
                                          _row(tables.order_recipients, recipient), "order_id",
                                          tables.order_lines, [_row(tables.order_lines, line) for line in lines]):
            return False
        self.known[recipient.order_id] = recipient
        return True

    def get(self, order_id: str) -> OrderRecipient | None:
        recipient = self.known.get(order_id)
        if recipient is not None:
            return recipient
        row = _RECIPIENT.first(self.session, {"b_order_id": order_id})
        return None if row is None else self._remember(row)

    def get_with_line(self, order_id: str, line_id: str) -> tuple[OrderRecipient | None, str | None]:
        recipient = self.known.get(order_id)
        if recipient is not None:  # read (or written) earlier in this transaction: only the line is new
            return recipient, _LINE_NAME.scalar(self.session, {"b_order_id": order_id, "b_line_id": line_id})
        row = _RECIPIENT_WITH_LINE.first(self.session, {"b_order_id": order_id, "b_line_id": line_id})
        return (None, None) if row is None else (self._remember(row), row.line_name)

    def _remember(self, row: Any) -> OrderRecipient:
        recipient = self.known[row.order_id] = OrderRecipient(*row[:5])
        if row.m_name is not None and recipient.merchant_id not in self._merchants.known:
            self._merchants.known[recipient.merchant_id] = MerchantContact(recipient.merchant_id, row.m_name,
                                                                           row.m_email)
        return recipient

    def save(self, recipient: OrderRecipient) -> None:
        _save(self.session, tables.order_recipients, _UPDATE_RECIPIENT, recipient)
        self.known[recipient.order_id] = recipient


_RECIPIENT_WITH_MERCHANT = (
    select(_r.order_id, _r.merchant_id, _r.email, _r.first_name, _r.locale,
           _mc.name.label("m_name"), _mc.email.label("m_email"))
    .outerjoin_from(tables.order_recipients, tables.merchant_contacts, _mc.merchant_id == _r.merchant_id)
    .where(_r.order_id == bindparam("b_order_id")))
_RECIPIENT = LeanStatement(_RECIPIENT_WITH_MERCHANT)
# An email about one line (license_delivery, license_request) reads the line's name with the
# recipient: one statement, not two. Only a line of that very order counts.
_RECIPIENT_WITH_LINE = LeanStatement(_RECIPIENT_WITH_MERCHANT.add_columns(_l.name.label("line_name"))
                                     .outerjoin(tables.order_lines, and_(_l.line_id == bindparam("b_line_id"),
                                                                         _l.order_id == _r.order_id)))
_LINE_NAME = LeanStatement(select(_l.name).where(_l.line_id == bindparam("b_line_id"),
                                                 _l.order_id == bindparam("b_order_id")))
_UPDATE_RECIPIENT = _update_by_key(tables.order_recipients)


class OrderLines:
    def __init__(self, session: Session):
        self.session = session

    def add_all(self, lines: list[OrderLine]) -> None:
        _INSERT_LINE.execute_many(self.session, [_row(tables.order_lines, line) for line in lines])

    def get(self, line_id: str) -> OrderLine | None:
        row = _LINE.first(self.session, {"b_line_id": line_id})
        return OrderLine(*row) if row is not None else None


_INSERT_LINE = LeanStatement(tables.order_lines.insert())
_LINE = LeanStatement(select(*tables.order_lines.c).where(_l.line_id == bindparam("b_line_id")))


class Products:
    """`existing`: the product ids this process saw committed, shared by its units of work. A
    product row is never deleted here, so an id once committed needs no SELECT again: order.created
    checks its products against the set first, and reads only the ids it does not hold."""

    def __init__(self, session: Session, existing: set[str] | None = None):
        self.session = session
        self._existing = existing if existing is not None else set()
        self._seen: set[str] = set()  # found or inserted in this transaction: existing once it commits

    def add(self, product: Product) -> None:
        self.add_all([product])

    def add_all(self, products: list[Product]) -> None:
        _INSERT_PRODUCT.execute_many(self.session, [_row(tables.products, product) for product in products])
        self._seen.update(product.product_id for product in products)

    def get(self, product_id: str) -> Product | None:
        row = _PRODUCT.first(self.session, {"b_product_id": product_id})
        return Product(*row) if row is not None else None

    def save(self, product: Product) -> None:
        _save(self.session, tables.products, _UPDATE_PRODUCT, product)

    def known(self, product_ids: Iterable[str]) -> set[str]:
        wanted = set(product_ids)
        unsure = wanted - self._existing
        if not unsure:
            return wanted
        found = set(self.session.scalars(_KNOWN_PRODUCTS, {"b_product_ids": sorted(unsure)}))
        self._seen |= found  # perhaps inserted by this very transaction: not sure until it commits
        return (wanted - unsure) | found

    def write_changes(self) -> None:
        pass  # every write ran at once

    def forget(self) -> None:
        self._seen.clear()  # rolled back: what it inserted is gone

    def committed(self) -> None:
        if len(self._existing) + len(self._seen) > MOST_PRODUCTS_REMEMBERED:
            self._existing.clear()  # a catalogue that large costs a SELECT per order again, never memory
        self._existing |= self._seen
        self._seen.clear()


MOST_PRODUCTS_REMEMBERED = 100_000
_INSERT_PRODUCT = LeanStatement(tables.products.insert())
_PRODUCT = LeanStatement(select(*tables.products.c).where(_p.product_id == bindparam("b_product_id")))
_UPDATE_PRODUCT = _update_by_key(tables.products)
_KNOWN_PRODUCTS = select(_p.product_id).where(_p.product_id.in_(bindparam("b_product_ids", expanding=True)))


class Messages:
    def __init__(self, session: Session):
        self.session = session

    def queue(self, message: Message) -> bool:
        """A second transaction inserting the same cause at once waits for the first on PostgreSQL
        and then inserts nothing; SQLite runs writers one at a time."""
        return insert_unless_present(self.session, tables.messages, _row(tables.messages, message),
                                     conflict_on="cause")

    def save_all(self, messages: list[Message], *, with_content: bool = False) -> None:
        if not messages:
            return
        names = _MESSAGE_STATE + (_MESSAGE_CONTENT if with_content else ())
        rows = []
        for message in messages:
            row = _row(tables.messages, message)
            rows.append({"b_key": message.message_id, **{name: row[name] for name in names}})
        self._update(rows)

    def mark_sent(self, message_ids: list[str], now: datetime) -> None:
        if message_ids:
            state = sent_state(now)
            self._update([{"b_key": message_id, **state} for message_id in message_ids])

    def _update(self, rows: list[dict[str, Any]]) -> None:
        """One message's UPDATE, or one executemany for several (in the order given: ids sorted, no deadlock)."""
        _UPDATE_MESSAGE.execute_many(self.session, rows)

    def locked(self, message_ids: list[str]) -> dict[str, Message]:
        ids = sorted(set(message_ids))  # locked in id order, as every writer does: no deadlock
        found = self.session.execute(_LOCKED_MESSAGES, {"b_message_ids": ids})  # an IN list: not lean
        return {msg.message_id: msg for msg in map(_message, found)}

    def of_order(self, order_id: str) -> list[Message]:
        return self._messages(_MESSAGES_OF_ORDER, {"b_order_id": order_id})

    def claim_due(self, now: datetime, limit: int) -> list[Message]:
        """SKIP LOCKED on PostgreSQL; on SQLite the BEGIN IMMEDIATE of our engine serialises writers.
        The caller leases them (next_attempt_at moves on), saves them and commits, so after the
        lock ends they stay out of other senders' polls until the lease runs out."""
        return self._messages(_DUE_MESSAGES, {"b_now": now, "b_limit": limit})

    def _messages(self, statement: LeanStatement, params: Mapping[str, Any]) -> list[Message]:
        return [_message(row) for row in statement.all(self.session, params)]

    def next_due_at(self) -> datetime | None:
        due: datetime | None = _NEXT_DUE.scalar(self.session)
        return due

    def page(self, *, merchant_id: str | None, order_id: str | None, to: str | None, status: str | None,
             limit: int, cursor: str | None) -> tuple[list[Message], str | None]:
        stmt = select(_MESSAGE_LOG)
        if merchant_id is not None:
            stmt = stmt.where(_m.merchant_id == merchant_id)
        if order_id is not None:
            stmt = stmt.where(_m.order_id == order_id)
        if to is not None:
            stmt = stmt.where(func.lower(_m.to_address) == to.lower())
        if status is not None:
            stmt = stmt.where(_m.status == status)
        return paginate(self.session, stmt, _m.created_at, _m.message_id, limit, cursor)

    def failed(self, limit: int) -> list[dict[str, Any]]:
        return [row._asdict() for row in self.session.execute(_FAILED, {"b_limit": limit})]

    def requeue_failed(self, message_ids: list[str] | None, now: datetime) -> int:
        # A try that fails again past the give-up window marks them failed again (one more try, not a new life).
        if message_ids is None:
            result = self.session.execute(_REQUEUE_ALL, {"b_now": now})
        else:
            result = self.session.execute(_REQUEUE, {"b_now": now, "b_message_ids": message_ids})
        return int(getattr(result, "rowcount", 0))


_MESSAGE_STATE = ("status", "attempts", "last_error", "next_attempt_at", "sent_at")
_MESSAGE_CONTENT = ("to_address", "text_body", "html_body")
_MESSAGE_FIELDS = tuple("to" if column.key == "to_address" else column.key for column in tables.messages.c)
_UPDATE_MESSAGE = LeanStatement(update(tables.messages).where(_m.message_id == bindparam("b_key")))
_LOCKED_MESSAGES = (select(*tables.messages.c).where(_m.message_id.in_(bindparam("b_message_ids", expanding=True)))
                    .order_by(_m.message_id).with_for_update())
_MESSAGES_OF_ORDER = LeanStatement(select(*tables.messages.c).where(_m.order_id == bindparam("b_order_id"))
                                   .order_by(_m.message_id))
_DUE_MESSAGES = LeanStatement(
    select(*tables.messages.c).where(_m.status == QUEUED, _m.next_attempt_at <= bindparam("b_now"))
    .order_by(_m.next_attempt_at, _m.created_at).limit(bindparam("b_limit")).with_for_update(skip_locked=True))
_NEXT_DUE = LeanStatement(select(func.min(_m.next_attempt_at)).where(_m.status == QUEUED))
_FAILED = (select(_m.message_id, _m.template, _m.order_id, _m.attempts, _m.last_error, _m.created_at)
           .where(_m.status == FAILED).order_by(_m.created_at.desc()).limit(bindparam("b_limit")))
_REQUEUE_ALL = (update(tables.messages).where(_m.status == FAILED)
                .values(status=QUEUED, next_attempt_at=bindparam("b_now")))
_REQUEUE = _REQUEUE_ALL.where(_m.message_id.in_(bindparam("b_message_ids", expanding=True)))


def _message(row: Any) -> Message:
    return Message(**dict(zip(_MESSAGE_FIELDS, row, strict=True)))


class _MessageLog(Bundle):
    """The log's rows as Message objects from session.scalars (platform.pagination), the class unmapped."""

    def create_row_processor(self, query: Any, procs: Any, labels: Any) -> Any:
        return lambda row: _message([proc(row) for proc in procs])


_MESSAGE_LOG = _MessageLog("message", *tables.messages.c)


class RevokedKeys:
    def __init__(self, session: Session):
        self.session = session

    def deny(self, merchant_id: str, key_id: str, revoked_at: datetime) -> None:
        record_revocation(self.session, merchant_id, key_id, revoked_at)
