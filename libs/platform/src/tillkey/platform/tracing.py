"""OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md).

One order is one trace across the five services: an HTTP request's span (its caller's `traceparent`
honoured) is the parent of its SQL statements and of the events it emits. An emitted event keeps
the W3C `traceparent` of the span that emitted it inside its outbox body (an extra envelope field;
readers ignore unknown fields); the relay publishes it with a `publish` span whose context travels
in the AMQP header `traceparent`, and the consumer's `handle` span continues from that header.

Off (the default) every hook here is one test of a module-level flag: no span, no context, no
header. On, the sampler is the SDK's (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), by default
here parent-based with 10 % of new traces, so a busy shop does not trace every order.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

ACTIVE = False
_tracer: Tracer | None = None
_sql_instrumented = False
_parents = threading.local()  # message id -> traceparent of the delivery being handled (consumer thread)
_BODY_FIELD = b'"traceparent":"'


def setup(service: str, kind: str, provider=None) -> bool:
    """Turn tracing on for this process when an OTLP endpoint is configured (or a `provider` is
    given: tests). Returns whether it is on."""
    global ACTIVE, _tracer
    if provider is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    if provider is None:
        provider = _otlp_provider(service, kind)
    _tracer = provider.get_tracer("tillkey")
    _instrument_sql()
    ACTIVE = True
    return True


def stop() -> None:
    """Tracing off again (tests)."""
    global ACTIVE
    ACTIVE = False


def _otlp_provider(service: str, kind: str):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(TraceIdRatioBased(0.1))
    provider = TracerProvider(resource=Resource.create({"service.name": f"tillkey-{service}",
                                                        "tillkey.process": kind}), sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint etc. from OTEL_* variables
    return provider


def _started_tracer() -> Tracer:
    """The tracer `setup` made (called only while ACTIVE, which `setup` sets after making it)."""
    if _tracer is None:
        raise RuntimeError("tracing is on but setup() made no tracer")
    return _tracer


def _instrument_sql() -> None:
    """A span per SQL statement on every engine of the process (class-level SQLAlchemy events)."""
    global _sql_instrumented
    from opentelemetry import trace
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if _sql_instrumented:
        return
    _sql_instrumented = True

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, _params, context, _many):
        if ACTIVE and trace.get_current_span().is_recording():
            span = _started_tracer().start_span(
                statement.split(None, 1)[0].upper() if statement else "SQL", kind=trace.SpanKind.CLIENT,
                attributes={"db.system": conn.dialect.name, "db.statement": statement[:500]})
            context._tillkey_span = span  # noqa: SLF001 (our own attribute on SQLAlchemy's context)

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(_conn, _cursor, _statement, _params, context, _many):
        span = getattr(context, "_tillkey_span", None)
        if span is not None:
            span.end()

    @event.listens_for(Engine, "handle_error")
    def _error(exception_context):
        span = getattr(exception_context.execution_context, "_tillkey_span", None)
        if span is not None:
            span.record_exception(exception_context.original_exception)
            span.end()


# -- HTTP -------------------------------------------------------------------------------------------
def start_request(method: str, headers):
    """A server span for an HTTP request, continuing the caller's `traceparent`; None when off."""
    if not ACTIVE:
        return None
    from opentelemetry import context, trace
    from opentelemetry.propagate import extract

    span = _started_tracer().start_span(f"HTTP {method}", context=extract(headers), kind=trace.SpanKind.SERVER)
    return span, context.attach(trace.set_span_in_context(span))


def end_request(started, route: str, status: int) -> None:
    if started is None:
        return
    from opentelemetry import context

    span, token = started
    if span.is_recording():  # a request the sampler left out has a span without a name
        span.update_name(f"{span.name} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
    span.end()
    context.detach(token)


# -- events: emitted (outbox body), published (AMQP header), handled ----------------------------------
def traceparent_for_body() -> str | None:
    """The current span's `traceparent`, to keep with an event being emitted (None: off or no span)."""
    if not ACTIVE:
        return None
    from opentelemetry.propagate import inject

    carrier: dict = {}
    inject(carrier)
    return carrier.get("traceparent")


def add_to_body(body: str, traceparent: str | None) -> str:
    """The envelope JSON with a `traceparent` field (readers ignore fields they do not know)."""
    return body if not traceparent else f'{body[:-1]},"traceparent":"{traceparent}"}}'


def publish_headers(headers: dict, body: bytes, routing_key: str) -> dict:
    """Relay: a `publish` span under the event's emitting span, its context in the AMQP headers."""
    if not ACTIVE:
        return headers
    start = body.find(_BODY_FIELD)
    if start < 0:
        return headers
    start += len(_BODY_FIELD)
    parent = body[start:body.find(b'"', start)].decode()
    from opentelemetry import trace
    from opentelemetry.propagate import extract, inject

    span = _started_tracer().start_span(f"publish {routing_key}", context=extract({"traceparent": parent}),
                                        kind=trace.SpanKind.PRODUCER,
                                        attributes={"messaging.destination.name": routing_key})
    inject(headers, context=trace.set_span_in_context(span))
    span.end()  # the publish is pipelined: the span marks the hand-over, not the confirm
    return headers


def remember_delivery(properties) -> None:
    """Consumer: keep a delivery's `traceparent` until its handler runs (same thread)."""
    if ACTIVE:
        parent = (properties.headers or {}).get("traceparent")
        if parent:
            if not hasattr(_parents, "by_id"):
                _parents.by_id = {}
            _parents.by_id[properties.message_id] = parent.decode() if isinstance(parent, bytes) else parent


def forget_deliveries() -> None:
    if ACTIVE:
        _parents.by_id = {}


def handling(envelope, handler: str):
    """A consumer span around one handler's work on one message, under its publish span."""
    if not ACTIVE:
        return nullcontext()
    return _handling(envelope, handler)


@contextmanager
def _handling(envelope, handler: str):
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    parent = getattr(_parents, "by_id", {}).get(envelope.id)
    carrier = {"traceparent": parent} if parent else {}
    with _started_tracer().start_as_current_span(
            f"handle {envelope.type}", context=extract(carrier), kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.message.id": envelope.id, "tillkey.handler": handler}):
        yield
