"""The worker's sweeper resumes what a crash left between our commit and the gateway call."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tillkey.payments.adapters import tables
from tillkey.payments.adapters.sweeper import GatewaySweeper
from tillkey.payments.domain.model import Payment
from tillkey.payments.service_layer.submission import resume_interrupted
from tillkey.platform.ids import new_id
from tillkey.testing.messaging import running, sample_envelope

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"


def committed_but_never_sent(shop, token: str, age: timedelta) -> str:
    """What the API leaves when its process dies right after committing a card attempt."""
    payment_id = new_id("pay")  # unique: the sandbox (shared by the tests) remembers idempotency keys
    with shop.service.uow_factory() as uow:
        order = uow.orders.get(ORDER)
        at = shop.service.deps.clock.now() - age
        order.start_payment(Payment(payment_id, ORDER, "card", "pending", 8820, "EUR", at, at,
                                    gateway="sandbox", gateway_token=token), at)
        uow.commit()
    return payment_id


def test_an_interrupted_card_attempt_is_sent_again_and_pays(shop):
    shop.service.dispatcher(sample_envelope("order.created"))
    fresh = committed_but_never_sent(shop, shop.card_token(), timedelta(seconds=1))
    assert resume_interrupted(shop.service.deps) == 0  # too young: the API may still be sending it
    with shop.service.uow_factory() as uow:
        uow.payments.get(fresh).updated_at -= timedelta(minutes=5)
        uow.commit()
    sweeper = GatewaySweeper(shop.service.deps, interval=0.2)
    with running(sweeper=sweeper):
        shop.wait_status(ORDER, fresh, "succeeded")
    assert shop.order_status(ORDER) == "paid" and len(shop.events("payment.succeeded")) == 1
    # Sweeping again sends nothing: the gateway acknowledged it.
    assert resume_interrupted(shop.service.deps) == 0


def test_an_interrupted_attempt_is_given_up_when_the_gateway_stays_down(make_shop):
    from tillkey.devtools.launcher import free_port

    down = make_shop(gateway_url=f"http://127.0.0.1:{free_port()}")
    down.service.dispatcher(sample_envelope("order.created"))
    young = committed_but_never_sent(down, "tok_whatever", timedelta(minutes=1))
    assert resume_interrupted(down.service.deps) == 1
    assert down.payment(ORDER, young)["status"] == "pending"  # unreachable, but not for long yet: keep trying
    with down.service.uow_factory() as uow:
        p = uow.payments.get(young)
        p.created_at -= timedelta(hours=1)
        uow.commit()
    resume_interrupted(down.service.deps)
    failed = down.payment(ORDER, young)
    assert failed["status"] == "failed" and failed["failure"]["code"] == "gateway_unavailable"


def test_a_paid_order_that_orders_canceled_is_refunded_at_once(shop):
    """docs/cancel-vs-pay.md: the refund goes to the gateway right after order.canceled committed
    (the follow-up), not on the sweeper's pass PAYMENTS_GATEWAY_RESUBMIT_AFTER later."""
    shop.service.dispatcher(sample_envelope("order.created"))
    paid = shop.pay_by_card(ORDER)
    shop.wait_status(ORDER, paid["payment_id"], "succeeded")
    shop.service.dispatcher(sample_envelope("order.canceled"))  # orders had not seen our success yet
    shop.service.dispatcher.join()
    [refund] = shop.rows(tables.refunds)
    assert refund.reason == "order_canceled" and refund.gateway_refund_id is not None
    assert resume_interrupted(shop.service.deps) == 0, "nothing left for the sweeper"
    shop.wait_status(ORDER, paid["payment_id"], "refunded")
    assert shop.order_status(ORDER) == "canceled"


def test_a_requested_refund_a_crash_kept_from_the_gateway_is_sent_by_the_sweeper(shop):
    shop.service.dispatcher(sample_envelope("order.created"))
    paid = shop.pay_by_card(ORDER)
    shop.wait_status(ORDER, paid["payment_id"], "succeeded")
    refund_id = new_id("re")
    # The inbox dispatcher alone: the refund row commits, then the worker dies before sending it.
    shop.service.dispatcher.dispatcher(sample_envelope("refund.requested", refund_id=refund_id, amount=8820))
    [refund] = shop.rows(tables.refunds)
    assert (refund.status, refund.gateway_refund_id) == ("pending", None)
    with shop.service.uow_factory() as uow:
        uow.refunds.get(refund_id).updated_at -= timedelta(minutes=5)
        uow.commit()
    with running(sweeper=GatewaySweeper(shop.service.deps, interval=0.2)):
        shop.wait_status(ORDER, paid["payment_id"], "refunded")
    [event] = shop.events("payment.refunded")
    assert event["data"]["refund_id"] == refund_id and event["data"]["order_status"] == "refunded"
