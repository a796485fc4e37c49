"""What the payment use cases need from the outside, wired once in bootstrap."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from tillkey.payments.domain.bank_transfer import BankAccount
from tillkey.payments.domain.model import Order, Payment
from tillkey.payments.domain.refunds import Refund, failure_message
from tillkey.payments.service_layer.gateway_port import CardGateway
from tillkey.platform.clock import Clock, SystemClock


@dataclass(frozen=True)
class PaymentDeps:
    uow_factory: Callable
    gateways: Mapping[str, CardGateway]
    card_gateway: str             # the gateway that takes new card payments
    bank_account: BankAccount
    public_url: str               # PAYMENTS_PUBLIC_URL: where gateways post their notifications
    resubmit_after: timedelta = timedelta(seconds=30)
    give_up_after: timedelta = timedelta(minutes=15)
    clock: Clock = field(default_factory=SystemClock)  # the units of work's

    def notification_url(self, gateway: str) -> str:
        return f"{self.public_url.rstrip('/')}/v1/gateways/{gateway}/notifications"

    def gateway(self, name: str | None) -> CardGateway:
        return self.gateways[name or self.card_gateway]

    def read_detached(self, kind: str, id: str):
        """A payment or refund (`kind` names the unit of work's lookup) read in its own unit of work
        and detached from it, for the HTTP edge to dump after the unit of work ended."""
        with self.uow_factory() as uow:
            obj = getattr(uow, kind)(id)
            uow.session.expunge(obj)
            return obj


def succeeded_data(order: Order, payment: Payment) -> dict:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "amount": payment.amount, "currency": payment.currency}


def failed_data(order: Order, payment: Payment) -> dict:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "failure": {"code": payment.failure_code, "message": payment.failure_message}}


def pending_data(order: Order, payment: Payment) -> dict:
    return {"order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "instructions": payment.instructions}


def announce_refund(order: Order, refund: Refund, uow) -> None:
    """Tell orders (and through webhooks the merchant) how a requested refund ended. Automatic
    refunds and undecided ones say nothing."""
    if refund.automatic or refund.status == "pending":
        return
    if refund.status == "succeeded":
        payment = next(p for p in order.payments if p.payment_id == refund.payment_id)
        uow.emit("payment.refunded", {
            "order_id": order.order_id, "merchant_id": order.merchant_id, "payment_id": payment.payment_id,
            "method": payment.method, "refund_id": refund.refund_id, "amount": refund.amount,
            "currency": refund.currency, "order_status": "refunded" if order.fully_refunded else "paid"})
    else:
        uow.emit("refund.failed", {
            "order_id": order.order_id, "merchant_id": order.merchant_id, "refund_id": refund.refund_id,
            "amount": refund.amount, "failure": {"code": refund.failure_code,
                                                 "message": refund.failure_message or failure_message("")}})
