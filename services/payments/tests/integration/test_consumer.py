"""The payments worker against the real RabbitMQ: golden samples in, effects once, events out."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tillkey.messaging import Consumer, OutboxRelay
from tillkey.payments.adapters import tables
from tillkey.payments.bootstrap import SERVICE
from tillkey.testing.messaging import (
    CountingHandler,
    bind_probe,
    declare_fresh,
    drain,
    publish,
    queue_depth,
    running,
    sample_envelope,
    wait_until,
)

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


@pytest.fixture
def consumer(service, settings):
    declare_fresh(settings.amqp_url, service.topology)
    counter = CountingHandler(service.dispatcher)
    consumer = Consumer(settings.amqp_url, service.topology, counter)
    consumer.counter = counter
    return consumer


def count(service, table, *where):
    with service.session_factory() as session:
        return session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_topology_binds_the_consumed_types(service):
    assert service.topology.queue == "payments.events"
    assert set(service.topology.routing_keys) == {"merchant.registered", "order.created", "order.canceled",
                                                  "order.deleted", "refund.requested", "merchant.api_key_revoked"}


def test_order_created_twice_is_remembered_once(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.created"), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 2, what="both copies handled")
    assert count(service, tables.orders) == 1
    assert count(service, tables.inbox) == 1
    with service.uow_factory() as uow:
        order = uow.orders.get(ORDER)
        assert (order.amount, order.currency, order.status) == (8820, "EUR", "not_paid")
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_a_cancel_that_overtakes_its_order_waits_for_it(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.canceled"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created"))

        def canceled():
            with service.uow_factory() as uow:
                order = uow.orders.get(ORDER)
                return order is not None and order.status == "canceled"
        wait_until(canceled, timeout=20, what="the order canceled after its retry")
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_a_free_order_publishes_payment_succeeded_once(service, settings, consumer):
    probe = bind_probe(settings.amqp_url, "payment.succeeded")
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE, poll_interval=0.05)
    with running(consumer=consumer, relay=relay):
        publish(settings.amqp_url, sample_envelope("order.created", total=0, discount=9800), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 2, what="both copies handled")
        [message] = drain(settings.amqp_url, probe, expect=1)
        assert drain(settings.amqp_url, probe, expect=1, timeout=1.0) == []
    assert message["type"] == "payment.succeeded" and message["producer"] == "payments"
    assert message["data"]["order_id"] == ORDER and message["data"]["method"] == "free"
    assert message["causation_id"] == "evt_00000000000000000000000000000010"
    assert count(service, tables.payments) == 1
    assert count(service, tables.outbox, tables.outbox.c.published_at.is_(None)) == 0


def test_an_off_contract_message_goes_to_dead_letters(service, settings, consumer):
    bad = json.loads(sample_envelope("order.created").to_json())
    bad["id"] = "evt_offcontract"
    bad["data"]["total"] = -5
    with running(consumer=consumer):
        publish(settings.amqp_url, bad)
        wait_until(lambda: queue_depth(settings.amqp_url, service.topology.dead_queue) == 1, what="dead letter")
    assert count(service, tables.orders) == 0


def test_a_refund_request_for_a_free_order_is_answered_refund_failed_once(service, settings, consumer):
    probe = bind_probe(settings.amqp_url, "refund.failed")
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE, poll_interval=0.05)
    with running(consumer=consumer, relay=relay):
        # The request may overtake its order: it waits (RetryLater) and is answered once the order is known.
        publish(settings.amqp_url, sample_envelope("refund.requested"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created", total=0, discount=9800))
        [message] = drain(settings.amqp_url, probe, expect=1, timeout=20)
        assert drain(settings.amqp_url, probe, expect=1, timeout=1.0) == []
    assert message["data"]["refund_id"] == "re_2Fh6KjL9pQ"
    assert message["data"]["failure"]["code"] == "nothing_to_refund"
    assert count(service, tables.refunds) == 1
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0
