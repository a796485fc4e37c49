"""How many statements a full order costs the worker: Core reads and writes, no ORM loads or flushes.

Counted per table with a before_cursor_execute listener; the inbox and outbox are the library's.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.notifications.adapters import tables
from tillkey.notifications.service_layer import sending
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]


def _counts(seen) -> Counter:
    return counted(seen, excluding=("inbox", "outbox"))


def _recipient_with_lines(service) -> Counter:
    """order.created's recipient and lines: one statement on PostgreSQL (adapters/together.py)."""
    if service.engine.dialect.name == "postgresql":
        return Counter({"WITH order_recipients": 1})
    return Counter({"INSERT order_recipients": 1, "INSERT order_lines": 1})


def test_a_full_order_reads_each_row_once_and_records_its_outcomes_in_one_update(service):
    service.dispatcher.handle_batch([sample_envelope("merchant.registered")])
    with recorded_statements(service.engine) as seen:
        for type in ("order.created", "payment.succeeded", "product.delivered"):
            service.dispatcher.handle_batch([sample_envelope(type)])  # one event per batch: the worst case
    assert _counts(seen) == _recipient_with_lines(service) + Counter({
        "SELECT products": 1, "INSERT products": 1,
        # With its merchant's contact (no SELECT merchant_contacts), and for product.delivered with
        # the line's name (no SELECT order_lines).
        "SELECT order_recipients": 2,
        "INSERT messages": 2})  # no SELECT messages: the unique cause decides

    with service.uow_factory() as uow:
        ids = sorted(m.message_id for m in uow.messages.of_order(ORDER["order_id"]))
    assert len(ids) == 2
    with recorded_statements(service.engine) as seen:
        service.handle(sending.RecordOutcomes([sending.Outcome(ids[0]), sending.Outcome(ids[1], "451 busy")],
                                              schedule=(60.0,), give_up_after=timedelta(days=1)))
    assert _counts(seen) == Counter({"SELECT messages": 1, "UPDATE messages": 1})
    with service.uow_factory() as uow:
        sent, deferred = (uow.messages.locked([i])[i] for i in ids)
    assert (sent.status, sent.sent_at is not None, sent.next_attempt_at, sent.last_error) == ("sent", True, None, None)
    assert (deferred.status, deferred.last_error, deferred.sent_at) == ("queued", "451 busy", None)
    assert deferred.next_attempt_at is not None


def _two_queued_emails(service) -> list[str]:
    for type in ("merchant.registered", "order.created", "payment.succeeded", "product.delivered"):
        service.dispatcher.handle_batch([sample_envelope(type)])
    with service.uow_factory() as uow:
        ids = sorted(m.message_id for m in uow.messages.of_order(ORDER["order_id"]))
    assert len(ids) == 2
    return ids


def test_a_lot_of_accepted_emails_is_recorded_in_one_update_without_reading_it(service):
    ids = _two_queued_emails(service)
    with recorded_statements(service.engine) as seen:
        service.handle(sending.RecordOutcomes([sending.Outcome(i) for i in reversed(ids)], schedule=(60.0,),
                                              give_up_after=timedelta(days=1)))
    assert _counts(seen) == Counter({"UPDATE messages": 1})
    with service.uow_factory() as uow:
        for message in uow.messages.locked(ids).values():
            assert (message.status, message.sent_at is not None, message.next_attempt_at, message.last_error) == (
                "sent", True, None, None)


def test_an_email_about_a_line_of_an_order_read_in_the_same_batch_reads_only_the_line(service):
    service.dispatcher.handle_batch([sample_envelope("merchant.registered")])
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch([sample_envelope(type) for type in ("order.created", "product.delivered")])
    counts = _counts(seen)
    assert (counts["SELECT order_recipients"], counts["SELECT order_lines"], counts["INSERT messages"]) == (0, 1, 1)


def test_a_copy_of_order_created_or_of_an_email_event_writes_nothing(service):
    for type in ("merchant.registered", "order.created", "payment.succeeded"):
        service.dispatcher.handle_batch([sample_envelope(type)])
    with recorded_statements(service.engine) as seen:
        for type in ("order.created", "payment.succeeded"):
            service.dispatcher.handle_batch([sample_envelope(type, new_id=True)])
    first = "WITH order_recipients" if service.engine.dialect.name == "postgresql" else "INSERT order_recipients"
    assert _counts(seen) == Counter({first: 1, "SELECT order_recipients": 1, "INSERT messages": 1})
    with service.session_factory() as session:
        assert len(session.execute(select(tables.messages.c.message_id)).all()) == 1
        assert len(session.execute(select(tables.order_lines.c.line_id)).all()) == len(ORDER["lines"])


def test_the_domain_classes_stay_plain_dataclasses_once_the_service_is_wired(service):
    """Not ORM-mapped (adapters/tables.py): an instrumented class cost ~25x a plain one per object
    built, and the hot paths build messages, recipients and lines for every event."""
    from tillkey.notifications.domain.messages import Message
    from tillkey.notifications.domain.model import MerchantContact, OrderLine, OrderRecipient, Product

    for cls in (Message, MerchantContact, OrderLine, OrderRecipient, Product):
        assert not hasattr(cls, "_sa_class_manager"), cls


def test_a_product_seen_committed_is_not_read_again_by_the_next_order(service):
    for type in ("merchant.registered", "order.created"):
        service.dispatcher.handle_batch([sample_envelope(type)])
    line = {**ORDER["lines"][0], "line_id": "line_5Rt8YuI2oP"}
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch([sample_envelope("order.created", new_id=True, order_id="ord_5Kd8Lm2QpWx7",
                                                         lines=[line])])
    assert _counts(seen) == _recipient_with_lines(service)  # no SELECT products


def test_a_product_whose_insert_rolled_back_is_read_and_written_again(service):
    from tillkey.notifications.domain.model import Product

    line = ORDER["lines"][0]
    with service.uow_factory() as uow:  # written, then rolled back: it must not count as there
        uow.products.add(Product(line["product_id"], ORDER["merchant_id"], "Never committed"))
        assert uow.products.known([line["product_id"]]) == {line["product_id"]}
        uow.rollback()
    with service.uow_factory() as uow:  # written, never committed (closed without commit)
        uow.products.add(Product(line["product_id"], ORDER["merchant_id"], "Never committed"))
    with recorded_statements(service.engine) as seen:
        for type in ("merchant.registered", "order.created"):
            service.dispatcher.handle_batch([sample_envelope(type)])
    assert (_counts(seen)["SELECT products"], _counts(seen)["INSERT products"]) == (1, 1)
    with service.uow_factory() as uow:
        assert uow.products.get(line["product_id"]).name == line["name"]
