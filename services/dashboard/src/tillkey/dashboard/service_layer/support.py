"""The support console: signed in with the admin credential and a name, it finds any merchant's order
(by id, the customer's email or a bank transfer reference) and cancels, refunds or resends — each action
recorded with who did it and why (docs/dashboard.md)."""
from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from tillkey.dashboard.domain.money import InvalidPrice, to_minor_units
from tillkey.dashboard.service_layer import orders
from tillkey.dashboard.service_layer.accounts import token_hash
from tillkey.dashboard.service_layer.errors import NotFound, Rejected, SignInFailed
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.orders import optional_part, taken_in_part
from tillkey.dashboard.service_layer.ports import PlatformApi, UnitOfWork

ACTIONS = ("cancel", "refund", "resend")


def sign_in(given_token: str, name: str, admin_token: str, uow: UnitOfWork, now: datetime,
            lifetime_seconds: float) -> str:
    name = " ".join((name or "").split())
    if not given_token or not admin_token or not hmac.compare_digest(given_token.encode(), admin_token.encode()):
        raise SignInFailed()
    if not name or len(name) > 100:
        raise Rejected("Say who you are.", {"name": ["Your name, 1 to 100 characters: it is recorded on "
                                                     "every action you take."]})
    token = secrets.token_urlsafe(32)
    with uow:
        uow.support.delete_expired_sessions(now)
        uow.support.add_session(token_hash(token), name, now, now + timedelta(seconds=lifetime_seconds))
        uow.commit()
    return token


def signed_in(token: str | None, uow: UnitOfWork, now: datetime) -> str | None:
    """The signed-in support person's name, or None."""
    if not token:
        return None
    with uow:
        found = uow.support.session(token_hash(token))
    if found is None or now >= found[1]:
        return None
    return found[0]


def sign_out(token: str | None, uow: UnitOfWork) -> None:
    if token:
        with uow:
            uow.support.delete_session(token_hash(token))
            uow.commit()


def find(api: PlatformApi, admin_token: str, text: str, cursor: str | None = None) -> dict[str, Any]:
    """The search box: an order id → `{"order_id"}` to open; a customer's email → `{"orders", "next_cursor"}`
    across merchants; a bank transfer reference (TK-…, as typed off a statement) → `{"order_id",
    "payment_id"}` of its order. Rejected for anything else, NotFound for a reference no transfer has."""
    text = (text or "").strip()
    order_id = orders.find_order_id(text)
    if order_id:
        return {"order_id": order_id}
    if "@" in text:
        page = orders.list_orders(api, admin_token, orders.order_search({"q": text}), cursor)
        return {"orders": page.get("data", []), "next_cursor": page.get("next_cursor")}
    if text.upper().startswith("TK") and len(text) <= 40:
        # Spaces (a banking app's line breaks) become the dashes they stand for; payments reads the rest.
        reference = checked(re.sub(r"[\s-]+", "-", text))
        payment = api.call("payments", "GET", f"/v1/bank-transfers/{reference}", admin_token)
        return {"order_id": payment["order_id"], "payment_id": payment["payment_id"]}
    raise Rejected("Search takes an order id, a customer's email or a bank transfer reference.",
                   {"q": ["An order id (ord_…), the customer's whole email, or a reference like TK-7QX2-M4PA."]})


def order_of(api: PlatformApi, admin_token: str, order_id: str, uow: UnitOfWork) -> dict[str, Any]:
    order = api.call("orders", "GET", f"/v1/orders/{checked(order_id)}", admin_token)
    payments = optional_part(lambda: api.call("payments", "GET", f"/v1/orders/{order_id}/payments", admin_token))
    deliveries = optional_part(lambda: api.call("fulfillment", "GET", f"/v1/orders/{order_id}/deliveries",
                                                admin_token))
    emails = taken_in_part(lambda: api.call("notifications", "GET", "/v1/messages", admin_token,
                                            params={"order_id": order_id, "limit": 100}))
    actions = log_of(order_id, uow)
    return {"order": order, "payments": payments, "deliveries": deliveries, "emails": emails, "actions": actions}


def log_of(order_id: str, uow: UnitOfWork) -> list[dict[str, Any]]:
    """What support did to an order (who, action, reason, when), oldest first. The merchant's order page
    shows it read-only, after the orders API showed the order is the merchant's."""
    with uow:
        return uow.support.actions_of(order_id)


def act(api: PlatformApi, admin_token: str, order: dict[str, Any], action: str, reason: str, amount_text: str, who: str,
        form_key: str, uow: UnitOfWork, now: datetime) -> None:
    """Cancel (unpaid), refund (all or an amount) or resend; recorded once the service took it."""
    reason = (reason or "").strip()
    if action not in ACTIONS:
        raise Rejected("Unknown action.", {"action": [f"One of {', '.join(ACTIONS)}."]})
    if not reason or len(reason) > 500:
        raise Rejected("Say why.", {"reason": ["Why, in 1 to 500 characters: it is recorded with your name."]})
    order_id = order["order_id"]
    idempotency = f"support-{action}-{form_key}" if form_key else None
    if action == "cancel":
        api.call("orders", "POST", f"/v1/orders/{order_id}/cancel", admin_token, body={"reason": reason},
                 idempotency_key=idempotency)
    elif action == "refund":
        body: dict[str, Any] = {"reason": reason}
        if (amount_text or "").strip():
            try:
                body["amount"] = to_minor_units(amount_text, order["currency"])
            except InvalidPrice as exc:
                raise Rejected("The refund was not started.", {"amount": [str(exc)]}) from None
        api.call("orders", "POST", f"/v1/orders/{order_id}/refund", admin_token, body=body,
                 idempotency_key=idempotency)
    else:
        api.call("orders", "POST", f"/v1/orders/{order_id}/resend-licenses", admin_token,
                 idempotency_key=idempotency)
    with uow:
        uow.support.record(f"sup_{secrets.token_hex(10)}", order_id, action, reason, who, now)
        uow.commit()


def confirm(api: PlatformApi, admin_token: str, story: dict[str, Any], kind: str, item_id: str, reason: str, who: str,
            uow: UnitOfWork, now: datetime) -> None:
    """Confirm a bank transfer that arrived (`payment`) or a bank-transfer refund paid out by hand
    (`refund`) — only one of this order's, as its payments list shows it; recorded like every action."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise Rejected("Say why.", {"reason": ["What shows it (a bank statement line), in 1 to 500 characters."]})
    payments = story.get("payments") or []
    payments = payments.get("data", []) if isinstance(payments, dict) else payments
    if kind == "payment":
        known = {p["payment_id"] for p in payments}
        path = f"/v1/payments/{checked(item_id)}/confirm"
    elif kind == "refund":
        known = {r.get("refund_id") for p in payments for r in p.get("refunds") or []}
        path = f"/v1/refunds/{checked(item_id)}/confirm"
    else:
        raise Rejected("Unknown confirmation.", {"kind": ["payment or refund"]})
    if item_id not in known:
        raise NotFound(item_id)      # another order's payment is not confirmed from this page
    api.call("payments", "POST", path, admin_token)
    with uow:
        uow.support.record(f"sup_{secrets.token_hex(10)}", story["order"]["order_id"], f"confirm {kind}",
                           f"{item_id}: {reason}", who, now)
        uow.commit()
