"""The notifications worker against the real RabbitMQ: golden samples in, effects once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tillkey.messaging import Consumer
from tillkey.notifications.adapters import tables
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


def test_each_consumed_type_twice_has_one_effect(service, settings, consumer):
    with running(consumer=consumer):
        for type in ("merchant.registered", "order.created"):
            publish(settings.amqp_url, sample_envelope(type), times=2)
        wait_until(lambda: len(consumer.counter.seen) == 4, what="all four copies handled")
    assert (count(service, tables.merchant_contacts), count(service, tables.order_recipients)) == (1, 1)
    assert count(service, tables.inbox) == 2
    with service.uow_factory() as uow:
        assert uow.merchant("mer_7Yb2kQ9xTz").email == "billing@acme.example"
        assert uow.recipient(ORDER).email == "ada@example.com"
    assert queue_depth(settings.amqp_url, service.topology.dead_queue) == 0


def test_an_erasure_that_overtakes_its_order_still_erases(service, settings, consumer):
    with running(consumer=consumer):
        publish(settings.amqp_url, sample_envelope("order.deleted"), times=2)
        publish(settings.amqp_url, sample_envelope("order.created"))

        def erased():
            with service.uow_factory() as uow:
                recipient = uow.recipient(ORDER)
                return recipient is not None and recipient.email is None and recipient.first_name is None
        wait_until(erased, timeout=20, what="the recipient erased after its retry")
