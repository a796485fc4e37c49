"""How each object is shown: the one source for the API answers and for event data.

`order_view` is both `GET /v1/orders/{id}` and the `order.created` event's data, so the two
cannot drift apart (docs/integration.md, "Webhooks": the event carries the order as the API shows it).
"""
from __future__ import annotations

from typing import Any

from tillkey.orders.domain.carts import Cart, Quote
from tillkey.orders.domain.catalog import Product
from tillkey.orders.domain.coupons import Coupon
from tillkey.orders.domain.orders import Order
from tillkey.orders.domain.refunds import Refund
from tillkey.platform.clock import isoformat


def product_view(product: Product, orders_public_url: str) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "merchant_id": product.merchant_id,
        "name": product.name,
        "prices": dict(sorted(product.prices.items())),
        "default_currency": product.default_currency,
        "active": product.active,
        "checkout_url": f"{orders_public_url.rstrip('/')}/buy/{product.product_id}",
        "created_at": isoformat(product.created_at),
        "updated_at": isoformat(product.updated_at),
    }


def product_event(product: Product) -> dict[str, Any]:
    """`product.created` / `product.updated`: what the other services keep (owner, name, prices)."""
    return {"product_id": product.product_id, "merchant_id": product.merchant_id, "name": product.name,
            "active": product.active, "prices": dict(product.prices)}


def coupon_view(coupon: Coupon) -> dict[str, Any]:
    return {
        "code": coupon.code,
        "percent_off": coupon.percent_off,
        "amount_off": dict(coupon.amount_off) if coupon.amount_off is not None else None,
        "product_ids": list(coupon.product_ids) if coupon.product_ids is not None else None,
        "expires_at": isoformat(coupon.expires_at),
        "max_redemptions": coupon.max_redemptions,
        "redemptions": coupon.redemptions,
        "active": coupon.active,
        "created_at": isoformat(coupon.created_at),
    }


def cart_view(cart: Cart, quote: Quote, orders_public_url: str) -> dict[str, Any]:
    return {
        "cart_id": cart.cart_id,
        "merchant_id": cart.merchant_id,
        "status": "open" if cart.is_open else "checked_out",
        "order_id": cart.order_id,
        "currency": cart.currency,
        "coupon": cart.coupon_code,
        "coupon_problem": quote.coupon_problem,
        "lines": [{
            "line_id": q.line.line_id, "product_id": q.line.product_id, "name": q.name,
            "quantity": q.line.quantity, "unit_price": q.unit_price, "discount": q.discount,
            "total": q.total, "problem": q.problem,
        } for q in quote.lines],
        "subtotal": quote.priced.subtotal,
        "discount": quote.priced.discount,
        "total": quote.priced.total,
        "email": cart.email,
        "return_url": cart.return_url,
        "locale": cart.locale,
        "custom": dict(cart.custom),
        "checkout_page_url": f"{orders_public_url.rstrip('/')}/checkout/{cart.cart_id}",
        "created_at": isoformat(cart.created_at),
        "updated_at": isoformat(cart.updated_at),
    }


def order_view(order: Order) -> dict[str, Any]:
    c = order.customer
    return {
        "order_id": order.order_id,
        "merchant_id": order.merchant_id,
        "status": order.status,
        "delivery_status": order.delivery_status,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount": order.discount,
        "total": order.total,
        "refunded_amount": order.refunded_amount,
        "payment_method": order.payment_method,
        "coupon": order.coupon_code,
        "customer": {"email": c.email, "first_name": c.first_name, "last_name": c.last_name,
                     "country": c.country, "company": c.company, "vat_id": c.vat_id, "locale": c.locale},
        "custom": dict(order.custom),
        "lines": [{
            "line_id": line.line_id, "product_id": line.product_id, "name": line.name,
            "quantity": line.quantity, "unit_price": line.unit_price, "discount": line.discount,
            "total": line.total, "delivery_status": line.delivery_status,
        } for line in sorted(order.lines, key=lambda ln: ln.position)],
        "created_at": isoformat(order.created_at),
        "paid_at": isoformat(order.paid_at),
        "delivered_at": isoformat(order.delivered_at),
    }


def order_page_view(order: Order) -> dict[str, Any]:
    """The customer's order page: the order plus what only its customer sees (each line's licenses)."""
    view = order_view(order)
    by_id = {line.line_id: line for line in order.lines}
    for line in view["lines"]:
        delivered = by_id[line["line_id"]]
        line.update(licenses=list(delivered.licenses or []), text=delivered.delivery_text,
                    delivery_method=delivered.delivery_method, delivered_at=isoformat(delivered.delivered_at))
    view["last_payment_failure"] = dict(order.last_payment_failure) if order.last_payment_failure else None
    view["refundable"] = order.refundable
    return view


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.refund_id,
        "order_id": refund.order_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
        "status": refund.status,
        "created_at": isoformat(refund.created_at),
    }
