"""One handler per email-causing event: find the recipient, build the context, queue the email.

An event about an order or merchant not known here yet raises RetryLater (its order.created or
merchant.registered may still be on its way); it is never dropped. Cause keys name the business
reason, so two events about the same thing (a payment confirmed twice) still send one email.
"""
from __future__ import annotations

from typing import Any

from tillkey.contracts import Envelope
from tillkey.messaging import RetryLater
from tillkey.notifications.domain.language import language_of, method_label
from tillkey.notifications.domain.messages import cause_key
from tillkey.notifications.domain.model import MerchantContact, OrderRecipient
from tillkey.notifications.service_layer.composing import to_customer, to_merchant
from tillkey.notifications.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.formatting import format_date, format_money


def _recipient(uow: UnitOfWork, order_id: str) -> OrderRecipient:
    recipient = uow.recipients.get(order_id)
    if recipient is None:
        raise RetryLater(f"order {order_id} is not known here yet")
    return recipient


def _merchant(uow: UnitOfWork, merchant_id: str) -> MerchantContact:
    merchant = uow.merchants.get(merchant_id)
    if merchant is None:
        raise RetryLater(f"merchant {merchant_id} is not known here yet")
    return merchant


def _recipient_and_product_name(uow: UnitOfWork, d: dict[str, Any]) -> tuple[OrderRecipient, str]:
    """The order's recipient, and the name the customer bought the line under (its order line),
    else the product's current name: one read for both (RecipientRepository.get_with_line).

    Lines arrive with order.created, so once the order is known a missing line will never come:
    waiting would only dead-letter the email; the product id still identifies it.
    """
    recipient, line_name = uow.recipients.get_with_line(d["order_id"], d["line_id"])
    if recipient is None:
        raise RetryLater(f"order {d['order_id']} is not known here yet")
    if line_name is not None:
        return recipient, line_name
    product = uow.products.get(d["product_id"])
    return recipient, product.name if product else d["product_id"]


def payment_instructions(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "payment_instructions"
    recipient = _recipient(uow, d["order_id"])
    lang = language_of(recipient.locale)
    i = d["instructions"]
    amount = format_money(i["amount"], i["currency"], lang) if "amount" in i and "currency" in i else None
    context = {"amount": amount, "reference": i.get("reference"), "account_holder": i.get("account_holder"),
               "bank_name": i.get("bank_name"), "iban": i.get("iban"), "bic": i.get("bic"),
               "due_date": format_date(i.get("due_date"), lang) or None}
    to_customer(uow, deps, recipient, template, cause_key(template, d["payment_id"]), context)


def payment_confirmation(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "payment_confirmation"
    recipient = _recipient(uow, d["order_id"])
    lang = language_of(recipient.locale)
    context = {"amount": format_money(d["amount"], d["currency"], lang), "method": method_label(d["method"], lang)}
    to_customer(uow, deps, recipient, template, cause_key(template, d["payment_id"]), context)


def license_delivery(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "license_delivery"
    recipient, product_name = _recipient_and_product_name(uow, d)
    context = {"product_name": product_name, "quantity": d["quantity"], "licenses": list(d["licenses"]),
               "text": d.get("text")}
    to_customer(uow, deps, recipient, template, cause_key(template, d["order_id"], d["line_id"]), context)


def license_resend(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    """One email with every delivered line's licenses (or text): what a customer who lost the
    first emails wants, rather than one email per line all over again."""
    d, template = event.data, "license_resend"
    recipient = _recipient(uow, d["order_id"])
    lines = [{"name": line["name"], "licenses": list(line["licenses"]), "text": line.get("text")}
             for line in d["lines"]]
    context = {"lines": lines, "license_count": sum(len(line["licenses"]) for line in lines)}
    # Each request (the customer's button, support) is its own cause, so asking twice sends twice;
    # the event id is that cause, so the broker redelivering one request still sends once.
    to_customer(uow, deps, recipient, template, cause_key(template, event.id), context)


def payment_reminder(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "payment_reminder"
    recipient = _recipient(uow, d["order_id"])
    context = {"amount": format_money(d["total"], d["currency"], language_of(recipient.locale))}
    to_customer(uow, deps, recipient, template, cause_key(template, d["order_id"]), context)


def refund_confirmation(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "refund_confirmation"
    recipient = _recipient(uow, d["order_id"])
    context = {"amount": format_money(d["amount"], d["currency"], language_of(recipient.locale)),
               "full_refund": d["order_status"] == "refunded"}
    to_customer(uow, deps, recipient, template, cause_key(template, d["refund_id"]), context)


def license_request(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "license_request"
    merchant = _merchant(uow, d["merchant_id"])
    _, product_name = _recipient_and_product_name(uow, d)  # the order must be known: the email names its product
    context = {"product_name": product_name, "product_id": d["product_id"], "line_id": d["line_id"],
               "quantity": d["quantity"], "reason": d["reason"]}
    to_merchant(uow, deps, merchant, template, cause_key(template, d["order_id"], d["line_id"]), context,
                         order_id=d["order_id"])


def license_pool_low(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "license_pool_low"
    merchant = _merchant(uow, d["merchant_id"])
    product = uow.products.get(d["product_id"])
    context = {"product_name": product.name if product else d["product_id"], "product_id": d["product_id"],
               "available": d["available"], "low_stock_threshold": d["low_stock_threshold"]}
    # Fulfillment emits one event per crossing of the threshold: each is its own cause.
    to_merchant(uow, deps, merchant, template, cause_key(template, event.id), context)


def webhook_endpoint_disabled(event: Envelope, uow: UnitOfWork, deps: Deps) -> None:
    d, template = event.data, "webhook_endpoint_disabled"
    merchant = _merchant(uow, d["merchant_id"])
    context = {"endpoint_id": d["endpoint_id"], "url": d["url"], "reason": d["reason"]}
    # An endpoint can be re-enabled and disabled again: each disabling is its own cause.
    to_merchant(uow, deps, merchant, template, cause_key(template, event.id), context)

