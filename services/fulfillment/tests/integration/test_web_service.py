"""License web services: a real HTTP server plays the merchant's, the worker loop calls it."""
from __future__ import annotations

import json
import threading
import time

import pytest
from standardwebhooks.webhooks import Webhook

from tillkey.testing.messaging import running, wait_until
from tillkey.testing.receiver import Receiver

from .conftest import deliveries, emitted, know_product, merchant_headers, pay, place_order

pytestmark = pytest.mark.integration
PRODUCT = "prod_ws1"
ORDER = "ord_ws1"


def licenses_for(req, n=None):
    body = req.json()
    count = body["quantity"] if n is None else n
    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"licenses": [f"WS-{body['line_id']}-{i}" for i in range(count)]}).encode()


def scripted(*answers):
    """A responder that gives `answers` in turn (a callable answer is called with the request), then licenses."""
    queue = list(answers)
    lock = threading.Lock()

    def respond(req):
        with lock:
            answer = queue.pop(0) if queue else licenses_for
        return answer(req) if callable(answer) else answer
    return respond


def configure(client, service, url, secret=None):
    know_product(service, PRODUCT)
    body = {"method": "web_service", "url": url, **({"secret": secret} if secret else {})}
    resp = client.put(f"/v1/products/{PRODUCT}/license-source", json=body, headers=merchant_headers())
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json().get("secret", secret)


def buy(service, quantity=2):
    place_order(service, ORDER, [("line_ws1", PRODUCT, quantity)])
    pay(service, ORDER)


def line(service):
    return deliveries(service, ORDER)["line_ws1"]


def settled(service):
    return wait_until(lambda: line(service).status != "pending" and line(service), timeout=20,
                      what="the line delivered or handed to the merchant")


def test_the_call_is_the_spec_body_signed_with_the_sources_secret(service, client, license_worker):
    with Receiver(licenses_for) as merchant, running(worker=license_worker):
        secret = configure(client, service, merchant.url + "/licenses")
        buy(service)
        done = settled(service)
    [req] = merchant.snapshot()
    assert req.path == "/licenses" and req.headers["content-type"] == "application/json"
    # Verified by the reference implementation, not by our own code.
    payload = Webhook(secret).verify(req.body, {k: req.headers[k] for k in
                                                ("webhook-id", "webhook-timestamp", "webhook-signature")})
    assert payload == {"order_id": ORDER, "line_id": "line_ws1", "product_id": PRODUCT, "quantity": 2,
                       "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
                                    "country": "GB"}}
    assert req.headers["webhook-id"] == "line_ws1"
    assert (done.status, done.method, done.licenses) == ("delivered", "web_service",
                                                         ["WS-line_ws1-0", "WS-line_ws1-1"])
    [event] = emitted(service, "product.delivered")
    assert (event["method"], event["licenses"]) == ("web_service", ["WS-line_ws1-0", "WS-line_ws1-1"])


def test_failing_twice_then_answering_is_delivered_with_the_same_webhook_id(service, client, license_worker):
    error = (503, {}, b"busy")
    with Receiver(scripted(error, error)) as merchant, running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        done = settled(service)
    calls = merchant.snapshot()
    assert len(calls) == 3 and len({c.headers["webhook-id"] for c in calls}) == 1
    assert calls[1].at - calls[0].at >= 0.15  # the schedule (0.2 s ± 10 %), not a tight loop
    assert (done.status, done.method, done.reason) == ("delivered", "web_service", None)
    assert emitted(service, "license.requested") == []


@pytest.mark.parametrize("bad", [
    (200, {}, b"not json at all"),
    (200, {}, b'{"licenses": ["ONLY-ONE"]}'),
    (200, {}, b'{"keys": ["A", "B"]}'),
    (200, {}, b'{"licenses": ["A", 7]}'),
    (429, {}, b"slow down"),
], ids=["not-json", "wrong-count", "no-licenses", "not-strings", "429"])
def test_malformed_answers_are_retried(service, client, license_worker, bad):
    with Receiver(scripted(bad)) as merchant, running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        done = settled(service)
    assert len(merchant.snapshot()) == 2
    assert (done.status, done.method) == ("delivered", "web_service") and len(done.licenses) == 2


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_4xx_falls_back_to_manual_at_once(service, client, license_worker, status):
    with Receiver(scripted((status, {}, b'{"error": "unknown product"}'))) as merchant, \
            running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        done = settled(service)
    assert len(merchant.snapshot()) == 1
    assert (done.status, done.method) == ("awaiting_merchant", "manual")
    assert done.reason.startswith(f"license web service answered {status}") and "unknown product" in done.reason
    [requested] = emitted(service, "license.requested")
    assert (requested["line_id"], requested["reason"]) == ("line_ws1", done.reason)


def test_retries_exhausted_fall_back_to_manual_with_the_reason(service, client, license_worker):
    with Receiver(lambda req: (500, {}, b"down")) as merchant, running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        done = settled(service)
    assert len(merchant.snapshot()) == 4  # the first call and the three of the schedule
    assert (done.status, done.method) == ("awaiting_merchant", "manual")
    assert done.reason == "license web service answered 500; gave up after 4 attempts"
    assert len(emitted(service, "license.requested")) == 1


def test_timeouts_and_refused_connections_are_retried(service, client, license_worker):
    def slow(req):
        time.sleep(2.5)  # longer than the 2 s timeout of these tests
        return licenses_for(req)
    with Receiver(scripted(slow)) as merchant, running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        done = settled(service)
    assert len(merchant.snapshot()) == 2 and done.status == "delivered"


def test_an_unreachable_service_ends_with_the_merchant(service, client, license_worker):
    with running(worker=license_worker):
        configure(client, service, "http://127.0.0.1:1/licenses")
        buy(service, quantity=1)
        done = settled(service)
    assert done.status == "awaiting_merchant" and "connection failed" in done.reason


def test_a_line_delivered_by_hand_meanwhile_stops_the_calls(service, client, license_worker):
    with Receiver(lambda req: (503, {}, b"")) as merchant:
        configure(client, service, merchant.url)
        buy(service, quantity=1)
        resp = client.post(f"/v1/orders/{ORDER}/lines/line_ws1/licenses", json={"keys": ["BY-HAND"]},
                           headers=merchant_headers())
        assert resp.status_code == 200, resp.get_json()
        with running(worker=license_worker):
            time.sleep(0.5)  # long enough for the worker to have called, had the line been due
    assert merchant.snapshot() == []
    assert (line(service).method, line(service).licenses) == ("manual", ["BY-HAND"])


def test_a_source_changed_before_the_call_is_followed(service, client, license_worker):
    with Receiver(licenses_for) as merchant:
        configure(client, service, merchant.url)
        buy(service, quantity=1)
        client.put(f"/v1/products/{PRODUCT}/license-source", json={"method": "email", "text": "See your account."},
                   headers=merchant_headers())
        with running(worker=license_worker):
            done = settled(service)
    assert merchant.snapshot() == [] and (done.status, done.method) == ("delivered", "email")


def test_the_address_guard_holds_at_connection_time(settings, service, client):
    from tillkey.fulfillment.adapters.license_service import LicenseServiceClient

    # The URL was accepted (say its name resolved publicly then); now it resolves to loopback.
    guarded = LicenseServiceClient(timeout=2.0, allow_private=False,
                                   resolver=lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", 80))])
    result = guarded.call("http://licenses.example.com/", "{}", {})
    assert result.status is None and "loopback" in result.refused


def test_calls_to_one_service_go_over_one_kept_connection_even_when_it_closes_it(service, client, license_worker):
    error = (503, {}, b"busy")
    with Receiver(scripted(error, error, error), keep_alive=True) as merchant, running(worker=license_worker):
        configure(client, service, merchant.url)
        buy(service)
        wait_until(lambda: len(merchant.snapshot()) >= 2, timeout=10, what="a first retry")
        time.sleep(0.05)  # its answer written; the next retry is 0.2 s away
        merchant.drop_connections()  # the service closes the kept connection: the next call opens another
        done = settled(service)
    calls = merchant.snapshot()
    assert len(calls) == 4 and done.status == "delivered"
    peers = [c.peer for c in calls]
    assert peers[0] == peers[1] and peers[-2] == peers[-1] and peers[0] != peers[-1]


def test_a_too_long_answer_does_not_poison_the_next_call():
    from tillkey.fulfillment.adapters.license_service import MAX_ANSWER_BYTES, LicenseServiceClient

    answers = iter([b"[" * (MAX_ANSWER_BYTES + 500_000), b'{"licenses": ["K"]}'])
    guarded = LicenseServiceClient(timeout=2.0, allow_private=True)
    with Receiver(lambda req: (200, {}, next(answers)), keep_alive=True) as merchant:
        first = guarded.call(merchant.url, "{}", {})
        second = guarded.call(merchant.url, "{}", {})
    guarded.close()
    assert first.status == 200 and len(first.body) == MAX_ANSWER_BYTES
    assert (second.status, second.body) == (200, b'{"licenses": ["K"]}')
