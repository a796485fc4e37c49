"""Issue 13: with OTEL_EXPORTER_OTLP_ENDPOINT set, one checkout is one trace across the five
services — the real processes export over OTLP/HTTP to a receiver here, which decodes the spans."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tillkey.devtools.launcher import free_port
from tillkey.devtools.topology import SERVICES

pytestmark = pytest.mark.e2e
OTLP_PORT = free_port()
# Every trace sampled and exported within 0.2 s, so the test does not wait for the defaults (10 %, 5 s).
PLATFORM_ENV = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_PORT}", "OTEL_TRACES_SAMPLER": "always_on",
                "OTEL_BSP_SCHEDULE_DELAY": "200"}


class Spans:
    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []  # (service.name, span name, trace id)
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            for resource_spans in request.resource_spans:
                attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    self.rows += [(attrs.get("service.name"), s.name, s.trace_id.hex()) for s in scope.spans]


@pytest.fixture(scope="module")
def spans():  # asked for before `client`: the receiver listens before the processes start
    received = Spans()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.add(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", OTLP_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received
    server.shutdown()


def test_one_checkout_is_one_trace_across_the_services(spans, client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    trace_id, caller_span = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    client.http.headers["traceparent"] = f"00-{trace_id}-{caller_span}-01"
    try:
        client.checkout(product["product_id"])
    finally:
        del client.http.headers["traceparent"]

    def services_in_trace():
        with spans.lock:
            return {service for service, _name, tid in spans.rows if tid == trace_id}

    deadline = time.monotonic() + 30
    while services_in_trace() != {f"tillkey-{s}" for s in SERVICES} and time.monotonic() < deadline:
        time.sleep(0.3)
    assert services_in_trace() == {f"tillkey-{s}" for s in SERVICES}
    names = {name for _service, name, tid in spans.rows if tid == trace_id}
    assert {"HTTP POST /v1/carts/<cart_id>/checkout", "publish order.created", "handle order.created"} <= names
    assert any(name.startswith("INSERT") for name in names)
