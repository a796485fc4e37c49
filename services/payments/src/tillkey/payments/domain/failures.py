"""Failure codes and the sentence a customer reads for each (on the page, in payment.failed)."""
from __future__ import annotations

GATEWAY_UNAVAILABLE = "gateway_unavailable"

MESSAGES = {
    "card_declined": "Your card was declined. Try another card or another payment method.",
    "insufficient_funds": "Your card has insufficient funds. Try another card or another payment method.",
    "expired_card": "Your card has expired. Try another card.",
    "token_used": "The card details were already used once. Please enter them again.",
    "token_invalid": "The card details could not be read. Please enter them again.",
    GATEWAY_UNAVAILABLE: "The card processor could not be reached. Please try again in a moment or "
                         "choose another payment method.",
}
DEFAULT_MESSAGE = "The payment could not be completed. Try again or choose another payment method."


def customer_message(code: str, gateway_message: str | None = None) -> str:
    """Our own wording for the codes we know; the gateway's message (or a generic one) otherwise."""
    return MESSAGES.get(code) or (gateway_message or DEFAULT_MESSAGE)[:500]
