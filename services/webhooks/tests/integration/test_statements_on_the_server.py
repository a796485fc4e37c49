"""What the worker's hot paths cost the database server (SQLite and PostgreSQL).

test_batched_writes.py counts the calls a batch makes; an executemany is one call but one
statement per row on the server (psycopg runs each, pipelined). These count what the server runs:
a batch's rows of one table go in one statement, whatever the batch's size.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle

from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import statement_kind
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.domain.model import Delivery, Endpoint
from tillkey.webhooks.domain.policy import SendResult
from tillkey.webhooks.service_layer import delivering

from .conftest import MERCHANT, add_endpoints, rows

pytestmark = pytest.mark.integration
SCHEDULE = (60.0, 600.0)
MESSAGING = ("inbox", "outbox")  # the messaging library's tables, not this service's


@contextmanager
def server_statements(engine) -> Iterator[Counter[str]]:
    """Statements the server runs, by "VERB table": an executemany counts one per row."""
    counts: Counter[str] = Counter()

    def record(_conn, _cursor, statement, parameters, context, _executemany):
        kind = statement_kind(" ".join(statement.split()))
        if kind.partition(" ")[2] and kind.partition(" ")[2] not in MESSAGING:
            many = context is not None and context.execute_style is ExecuteStyle.EXECUTEMANY
            counts[kind] += len(parameters) if many else 1

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", record)







def events_of(*order_ids, types=("order.created",)):
    return [sample_envelope(t, new_id=True, order_id=o) for o in order_ids for t in types]


ORDERS = ("ord_1", "ord_2", "ord_3")


def test_a_batch_of_events_is_one_statement_per_table_on_the_server(service, handed):
    add_endpoints(service, "ep_a", "ep_b")
    with server_statements(service.engine) as created:
        service.dispatcher.handle_batch(events_of(*ORDERS))
    with server_statements(service.engine) as paid:
        service.dispatcher.handle_batch(events_of(*ORDERS, types=("payment.succeeded",)))
    # 3 orders, 2 endpoints: 3 events and 6 deliveries each time; one statement per table (it was
    # one per row: 3 + 6 + 3 on the server for the second batch).
    assert created == Counter({"SELECT order_records": 1, "SELECT endpoints": 1, "INSERT order_records": 1,
                               "INSERT events": 1, "INSERT deliveries": 1})
    assert paid == Counter({"SELECT order_records": 1, "SELECT endpoints": 1, "UPDATE order_records": 1,
                            "INSERT events": 1, "INSERT deliveries": 1})
    assert {r["order_id"]: r["next_sequence"] for r in rows(service, tables.order_records)} == {
        o: 3 for o in ORDERS}
    events = rows(service, tables.events, tables.events.c.order_id, tables.events.c.sequence)
    assert [(e["order_id"], e["sequence"], e["type"]) for e in events] == [
        (o, n, t) for o in ORDERS for n, t in ((1, "order.created"), (2, "payment.succeeded"))]
    assert len(rows(service, tables.deliveries)) == len(handed) == 12


def test_orders_taking_different_counts_of_numbers_in_one_batch_are_numbered_without_a_gap(service, handed):
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(events_of(*ORDERS))
    # ord_1 takes two numbers, ord_2 one, ord_3 none: each record gets its own value.
    service.dispatcher.handle_batch([*events_of("ord_1", types=("payment.succeeded", "order.delivered")),
                                     *events_of("ord_2", types=("payment.succeeded",))])
    service.dispatcher.handle_batch(events_of(*ORDERS, types=("order.canceled",)))
    assert {r["order_id"]: r["next_sequence"] for r in rows(service, tables.order_records)} == {
        "ord_1": 5, "ord_2": 4, "ord_3": 3}
    by_order: dict[str, list[int]] = {}
    for e in rows(service, tables.events, tables.events.c.sequence):
        by_order.setdefault(e["order_id"], []).append(e["sequence"])
    assert by_order == {"ord_1": [1, 2, 3, 4], "ord_2": [1, 2, 3], "ord_3": [1, 2]}


def test_recording_a_burst_of_successes_is_one_statement_per_table_on_the_server(service, handed):
    add_endpoints(service, "ep_a", "ep_b")
    service.dispatcher.handle_batch(events_of(*ORDERS))
    at = service.clock.now()
    finished = [delivering.Finished(j, SendResult(5, 204, excerpt="ok"), at, 0.5) for j in handed]
    with server_statements(service.engine) as seen:
        service.handle(delivering.RecordAttempts(finished, SCHEDULE))
    # 6 attempts, 6 deliveries settled alike: one INSERT and one UPDATE (it was 6 of each).
    assert seen == Counter({"SELECT deliveries": 1, "INSERT attempts": 1, "UPDATE deliveries": 1})
    deliveries = rows(service, tables.deliveries)
    assert len(deliveries) == 6
    assert all((d["status"], d["scheduled_attempts"], d["next_attempt_at"], d["lease_expires_at"],
                d["manual_pending"], d["last_attempt_at"] is not None) == ("succeeded", 1, None, None, False, True)
               for d in deliveries)
    attempts = rows(service, tables.attempts)
    assert sorted(a["delivery_id"] for a in attempts) == sorted(j.delivery_id for j in handed)
    assert all((a["response_status"], a["duration_ms"], a["response_excerpt"], a["manual"]) == (204, 5, "ok", False)
               for a in attempts)


def test_a_burst_settled_differently_still_writes_each_delivery_its_own_values(service, handed):
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(events_of(*ORDERS))
    at = service.clock.now()
    ok, retried, later = handed
    service.handle(delivering.RecordAttempts([
        delivering.Finished(ok, SendResult(5, 200), at, 0.5),
        delivering.Finished(retried, SendResult(5, 500), at, 0.0),
        delivering.Finished(later, SendResult(5, 503), at, 0.9),
    ], SCHEDULE))
    by_id = {d["delivery_id"]: d for d in rows(service, tables.deliveries)}
    assert by_id[ok.delivery_id]["status"] == "succeeded" and by_id[ok.delivery_id]["next_attempt_at"] is None
    # Jitter 0.0 and 0.9: 54 s and 64.8 s after it was recorded (60 s ± 10 %), each its own.
    waits = {i: d["next_attempt_at"] - d["last_attempt_at"] for i, d in by_id.items() if i != ok.delivery_id}
    assert waits == {retried.delivery_id: timedelta(seconds=54), later.delivery_id: timedelta(seconds=64.8)}
    assert {d["status"] for i, d in by_id.items() if i != ok.delivery_id} == {"pending"}


def test_what_the_worker_reads_to_settle_are_plain_objects_outside_the_orm(service, handed):
    """Built from Core rows by the dozen per batch: plain dataclasses (0.5 µs each), not mapped
    instances (26 µs each: SQLAlchemy's instrumented __init__); the ORM maps subclasses."""
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(events_of(*ORDERS))
    with service.uow_factory() as uow:
        settling = uow.deliveries.to_settle([j.delivery_id for j in handed])
        live = uow.endpoints.live(MERCHANT)
        stored = uow.deliveries.get(handed[0].delivery_id)
        assert isinstance(stored, tables.StoredDelivery) and hasattr(stored, "_sa_instance_state")
        assert isinstance(uow.endpoints.by_id("ep_a"), tables.StoredEndpoint)
    assert len(settling) == 3 and [type(e) for e in live] == [Endpoint]
    for delivery, body, endpoint in settling.values():
        assert type(delivery) is Delivery and not hasattr(delivery, "_sa_instance_state")
        assert type(endpoint) is Endpoint and not hasattr(endpoint, "_sa_instance_state")
        assert body.startswith('{"id":"evt_') and endpoint.endpoint_id == "ep_a"


@pytest.mark.parametrize("count", [1, 3, 70])  # 70: more than _OverIds.SIZED, one expanding IN
def test_records_are_locked_and_endpoints_read_by_a_list_of_ids_of_any_length(service, handed, count):
    add_endpoints(service, "ep_a")
    order_ids = [f"ord_{i:03}" for i in range(count)]
    service.dispatcher.handle_batch(events_of(*order_ids))
    service.dispatcher.handle_batch(events_of(*order_ids, types=("payment.succeeded",)))
    with service.uow_factory() as uow:
        uow.order_records.lock({*order_ids, "ord_unknown"})
        assert all(uow.order_records.get(o).next_sequence == 3 for o in order_ids)
        assert uow.order_records.get("ord_unknown") is None
        assert [e.endpoint_id for e in uow.endpoints.live(MERCHANT)] == ["ep_a"]
    at = service.clock.now()
    service.handle(delivering.RecordAttempts(
        [delivering.Finished(j, SendResult(5, 200), at, 0.5) for j in handed], SCHEDULE))
    assert [d["status"] for d in rows(service, tables.deliveries)] == ["succeeded"] * (2 * count)
