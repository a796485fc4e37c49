"""Use cases over a fake unit of work: starting each line by its source, recording web-service calls."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tillkey.contracts import load_sample
from tillkey.fulfillment.domain.license_calls import CallResult
from tillkey.fulfillment.domain.sources import LicenseSource, Pool
from tillkey.fulfillment.service_layer import handlers, web_service
from tillkey.messaging import RetryLater
from tillkey.platform.clock import FixedClock
from tillkey.testing.messaging import sample_envelope

from .conftest import FakeFulfillmentUow, make_deps

ORDER = load_sample("order.created")["data"]["order_id"]
PRODUCT = load_sample("order.created")["data"]["lines"][0]["product_id"]
LINE = load_sample("order.created")["data"]["lines"][0]["line_id"]
SCHEDULE = (10.0, 60.0)


def paid_order(uow, source: LicenseSource | None = None, deps=None):
    deps = deps or make_deps()
    if source is not None:
        uow.sources.add(source)
    handlers.remember_order(sample_envelope("order.created"), uow, deps)
    handlers.start_fulfillment(sample_envelope("order.paid"), uow, deps)
    return uow.orders[ORDER].deliveries[0]


def record(uow, deps, call, result):
    web_service.record(web_service.RecordCall(call, result, SCHEDULE, 0.5), uow, deps)


def src(method, **kw):
    return LicenseSource(PRODUCT, "mer_7Yb2kQ9xTz", method, datetime(2026, 1, 1, tzinfo=UTC), **kw)


def test_a_payment_for_an_unknown_order_is_retried_later():
    with pytest.raises(RetryLater):
        handlers.start_fulfillment(sample_envelope("order.paid"), FakeFulfillmentUow(), make_deps())


def test_no_source_asks_the_merchant():
    uow = FakeFulfillmentUow()
    line = paid_order(uow)
    assert (line.status, line.method) == ("awaiting_merchant", "manual")
    assert uow.emitted_types() == ["license.requested"] and uow.orders[ORDER].status == "paid"


def test_email_delivers_the_text():
    uow = FakeFulfillmentUow()
    line = paid_order(uow, src("email", text="See you"))
    assert (line.status, line.method, line.licenses) == ("delivered", "email", [])
    assert uow.emitted[0].data["text"] == "See you"


def test_pool_delivers_whole_lines_and_sounds_the_alarm():
    uow = FakeFulfillmentUow()
    uow.pools.add(Pool(PRODUCT, "mer_7Yb2kQ9xTz", low_stock_threshold=2))
    uow.pools.fill(PRODUCT, "A", "B", "C")
    line = paid_order(uow, src("pool"))
    assert (line.status, line.licenses) == ("delivered", ["A", "B"])
    assert uow.emitted_types() == ["product.delivered", "license_pool.low"]
    assert uow.emitted[1].data == {"merchant_id": "mer_7Yb2kQ9xTz", "product_id": PRODUCT, "available": 1,
                                   "low_stock_threshold": 2}


def test_a_pool_short_of_the_quantity_takes_nothing():
    uow = FakeFulfillmentUow()
    uow.pools.add(Pool(PRODUCT, "mer_7Yb2kQ9xTz", low_stock_threshold=0))
    uow.pools.fill(PRODUCT, "A")
    line = paid_order(uow, src("pool"))
    assert (line.status, line.fallback_from, line.reason) == (
        "awaiting_merchant", "pool", "license pool has 1 license(s) left; the line needs 2")
    assert uow.pools.counts(PRODUCT) == (1, 0)


def test_a_web_service_line_waits_for_the_worker_without_events():
    uow, deps = FakeFulfillmentUow(), make_deps()
    line = paid_order(uow, src("web_service", url="https://x.example/", secret="whsec_" + "A" * 40), deps)
    assert line.calling_web_service and line.next_attempt_at == deps.clock.now() and uow.emitted == []
    assert uow.calls_scheduled == 1  # the call worker is woken for it


def test_lines_of_other_sources_schedule_no_call():
    uow = FakeFulfillmentUow()
    paid_order(uow, src("email", text="See you"))
    assert uow.calls_scheduled == 0


# -- recording calls -----------------------------------------------------------------------------------
@pytest.fixture
def calling():
    uow, deps = FakeFulfillmentUow(), make_deps(FixedClock(datetime(2026, 11, 27, 10, tzinfo=UTC)))
    line = paid_order(uow, src("web_service", url="https://x.example/", secret="whsec_" + "A" * 40), deps)
    call = web_service.Call(LINE, "https://x.example/", "whsec_" + "A" * 40, "{}")
    return uow, deps, line, call


def test_a_good_answer_delivers(calling):
    uow, deps, line, call = calling
    record(uow, deps, call, CallResult(status=200, body=b'{"licenses": ["A", "B"]}'))
    assert (line.status, line.method, line.licenses) == ("delivered", "web_service", ["A", "B"])
    assert uow.emitted_types() == ["product.delivered"] and uow.commits == 1


def test_failures_follow_the_schedule_then_fall_back(calling):
    uow, deps, line, call = calling
    now = deps.clock.now()
    record(uow, deps, call, CallResult(status=502))
    assert (line.status, line.attempts, line.next_attempt_at) == ("pending", 1, now + timedelta(seconds=10))
    record(uow, deps, call, CallResult(error="timed out after 10s"))
    assert (line.attempts, line.next_attempt_at) == (2, now + timedelta(seconds=60))
    record(uow, deps, call, CallResult(status=500))
    assert (line.status, line.method, line.fallback_from) == ("awaiting_merchant", "manual", "web_service")
    assert line.reason == "license web service answered 500; gave up after 3 attempts"
    assert uow.emitted_types() == ["license.requested"]


def test_a_4xx_falls_back_at_once(calling):
    uow, deps, line, call = calling
    record(uow, deps, call, CallResult(status=403, body=b"forbidden"))
    assert (line.status, line.reason) == ("awaiting_merchant", "license web service answered 403: forbidden")


def test_an_answer_for_a_line_settled_meanwhile_is_dropped(calling):
    uow, deps, line, call = calling
    line.deliver("manual", ["BY-HAND", "TOO"], deps.clock.now())
    record(uow, deps, call, CallResult(status=200, body=b'{"licenses": ["A", "B"]}'))
    assert line.licenses == ["BY-HAND", "TOO"] and uow.emitted == []


def test_the_request_body_is_the_spec_one(calling):
    uow, _deps, line, _call = calling
    assert web_service.request_body(uow.orders[ORDER], line) == (
        '{"order_id":"ord_3Hq8ZrW2mNp5","line_id":"line_9Kd2PqX7aB","product_id":"prod_5Tg7LmN2cV","quantity":2,'
        '"customer":{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","country":"GB"}}')
