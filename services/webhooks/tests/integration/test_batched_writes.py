"""What the worker's hot paths write, and in how many statements (SQLite and PostgreSQL).

Recording a batch of attempts and taking in a batch of events cost a fixed handful of
statements, whatever the batch's size: these tests count them, and check the rows written.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.domain.policy import GONE_REASON, SendResult
from tillkey.webhooks.service_layer import delivering

from .conftest import MERCHANT, add_endpoints, rows

pytestmark = pytest.mark.integration
SCHEDULE = (60.0, 600.0)


def order_events(order_id="ord_3Hq8ZrW2mNp5"):
    return [sample_envelope(t, new_id=True, order_id=order_id)
            for t in ("order.created", "payment.succeeded", "order.delivered")]






def test_recording_a_batch_costs_one_statement_per_table_and_writes_every_row(service, handed):
    add_endpoints(service, "ep_a", "ep_b")
    service.dispatcher.handle_batch(order_events())
    assert len(handed) == 6
    at = service.clock.now()
    results = [SendResult(12, 200, excerpt="ok"), SendResult(30, 500, excerpt="boom"), SendResult(7, None, "timeout")]
    finished = [delivering.Finished(job, results[i % 3], at, 0.5) for i, job in enumerate(handed)]
    with recorded_statements(service.engine) as seen:
        service.handle(delivering.RecordAttempts(finished, SCHEDULE))
    # Endpoints are updated because failures start their failing_since; all rows of a kind in one statement.
    assert counted(seen) == Counter({"SELECT deliveries": 1, "SELECT endpoints": 1, "INSERT attempts": 1,
                                     "UPDATE deliveries": 1, "UPDATE endpoints": 1})
    by_id = {d["delivery_id"]: d for d in rows(service, tables.deliveries, tables.deliveries.c.delivery_id)}
    attempts = {a["delivery_id"]: a for a in rows(service, tables.attempts, tables.attempts.c.attempt_id)}
    assert len(attempts) == 6
    for f in finished:
        delivery, attempt = by_id[f.job.delivery_id], attempts[f.job.delivery_id]
        assert (attempt["response_status"], attempt["duration_ms"], attempt["error"], attempt["manual"]) == (
            f.result.status, f.result.duration_ms, f.result.error, False)
        assert delivery["scheduled_attempts"] == 1 and delivery["lease_expires_at"] is None
        assert delivery["last_attempt_at"] is not None
        if f.result.status == 200:
            assert delivery["status"] == "succeeded" and delivery["next_attempt_at"] is None
        else:
            assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None
    assert all(e["failing_since"] is not None and e["enabled"] for e in rows(service, tables.endpoints))


def test_successes_on_healthy_endpoints_leave_the_endpoints_alone(service, handed):
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(order_events())
    at = service.clock.now()
    with recorded_statements(service.engine) as seen:
        service.handle(delivering.RecordAttempts(
            [delivering.Finished(j, SendResult(5, 204), at, 0.5) for j in handed], SCHEDULE))
    # The endpoint comes with the deliveries, unlocked: a success on an endpoint that is not failing
    # changes nothing on it, so it is neither locked nor written.
    assert counted(seen) == Counter({"SELECT deliveries": 1, "INSERT attempts": 1, "UPDATE deliveries": 1})
    assert {d["status"] for d in rows(service, tables.deliveries)} == {"succeeded"}
    (endpoint,) = rows(service, tables.endpoints)
    assert endpoint["enabled"] and endpoint["failing_since"] is None


def test_a_success_on_a_failing_endpoint_locks_it_and_ends_its_failing_period(service, handed):
    add_endpoints(service, "ep_a", "ep_b")
    service.dispatcher.handle_batch(order_events())
    at = service.clock.now()
    with service.engine.begin() as conn:
        conn.execute(tables.endpoints.update().where(tables.endpoints.c.endpoint_id == "ep_a")
                     .values(failing_since=at - timedelta(days=1)))
    with recorded_statements(service.engine) as seen:
        service.handle(delivering.RecordAttempts(
            [delivering.Finished(j, SendResult(5, 204), at, 0.5) for j in handed], SCHEDULE))
    # ep_a alone is read again under its lock, and written; ep_b (healthy) is left alone.
    assert counted(seen) == Counter({"SELECT deliveries": 1, "SELECT endpoints": 1, "INSERT attempts": 1,
                                     "UPDATE deliveries": 1, "UPDATE endpoints": 1})
    assert {e["endpoint_id"]: e["failing_since"] for e in rows(service, tables.endpoints)} == {
        "ep_a": None, "ep_b": None}
    assert {d["status"] for d in rows(service, tables.deliveries)} == {"succeeded"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_failure_settles_against_the_endpoint_read_again_under_its_lock(service, handed):
    """The endpoint read with the deliveries is not locked: one disabled by someone else right
    after is seen as disabled when the 410 is settled, so it is not disabled (nor announced) twice."""
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(order_events()[:1])
    (job,) = handed
    with service.uow_factory() as uow:
        read_with_deliveries = uow.deliveries.to_settle

        def then_disabled_by_the_merchant(ids):
            found = read_with_deliveries(ids)
            with service.engine.begin() as conn:  # another transaction, committed before the lock is taken
                conn.execute(tables.endpoints.update().values(enabled=False,
                                                              disabled_reason="disabled by the merchant"))
            return found

        uow.deliveries.to_settle = then_disabled_by_the_merchant
        delivering.record_attempts(delivering.RecordAttempts(
            [delivering.Finished(job, SendResult(9, 410), service.clock.now(), 0.5)], SCHEDULE), uow, service.deps)
    (endpoint,) = rows(service, tables.endpoints)
    assert endpoint["enabled"] is False and endpoint["disabled_reason"] == "disabled by the merchant"
    assert rows(service, tables.outbox) == []
    assert [d["status"] for d in rows(service, tables.deliveries)] == ["failed"]


def test_a_claim_reads_due_deliveries_with_their_bodies_and_endpoints_in_one_query(service):
    add_endpoints(service, "ep_a", "ep_b", "ep_c")
    service.dispatcher.handle_batch(order_events())  # no worker connected: they wait for a claim
    with service.uow_factory() as uow:  # ep_b disabled since: its deliveries are abandoned, not sent
        uow.endpoints.by_id("ep_b", lock=True).disable("disabled by the merchant")
        uow.commit()
    lease = timedelta(minutes=1)
    with recorded_statements(service.engine) as seen:
        jobs = service.handle(delivering.ClaimDueDeliveries(10, lease, 2, {"ep_c": 1}))
    # One joined query; one UPDATE of the abandoned deliveries, one of the leased ones.
    assert counted(seen) == Counter({"SELECT deliveries": 1, "UPDATE deliveries": 2})
    # ep_a: its 3 due deliveries, but 2 at most in flight; ep_c: one place left under its cap.
    assert sorted(j.endpoint_id for j in jobs) == ["ep_a", "ep_a", "ep_c"]
    events = {e["event_id"]: e["body"] for e in rows(service, tables.events)}
    assert all(j.body == events[j.event_id] and j.secrets == ("whsec_x",) and j.url.endswith(j.endpoint_id)
               for j in jobs)
    by_id = {d["delivery_id"]: d for d in rows(service, tables.deliveries)}
    assert all(by_id[j.delivery_id]["lease_expires_at"] is not None for j in jobs)
    leased = {i for i, d in by_id.items() if d["lease_expires_at"] is not None}
    assert leased == {j.delivery_id for j in jobs}
    assert sorted(d["status"] for d in by_id.values() if d["endpoint_id"] == "ep_b") == ["failed"] * 3
    assert sorted(d["status"] for d in by_id.values() if d["endpoint_id"] != "ep_b") == ["pending"] * 6
    # Leased ones and endpoints at their cap are skipped by the next claim.
    with recorded_statements(service.engine) as seen:
        again = service.handle(delivering.ClaimDueDeliveries(10, lease, 2, {"ep_a": 2, "ep_c": 2}))
    assert again == [] and counted(seen) == Counter({"SELECT deliveries": 1})


def test_a_410_in_the_middle_of_a_batch_disables_once_and_fails_the_rest(service, handed):
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch(order_events())
    first, second, third = handed  # order.created, payment.succeeded, order.delivered
    at = service.clock.now()
    service.handle(delivering.RecordAttempts([
        delivering.Finished(first, SendResult(9, 500), at, 0.5),     # a retry: pending…
        delivering.Finished(second, SendResult(9, 410), at, 0.5),    # …until this one disables the endpoint
        delivering.Finished(third, SendResult(9, 503), at, 0.5),     # settled after: failed at once
    ], SCHEDULE))
    statuses = {d["delivery_id"]: d["status"] for d in rows(service, tables.deliveries)}
    assert statuses == {first.delivery_id: "failed", second.delivery_id: "failed", third.delivery_id: "failed"}
    (endpoint,) = rows(service, tables.endpoints)
    assert endpoint["enabled"] is False and endpoint["disabled_reason"] == GONE_REASON
    assert [r["routing_key"] for r in rows(service, tables.outbox)] == ["webhook_endpoint.disabled"]
    assert len(rows(service, tables.attempts)) == 3


def test_taking_in_a_batch_costs_one_statement_per_table_and_numbers_the_order_gaplessly(service, handed):
    add_endpoints(service, "ep_a", "ep_b")
    add_endpoints(service, "ep_c", merchant="mer_other")
    other = sample_envelope("order.created", new_id=True, order_id="ord_other", merchant_id="mer_other")
    batch = [*order_events("ord_1"), other, *order_events("ord_2")]
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch(batch)
    # Both merchants' endpoints in one query; the new order records in one INSERT (no UPDATE: their
    # sequences were taken before they were written); events and deliveries one INSERT each.
    assert counted(seen) == Counter({"INSERT inbox": 1, "SELECT order_records": 1,
                                     "SELECT endpoints": 1, "INSERT order_records": 1, "INSERT events": 1,
                                     "INSERT deliveries": 1})
    events = rows(service, tables.events, tables.events.c.order_id, tables.events.c.sequence)
    assert [(e["order_id"], e["sequence"], e["type"]) for e in events] == [
        ("ord_1", 1, "order.created"), ("ord_1", 2, "payment.succeeded"), ("ord_1", 3, "order.delivered"),
        ("ord_2", 1, "order.created"), ("ord_2", 2, "payment.succeeded"), ("ord_2", 3, "order.delivered"),
        ("ord_other", 1, "order.created")]
    assert {r["order_id"]: r["next_sequence"] for r in rows(service, tables.order_records)} == {
        "ord_1": 4, "ord_2": 4, "ord_other": 2}
    deliveries = rows(service, tables.deliveries)
    assert len(deliveries) == 13 and len(handed) == 13
    assert {(d["delivery_id"], d["endpoint_id"], d["event_id"]) for d in deliveries} == {
        (j.delivery_id, j.endpoint_id, j.event_id) for j in handed}
    assert all(d["status"] == "pending" and d["lease_expires_at"] is not None for d in deliveries)
    by_event = {e["event_id"]: e["body"] for e in events}
    assert all(by_event[j.event_id] == j.body for j in handed)  # what is sent is what is stored

    # The next batch of an existing order: one UPDATE of its record, sequences go on without a gap.
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch([sample_envelope(t, new_id=True, order_id="ord_1")
                                         for t in ("payment.refunded", "order.canceled")])
    assert counted(seen)["UPDATE order_records"] == 1 and counted(seen)["INSERT order_records"] == 0
    assert [e["sequence"] for e in rows(service, tables.events, tables.events.c.sequence)
            if e["order_id"] == "ord_1"] == [1, 2, 3, 4, 5]


def test_taking_in_one_message_at_a_time_writes_its_order_record_with_core(service, handed):
    add_endpoints(service, "ep_a")
    created, paid = order_events("ord_1")[:2]
    with recorded_statements(service.engine) as seen:
        service.dispatcher(created)
    # The record read (locked) with one SELECT and inserted with one INSERT at commit, already
    # numbered past order.created (no UPDATE after it).
    assert counted(seen) == Counter({"INSERT inbox": 1, "SELECT order_records": 1,
                                     "SELECT endpoints": 1, "INSERT order_records": 1, "INSERT events": 1,
                                     "INSERT deliveries": 1})
    with recorded_statements(service.engine) as seen:
        service.dispatcher(paid)
        service.dispatcher(paid)  # redelivered: the inbox stops it before the record is read
    assert counted(seen)["SELECT order_records"] == 1 and counted(seen)["UPDATE order_records"] == 1
    assert counted(seen)["INSERT order_records"] == 0 and counted(seen)["INSERT inbox"] == 2
    (record,) = rows(service, tables.order_records)
    assert (record["order_id"], record["merchant_id"], record["next_sequence"]) == ("ord_1", MERCHANT, 3)
    assert [(e["type"], e["sequence"]) for e in rows(service, tables.events, tables.events.c.sequence)] == [
        ("order.created", 1), ("payment.succeeded", 2)]


def test_a_deletion_in_the_same_batch_erases_the_order_created_taken_in_just_before(service, handed):
    add_endpoints(service, "ep_a")
    created = sample_envelope("order.created", new_id=True)
    deleted = sample_envelope("order.deleted", new_id=True)
    service.dispatcher.handle_batch([created, deleted])
    bodies = {e["type"]: e["body"] for e in rows(service, tables.events)}
    assert set(bodies) == {"order.created", "order.deleted"}
    assert "ada@example.com" in created.to_json() and "ada@example.com" not in bodies["order.created"]
    assert "Lovelace" not in bodies["order.created"]


def test_a_batch_mixing_event_types_of_different_orders_locks_their_records_in_one_query(service, handed):
    """The prefetch runs once for the batch, not once per event type: the payment of one order and
    the creation of another are taken in with one SELECT of order records and one of endpoints."""
    add_endpoints(service, "ep_a")
    service.dispatcher.handle_batch([sample_envelope("order.created", new_id=True, order_id="ord_paid")])
    batch = [sample_envelope("payment.succeeded", new_id=True, order_id="ord_paid"),
             sample_envelope("order.created", new_id=True, order_id="ord_new")]
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch(batch)
    assert counted(seen)["SELECT order_records"] == 1 and counted(seen)["SELECT endpoints"] == 1
