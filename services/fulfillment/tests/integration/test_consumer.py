"""The fulfillment worker against the real RabbitMQ: golden samples in, effects once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tillkey.contracts import load_sample
from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.bootstrap import SERVICE
from tillkey.messaging import Consumer, OutboxRelay
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
PRODUCT = "prod_5Tg7LmN2cV"


@pytest.fixture
def consumer(service, settings):
    declare_fresh(settings.amqp_url, service.topology)
    counter = CountingHandler(service.dispatcher)
    consumer = Consumer(settings.amqp_url, service.topology, counter)
    consumer.counter = counter
    return consumer


def count(service, table):
    with service.session_factory() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_topology_binds_the_consumed_types(service):
    assert service.topology.queue == "fulfillment.events"
    assert set(service.topology.routing_keys) == {"product.created", "product.updated", "order.created",
                                                  "order.deleted", "order.paid", "payment.refunded",
                                                  "merchant.api_key_revoked"}


def test_order_created_twice_makes_one_delivery_per_line(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.created"), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 2, what="both copies handled")
    assert (count(service, tables.orders), count(service, tables.deliveries), count(service, tables.inbox)) == (1, 1, 1)
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_products_are_learned_once_and_updated(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("product.created"), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 2, what="both copies handled")
        publish(settings.amqp_url, sample_envelope("product.updated"), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 4, what="both updates handled")
    assert count(service, tables.products) == 1
    with service.uow_factory() as uow:
        product = uow.products.get(PRODUCT)
        assert (product.name, product.active, product.merchant_id) == ("Pro Editor 2", False, "mer_7Yb2kQ9xTz")


def test_an_erasure_that_overtakes_its_order_still_erases(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.deleted"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created"))

        def erased():
            with service.uow_factory() as uow:
                order = uow.orders.get(ORDER)
                return order is not None and order.is_deleted and order.email is None
        wait_until(erased, timeout=20, what="the order erased after its retry")
    assert count(service, tables.deliveries) == 1


def test_payment_before_its_order_is_retried_then_delivers(service, settings, consumer, license_worker):
    """order.paid overtaking order.created (a redelivery on the retry path) waits."""
    relay = OutboxRelay(settings.amqp_url, service.session_factory, tables.outbox, SERVICE)
    probe = bind_probe(settings.amqp_url, "license.requested", "product.delivered")
    with running(consumer=consumer, relay=relay, worker=license_worker):
        publish(settings.amqp_url, sample_envelope("order.paid"))
        wait_until(lambda: len(consumer.counter.seen) >= 1, what="the early payment tried once")
        publish(settings.amqp_url, sample_envelope("order.created"))

        def awaiting():
            with service.uow_factory() as uow:
                order = uow.orders.get(ORDER)
                return order is not None and order.deliveries[0].status == "awaiting_merchant"
        wait_until(awaiting, timeout=20, what="the retried payment started fulfillment")
        [requested] = drain(settings.amqp_url, probe, expect=1, timeout=20)
    assert requested["type"] == "license.requested" and requested["producer"] == "fulfillment"
    assert requested["data"]["line_id"] == "line_9Kd2PqX7aB"
    assert requested["causation_id"] == load_sample("order.paid")["id"]
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0
    with service.uow_factory() as uow:
        assert uow.orders.get(ORDER).status == "paid"


def test_a_duplicated_payment_message_asks_the_merchant_once(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.created"))
        wait_until(lambda: len(consumer.counter.seen) == 1, what="the order handled")
        publish(settings.amqp_url, sample_envelope("order.paid"), times=2)
        publish(settings.amqp_url, sample_envelope("order.paid", new_id=True))
        wait_until(lambda: len(consumer.counter.seen) == 4, what="all payment copies handled")
    assert count(service, tables.outbox) == 1  # one license.requested
