"""The HTTP edge's ids, metrics and spans on a real app (create_base_app over SQLite)."""
from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tillkey.platform import tracing
from tillkey.platform.app import create_base_app
from tillkey.platform.db import make_engine, make_session_factory

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def client(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    app = create_base_app("probe", engine=engine, session_factory=make_session_factory(engine),
                          amqp_url="amqp://guest:guest@127.0.0.1:1/%2F", platform_secret="s" * 32, admin_token="t")
    yield app.test_client()
    engine.dispose()


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": 'bad id"'}).headers["X-Request-ID"]
    assert made.startswith("req_") and made != client.get("/healthz").headers["X-Request-ID"]


def test_requests_are_counted_by_route_template(client):
    before = client.get("/metrics").get_data(as_text=True)
    client.get("/nothing/here")
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    line = 'tillkey_http_requests_total{method="GET",route="/healthz",service="probe",status="200"}'
    count = lambda t: float(next((x.split()[-1] for x in t.splitlines() if x.startswith(line)), 0))  # noqa: E731
    assert count(text) == count(before) + 1
    assert 'route="(unmatched)",service="probe",status="404"' in text
    assert "/nothing/here" not in text  # paths never become labels


def test_a_request_span_continues_the_callers_trace(client):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.setup("probe", "api", provider=provider)
    try:
        client.get("/readyz", headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    finally:
        tracing.stop()
    [span] = [s for s in exporter.get_finished_spans() if s.name.startswith("HTTP")]
    assert span.name == "HTTP GET /readyz" and span.attributes["http.response.status_code"] == 200
    assert format(span.context.trace_id, "032x") == CALLER_TRACE and format(span.parent.span_id, "016x") == CALLER_SPAN
    sql = [s for s in exporter.get_finished_spans() if s.parent and s.parent.span_id == span.context.span_id]
    assert sql and sql[0].attributes["db.system"] == "sqlite"


def test_a_request_the_sampler_leaves_out_is_served_as_usual(client):
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.0)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.setup("probe", "api", provider=provider)
    try:
        assert client.get("/readyz").status_code == 200
        assert client.get("/nothing/here").status_code == 404
    finally:
        tracing.stop()
    assert exporter.get_finished_spans() == ()
