"""The order aggregate's payment rules, pure: attempts, supersede, at most one charge, refunds."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from tillkey.payments.domain import bank_transfer
from tillkey.payments.domain.errors import Conflict, InvalidTransition
from tillkey.payments.domain.failures import DEFAULT_MESSAGE, customer_message
from tillkey.payments.domain.model import Order, Payment

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_ids = count(1)


def order(status="not_paid", amount=8820) -> Order:
    return Order("ord_1", "mer_1", "EUR", amount, status, "card", T0)


def attempt(o: Order, method="card", status=None) -> Payment:
    status = status or ("pending" if method == "card" else "awaiting_funds")
    p = Payment(f"pay_{next(_ids)}", o.order_id, method, status, o.amount, o.currency, T0, T0,
                gateway="sandbox" if method == "card" else None, gateway_token="tok_1" if method == "card" else None)
    o.start_payment(p, T0)
    return p


def refund_ids():
    return (f"re_{n}" for n in count(1))


def test_a_new_attempt_supersedes_every_open_one_but_not_final_ones():
    o = order()
    failed = attempt(o)
    failed.fail("card_declined", "Declined", T0)
    bank = attempt(o, "bank_transfer")
    card = attempt(o)
    assert [p.status for p in o.payments] == ["failed", "superseded", "pending"]
    assert bank.status == "superseded" and card.is_open and o.open_payments == [card]


@pytest.mark.parametrize("status", ["paid", "canceled", "deleted", "refunded"])
def test_only_an_unpaid_order_takes_attempts(status):
    o = order(status)
    with pytest.raises(Conflict) as exc:
        attempt(o)
    assert exc.value.code == f"order_{status}" and o.payments == []


def test_the_first_success_pays_the_order_and_closes_the_other_open_attempts():
    o = order()
    card = attempt(o)
    bank = attempt(o, "bank_transfer")  # the card attempt is superseded while its charge is in flight
    result = o.accept_charge(card, "ch_1", "re_1", T0)
    assert result.accepted and result.refund is None
    assert (card.status, card.charge_id, card.gateway_token) == ("succeeded", "ch_1", None)
    assert bank.status == "superseded" and o.status == "paid"


def test_a_second_success_is_an_extra_charge_refunded_in_full_without_paying_twice():
    o = order()
    first, second = attempt(o), None
    second = attempt(o)
    assert o.accept_charge(second, "ch_2", "re_a", T0).accepted
    extra = o.accept_charge(first, "ch_1", "re_b", T0)
    assert not extra.accepted
    refund = extra.refund
    assert (refund.refund_id, refund.payment_id, refund.charge_id, refund.amount, refund.reason) == (
        "re_b", first.payment_id, "ch_1", 8820, "duplicate_charge")
    assert refund.automatic and refund.awaits_submission and first.status == "superseded"
    assert o.succeeded_payment is second
    # The same news again: nothing new, no second refund.
    again = o.accept_charge(first, "ch_1", "re_c", T0)
    assert not again.accepted and again.refund is None and len(o.refunds) == 1
    assert o.settle_refund(refund, True, T0) and first.status == "refunded"
    assert not o.settle_refund(refund, False, T0) and refund.status == "succeeded"


def test_a_repeated_success_for_the_paying_attempt_changes_nothing():
    o = order()
    card = attempt(o)
    assert o.accept_charge(card, "ch_1", "re_1", T0).accepted
    again = o.accept_charge(card, "ch_1", "re_2", T0)
    assert not again.accepted and again.refund is None and o.refunds == []


@pytest.mark.parametrize("closed", ["canceled", "deleted"])
def test_a_success_after_the_order_was_closed_is_refunded(closed):
    o = order()
    card = attempt(o)
    assert o.close(closed, T0, refund_ids())
    assert card.status == "canceled"
    result = o.accept_charge(card, "ch_1", "re_1", T0)
    assert not result.accepted and result.refund.reason == f"order_{closed}" and o.status == closed


def test_a_success_for_an_attempt_failed_as_unreachable_still_pays_an_unpaid_order():
    o = order()
    card = attempt(o)
    assert card.fail("gateway_unavailable", "unreachable", T0)
    assert o.accept_charge(card, "ch_1", "re_1", T0).accepted
    assert card.status == "succeeded" and card.failure_code is None and o.status == "paid"


def test_failure_counts_only_for_a_pending_attempt():
    o = order()
    superseded = attempt(o)
    current = attempt(o)
    assert not superseded.fail("card_declined", "Declined", T0)
    assert superseded.status == "superseded" and superseded.failure_code == "card_declined"
    assert current.fail("insufficient_funds", "No funds", T0) and current.status == "failed"
    assert not current.fail("card_declined", "again", T0) and current.failure_code == "insufficient_funds"
    assert o.status == "not_paid"


def test_a_bank_transfer_is_confirmed_once_and_only_while_awaiting_funds():
    o = order()
    bank = attempt(o, "bank_transfer")
    o.confirm_offline(bank, T0)
    assert bank.status == "succeeded" and o.status == "paid"
    with pytest.raises(Conflict):
        o.confirm_offline(bank, T0)
    o2 = order()
    old = attempt(o2, "bank_transfer")
    attempt(o2, "bank_transfer")
    with pytest.raises(Conflict):
        o2.confirm_offline(old, T0)


def test_closing_an_order_paid_here_refunds_its_payment_and_follows_orders():
    o = order()
    card = attempt(o)
    o.accept_charge(card, "ch_1", "re_x", T0)
    assert o.close("canceled", T0, refund_ids())
    [refund] = o.refunds
    assert (refund.payment_id, refund.amount, refund.reason, refund.charge_id) == (
        card.payment_id, 8820, "order_canceled", "ch_1")
    assert o.status == "canceled" and not o.close("canceled", T0, refund_ids())
    with pytest.raises(InvalidTransition):
        o.close("deleted", T0, refund_ids())


def test_a_partial_refund_marks_the_payment_partially_refunded():
    o = order()
    card = attempt(o)
    o.accept_charge(card, "ch_1", "re_x", T0)
    o.close("canceled", T0, refund_ids())
    [refund] = o.refunds
    refund.amount = 1000
    o.settle_refund(refund, True, T0)
    assert card.status == "partially_refunded"


def test_bank_references_are_human_friendly_and_varied():
    refs = {bank_transfer.new_reference() for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(r"TK-[2-9A-Z]{4}-[2-9A-Z]{4}", r) for r in refs)
    assert not any(set(r[3:]) & set("01IOLS58B") for r in refs)


def test_instructions_carry_amount_bank_and_due_date():
    account = bank_transfer.BankAccount("Holder", "Bank", "DE00", "BICX", timedelta(days=14))
    i = bank_transfer.instructions(account, 8820, "EUR", "TK-AAAA-BBBB", T0)
    assert i == {"amount": 8820, "currency": "EUR", "reference": "TK-AAAA-BBBB", "account_holder": "Holder",
                 "bank_name": "Bank", "iban": "DE00", "bic": "BICX", "due_date": date(2026, 1, 15).isoformat()}


def test_customer_messages():
    assert "declined" in customer_message("card_declined", "gateway words")
    assert customer_message("something_new", "The gateway's own words.") == "The gateway's own words."
    assert customer_message("something_new") == DEFAULT_MESSAGE


def test_a_reference_is_read_as_typed_off_a_bank_statement():
    from tillkey.payments.domain.bank_transfer import new_reference, normalise_reference
    reference = new_reference()
    assert normalise_reference(reference) == reference
    assert normalise_reference(" " + reference.lower().replace("-", " ") + " ") == reference
    assert normalise_reference(reference.replace("-", "")) == reference
    for bad in ("", "TK", "TK-0000-0000", "AB-2222-2222", "TK-2222-22222", "TK-2222-2222" + " " * 60):
        assert normalise_reference(bad) is None, bad
