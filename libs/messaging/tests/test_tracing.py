"""Tracing across the broker (in-memory exporter, real RabbitMQ and databases): an event emitted
under a span is published with its context in the AMQP `traceparent` header, and the consumer's
span continues the same trace — publish under the emitting span, handle under the publish."""
from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

from tillkey.contracts import load_sample
from tillkey.messaging import Consumer, OutboxRelay, QueueTopology
from tillkey.platform import tracing

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sampled", "left out"])
def spans(request):
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON if request.param == "sampled" else ParentBased(TraceIdRatioBased(0.0)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert tracing.setup("test", "test", provider=provider)
    yield provider.get_tracer("test"), exporter
    tracing.stop()


def test_one_trace_from_the_emitting_span_through_the_broker(spans, db, broker, loops, service, amqp_url,
                                                             wait_until):
    tracer, exporter = spans
    topology = QueueTopology(service, ("order.created",))
    broker.own(topology)
    consumer = Consumer(amqp_url, topology, db.dispatcher())
    loops.start(consumer)
    wait_until(lambda: consumer.ready, what="the consumer")

    with tracer.start_as_current_span("POST /v1/carts/<cart_id>/checkout") as root:
        with db.uow() as uow:
            event = uow.emit("order.created", load_sample("order.created")["data"])
            uow.commit()
    loops.start(OutboxRelay(amqp_url, db.session_factory, db.outbox, service))
    wait_until(lambda: db.effects_for(event.id) == 1, what="the event handled")
    if not root.get_span_context().trace_flags.sampled:  # left out: handled the same, nothing exported
        assert exporter.get_finished_spans() == ()
        return

    def named(prefix):
        return [s for s in exporter.get_finished_spans() if s.name.startswith(prefix)]

    wait_until(lambda: named("handle order.created"), what="the handle span")
    [publish], [handle] = named("publish order.created"), named("handle order.created")
    trace_id = root.get_span_context().trace_id
    assert {publish.context.trace_id, handle.context.trace_id} == {trace_id}
    assert publish.parent.span_id == root.get_span_context().span_id
    assert handle.parent.span_id == publish.context.span_id
    # SQL statements are spans of whatever span runs them: the outbox insert under the request's,
    # the consumer's inbox and effect writes under the handle span.
    inserts = [s for s in named("INSERT") if s.parent is not None]
    assert any(s.parent.span_id == root.get_span_context().span_id for s in inserts)
    assert any(s.parent.span_id == handle.context.span_id for s in inserts)


def test_off_by_default_nothing_is_added(db):
    assert not tracing.ACTIVE and not tracing.setup("test", "test")  # no OTEL_EXPORTER_OTLP_ENDPOINT here
    with db.uow() as uow:
        event = uow.emit("order.created", load_sample("order.created")["data"])
        uow.commit()
    with db.session_factory() as session:
        body = session.execute(db.outbox.select().where(db.outbox.c.event_id == event.id)).one().body
    assert "traceparent" not in json.loads(body)
