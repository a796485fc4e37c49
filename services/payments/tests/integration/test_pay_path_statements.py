"""What the card pay path costs in statements (SQLite and PostgreSQL), with a gateway in process.

Counted per table with a before_cursor_execute listener; rate limits are the library's.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tillkey.payments.adapters import tables
from tillkey.payments.domain.model import Payment
from tillkey.payments.entrypoints.app import create_app
from tillkey.payments.service_layer import gateway_results
from tillkey.payments.service_layer.gateway_port import GatewayCharge, GatewayNotification, GatewayRefund
from tillkey.payments.service_layer.submission import submit_charge
from tillkey.platform import credentials
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements, statement_kind

from .conftest import SECRET

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
URL = f"/v1/orders/{ORDER}/payments"
TOKEN = {"token": credentials.make_order_token(SECRET, ORDER)}


class InProcessGateway:
    """Accepts every charge; reads a notification from plain JSON (no signature to forge)."""

    name = "sandbox"

    def __init__(self):
        self.charged: list[str] = []
        self.refunded: list[str] = []

    def charge(self, payment_id, payment_token, amount, currency, notification_url):
        self.charged.append(payment_id)
        return GatewayCharge("ch_" + payment_id, "pending", amount, currency, payment_id)

    def refund(self, refund_id, charge_id, amount, notification_url):
        self.refunded.append(refund_id)
        return GatewayRefund("gre_" + refund_id, charge_id, "pending", amount, "EUR", refund_id)

    def parse_notification(self, headers, body):
        d = json.loads(body)
        return GatewayNotification(d["id"], d["type"], "2026-01-01T00:00:00.000Z", "ch_" + d["ref"], d["ref"],
                                   8820, "EUR", d["type"].split(".")[1], failure_code=d.get("code"))


@pytest.fixture
def gateway():
    return InProcessGateway()


@pytest.fixture
def app(settings, gateway):
    app = create_app(settings, gateways={"sandbox": gateway})
    yield app
    app.extensions["tillkey.payments"].dispatcher.join()
    app.extensions["tillkey.payments"].engine.dispose()


@pytest.fixture
def order(service):
    service.dispatcher(sample_envelope("order.created"))
    return ORDER


def counts(seen) -> Counter:
    """Per "VERB table", of this service's own tables but the library's rate limits."""
    return counted(seen, tables=tables.metadata.tables, excluding=("rate_limits",))


def locked_order(service) -> dict[str, int]:
    """Locking an order with its payments: one statement on SQLite (the payments joined: its
    transaction holds the write lock from BEGIN), two on PostgreSQL (read after the row lock)."""
    if service.engine.dialect.name == "sqlite":
        return {"SELECT orders": 1}
    return {"SELECT orders": 1, "SELECT payments": 1}


def noted_order(service) -> dict[str, int]:
    """Locking the order a gateway's notification names, with its payments, and recording the
    notification: two statements on both databases. SQLite: the lock with the payments joined, then
    the INSERT. PostgreSQL: the lock, then the INSERT riding on the payments' read (a WITH): that
    read starts after the lock was granted, so it is not from before its wait."""
    if service.engine.dialect.name == "sqlite":
        return {"SELECT orders": 1, "INSERT gateway_notifications": 1}
    return {"SELECT orders": 1, "WITH gateway_notifications": 1}


def order_written_with(service, row_write: str) -> dict[str, int]:
    """A locked order's UPDATE and a single payment's or refund's write (`row_write`, like "UPDATE
    payments") at commit: two statements on SQLite; one on PostgreSQL, the order's riding on the
    row's as a WITH (counted by its first table: "WITH orders")."""
    if service.engine.dialect.name == "sqlite":
        return {"UPDATE orders": 1, row_write: 1}
    return {"WITH orders": 1}


def pay_by_card(client, headers=None):
    resp = client.post(URL, query_string=TOKEN, json={"method": "card", "payment_token": "tok_x"},
                       headers=headers or {})
    assert resp.status_code == 201, resp.text
    return resp.get_json()


def payment_row(service, payment_id):
    with service.session_factory() as s:
        return s.execute(select(tables.payments).where(tables.payments.c.payment_id == payment_id)).one()


def notify(service, payment_id, type_="charge.succeeded", notification_id=None, **extra):
    body = json.dumps({"id": notification_id or "ntf_" + payment_id + type_, "type": type_, "ref": payment_id,
                       **extra}).encode()
    return service.handle(gateway_results.ApplyGatewayNotification("sandbox", {}, body))


def test_a_card_attempt_reads_its_order_once_and_answers_from_what_it_wrote(client, service, gateway, order):
    with recorded_statements(service.engine) as seen:
        started = pay_by_card(client)
    # The order locked with its payments; no re-read before the gateway call nor for the answer.
    assert counts(seen) == {**locked_order(service), "INSERT payments": 1, "UPDATE payments": 1}
    assert gateway.charged == [started["payment_id"]]
    assert (started["status"], started["refunds"], started["failure"]) == ("pending", [], None)
    row = payment_row(service, started["payment_id"])
    assert (row.charge_id, row.gateway_token) == ("ch_" + started["payment_id"], None)
    listed = client.get(URL, query_string=TOKEN).get_json()["data"]
    assert listed == [started]  # the answer is what a read shows


def test_a_second_attempt_supersedes_the_first_without_reading_refunds(client, service, order):
    first = pay_by_card(client)
    with recorded_statements(service.engine) as seen:
        pay_by_card(client)
    assert counts(seen) == {**locked_order(service), "INSERT payments": 1, "UPDATE payments": 2}
    assert payment_row(service, first["payment_id"]).status == "superseded"


def test_a_keyed_card_attempt_goes_to_the_gateway_after_the_commit_and_answers_pending(client, service, gateway,
                                                                                        order):
    key = {"Idempotency-Key": "card-once"}
    first = pay_by_card(client, key)
    again = pay_by_card(client, key)
    assert again == first and first["status"] == "pending" and first["refunds"] == []
    assert gateway.charged == [first["payment_id"]]
    assert payment_row(service, first["payment_id"]).charge_id == "ch_" + first["payment_id"]


def test_an_attempt_the_sweeper_may_have_taken_is_read_again_before_it_is_sent(client, service, gateway, order):
    started = pay_by_card(client)
    with service.uow_factory() as uow:
        written = replace(uow.payments.get(started["payment_id"]), gateway_token="tok_x", charge_id=None)
    # Already acknowledged (by the sweeper, say): the copy in hand is too old to be trusted.
    old = replace(written, updated_at=written.updated_at - service.deps.resubmit_after / 2 - timedelta(seconds=1))
    with recorded_statements(service.engine) as seen:
        assert submit_charge(started["payment_id"], service.deps, fail_if_unreachable=True, written=old) is None
    assert counts(seen) == {"SELECT payments": 1} and gateway.charged == [started["payment_id"]]


def test_a_successful_charge_notification_reads_no_refunds(client, service, order):
    started = pay_by_card(client)
    with recorded_statements(service.engine) as seen:
        assert notify(service, started["payment_id"]) == "applied"
    # The attempt is open, so it has no automatic refund: the order's refunds are not read.
    assert counts(seen) == {**noted_order(service), "INSERT outbox": 1,
                            **order_written_with(service, "UPDATE payments")}
    assert payment_row(service, started["payment_id"]).status == "succeeded"
    with recorded_statements(service.engine) as seen:
        assert notify(service, started["payment_id"]) == "duplicate"
    assert counts(seen) == noted_order(service)  # recorded before: nothing else written
    assert [n.notification_id for n in rows_of(service, tables.gateway_notifications)] == [
        "ntf_" + started["payment_id"] + "charge.succeeded"]


def test_a_failed_charge_notification_reads_no_refunds(client, service, order):
    started = pay_by_card(client)
    with recorded_statements(service.engine) as seen:
        assert notify(service, started["payment_id"], "charge.failed", code="card_declined") == "applied"
    assert counts(seen) == {**noted_order(service), "INSERT outbox": 1, "UPDATE payments": 1}
    assert payment_row(service, started["payment_id"]).status == "failed"


def test_a_notification_for_an_unknown_payment_is_ignored_after_one_read(service, order):
    with recorded_statements(service.engine) as seen:
        assert notify(service, "pay_unknown") == "ignored"
    assert counts(seen) == {"SELECT orders": 1}


def test_an_extra_charge_reads_the_refunds_it_adds_to_and_is_refunded_once(client, service, gateway, order):
    first = pay_by_card(client)
    second = pay_by_card(client)  # supersedes the first, whose charge was already accepted
    assert notify(service, second["payment_id"]) == "applied"
    with recorded_statements(service.engine) as seen:
        assert notify(service, first["payment_id"]) == "applied"  # the customer was charged twice
    # The refunds read once under the order's lock (the new one is added to them), twice more by
    # sending the refund after the commit (submission.submit_refund).
    assert counts(seen)["SELECT refunds"] == 3 and counts(seen)["INSERT refunds"] == 1
    [refund] = rows_of(service, tables.refunds)
    assert (refund.payment_id, refund.automatic, refund.reason) == (first["payment_id"], True, "duplicate_charge")
    assert gateway.refunded == [refund.refund_id]
    # The same success again under another notification id: the attempt is no longer open, so its
    # refunds are read, and the extra charge is not refunded a second time.
    with recorded_statements(service.engine) as seen:
        assert notify(service, first["payment_id"], notification_id="ntf_again") == "applied"
    assert counts(seen)["SELECT refunds"] == 1 and "INSERT refunds" not in counts(seen)
    assert len(rows_of(service, tables.refunds)) == 1 and gateway.refunded == [refund.refund_id]
    assert payment_row(service, second["payment_id"]).status == "succeeded"


def test_recording_a_charge_accepted_is_one_statement_built_once(client, service, order):
    started = pay_by_card(client)
    with service.uow_factory() as uow:
        uow.payments.session.connection().execute(tables.payments.update().where(
            tables.payments.c.payment_id == started["payment_id"]).values(charge_id=None, gateway_token="tok_y"))
        uow.commit()
    texts = []
    for charge_id in ("ch_a", "ch_b"):  # the second finds the first one's: it stays
        with service.uow_factory() as uow, recorded_statements(service.engine) as seen:
            assert uow.payments.record_charge_accepted(started["payment_id"], charge_id) == "pending"
            uow.commit()
        assert counts(seen) == {"UPDATE payments": 1}
        texts += [t for t in seen if t.startswith("UPDATE")]
    assert texts[0] == texts[1]
    row = payment_row(service, started["payment_id"])
    assert (row.charge_id, row.gateway_token) == ("ch_a", None)
    with service.uow_factory() as uow:
        assert uow.payments.record_charge_accepted("pay_unknown", "ch_c") is None


def rows_of(service, table):
    with service.session_factory() as s:
        return s.execute(select(table)).all()


def test_on_sqlite_the_order_is_locked_with_its_payments_in_one_statement(client, service, order):
    first, second = pay_by_card(client), pay_by_card(client)
    with service.uow_factory() as uow, recorded_statements(service.engine) as seen:
        locked = uow.orders.of_payment(second["payment_id"], with_refunds=False)
        assert [p.payment_id for p in locked.payments] == [first["payment_id"], second["payment_id"]]
        assert [p.status for p in locked.payments] == ["superseded", "pending"]
        locked.payments[1].fail("card_declined", "Declined.", locked.payments[1].created_at)
        uow.commit()
    assert counts(seen) == {**locked_order(service), "UPDATE payments": 1}
    lock = next(text for text in seen if statement_kind(text) == "SELECT orders")
    if service.engine.dialect.name == "sqlite":
        assert "LEFT OUTER JOIN payments AS order_payments" in lock
    else:  # read after the lock, never joined to it: its joined rows would be from before its wait
        assert "order_payments" not in lock and lock.endswith("FOR UPDATE OF orders")
    assert payment_row(service, second["payment_id"]).status == "failed"
    with service.uow_factory() as uow:  # an order with no payment yet: a row of NULLs, no payment
        uow.orders.add_unless_known(replace(locked, order_id="ord_none", payments=[], refunds=[]))
        assert uow.orders.get("ord_none", lock=True).payments == []
        uow.commit()


def test_a_notification_that_waited_for_the_order_lock_reads_what_its_holder_committed(client, service, order):
    """The payments a notification decides on are read after the order's lock was granted: one that
    waited while another transaction started a second attempt sees that attempt (and the first one
    superseded), never the payments from before its wait."""
    first = pay_by_card(client)
    outcome: list[str] = []
    with service.uow_factory() as uow:
        locked = uow.orders.get(ORDER, lock=True, with_refunds=False)
        now = service.deps.clock.now()
        locked.start_payment(Payment(payment_id="pay_second", order_id=ORDER, method="card", status="pending",
                                     amount=locked.amount, currency=locked.currency, created_at=now,
                                     updated_at=now, gateway="sandbox", gateway_token="tok_y"), now)
        waiting = threading.Thread(target=lambda: outcome.append(notify(service, first["payment_id"])))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and outcome == []  # waiting for the order's lock
        uow.commit()
    waiting.join(10)
    assert outcome == ["applied"]
    # The first attempt's charge pays the order though it was superseded meanwhile, and the second,
    # seen under the lock, is superseded in turn (from before the wait it would still be pending).
    assert payment_row(service, first["payment_id"]).status == "succeeded"
    assert payment_row(service, "pay_second").status == "superseded"
    with service.session_factory() as s:
        assert s.execute(select(tables.orders.c.status)).scalar_one() == "paid"
