"""`make bench`: throughput figures on this machine (not part of `make test`; nothing is timed there).

Prints, for the record in issue notes:
- the outbox relay's publish rate (pipelined confirms) into a quorum queue;
- checkouts per second through the real orders API, and how long until every `order.created`
  reached a merchant's webhook receiver.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import MetaData

from tillkey.contracts import load_sample
from tillkey.messaging import OutboxRelay, SqlAlchemyUnitOfWork, define_outbox
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.testing.messaging import bind_probe, queue_depth
from tillkey.testing.receiver import Receiver

EVENTS = 5000
CHECKOUTS = 200


def test_relay_publish_rate(database_url, amqp_url):
    metadata = MetaData()
    outbox = define_outbox(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    data = load_sample("order.created")["data"]
    for _ in range(EVENTS // 500):
        with SqlAlchemyUnitOfWork(sessions, outbox, "bench") as uow:
            for _ in range(500):
                uow.emit("order.created", data)
            uow.commit()
    probe = bind_probe(amqp_url, "order.created")
    depth = lambda: queue_depth(amqp_url, probe)  # noqa: E731
    relay = OutboxRelay(amqp_url, sessions, outbox, "bench", poll_interval=0.01)
    thread = threading.Thread(target=relay.run, daemon=True)
    started = time.perf_counter()
    thread.start()
    while depth() < EVENTS and time.perf_counter() - started < 120:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    relay.stop()
    thread.join(10)
    assert depth() == EVENTS
    rate = EVENTS / elapsed
    print(f"\n[bench] relay on {engine.dialect.name}: {EVENTS} events in {elapsed:.2f}s = {rate:,.0f} msg/s")


@pytest.mark.e2e
def test_checkout_to_webhook_rate(platform, client):
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    with Receiver() as receiver:
        client.new_endpoint(merchant["api_key"], f"{receiver.url}/hooks", ["order.created"])
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: client.checkout(product["product_id"]), range(CHECKOUTS)))
        api_done = time.perf_counter() - started
        receiver.wait_for(lambda reqs: len(reqs) >= CHECKOUTS, timeout=300)
        total = time.perf_counter() - started
    print(f"\n[bench] {CHECKOUTS} checkouts (cart + checkout, 8 clients): API {CHECKOUTS / api_done:,.1f}/s; "
          f"all order.created webhooks delivered after {total:.1f}s ({CHECKOUTS / total:,.1f} orders/s end to end)")
