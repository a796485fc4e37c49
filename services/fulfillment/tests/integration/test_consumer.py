"""The fulfillment worker against the real RabbitMQ: golden samples in, effects once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tillkey.fulfillment.adapters import tables
from tillkey.messaging import Consumer
from tillkey.testing.messaging import (
    CountingHandler,
    declare_fresh,
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
                                                  "order.deleted", "payment.succeeded"}


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
        product = uow.product(PRODUCT)
        assert (product.name, product.active, product.merchant_id) == ("Pro Editor 2", False, "mer_7Yb2kQ9xTz")


def test_an_erasure_that_overtakes_its_order_still_erases(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.deleted"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created"))

        def erased():
            with service.uow_factory() as uow:
                order = uow.order(ORDER)
                return order is not None and order.is_deleted and order.email is None
        wait_until(erased, timeout=20, what="the order erased after its retry")
    assert count(service, tables.deliveries) == 1
