"""Card checks and the test cards' scripted behaviour — pure functions, no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Behaviour:
    """What the sandbox does with charges (and refunds) made with one card."""

    name: str
    failure_code: str | None = None
    failure_message: str | None = None
    unavailable_tries: int = 0  # 5xx answers to the first N tries of each charge (per idempotency key)
    refund_fails: bool = False

    @property
    def charge_status(self) -> str:
        return "failed" if self.failure_code else "succeeded"


SUCCEED = Behaviour("succeed")
BEHAVIOURS = {b.name: b for b in (
    SUCCEED,
    Behaviour("card_declined", "card_declined", "The card was declined."),
    Behaviour("insufficient_funds", "insufficient_funds", "The card has insufficient funds."),
    Behaviour("unavailable_twice", unavailable_tries=2),
    Behaviour("refund_fails", refund_fails=True),
)}

# Only the behaviour's name is stored with a token, never the number.
TEST_CARDS = {
    "4242424242424242": "succeed",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000119": "unavailable_twice",
    "4000000000005126": "refund_fails",  # as Stripe's: the charge succeeds, its refunds fail
}

# What each test card does, in words for people trying the platform (the sandbox's page, the
# payment page's test-mode notice, the README). Any future expiry date and any CVC work.
TEST_CARD_NOTES = {
    "4242424242424242": "The payment succeeds.",
    "4000000000000002": "The card is declined (card_declined).",
    "4000000000009995": "The card is declined for insufficient funds (insufficient_funds).",
    "4000000000000119": "The gateway fails the first two tries of each charge, then it succeeds.",
    "4000000000005126": "The payment succeeds; refunding it fails.",
}


def behaviour_for(number: str) -> Behaviour:
    """Any valid number that is not a test card simply succeeds."""
    return BEHAVIOURS[TEST_CARDS.get(number, "succeed")]


def normalize_number(raw: str) -> str:
    """Spaces and dashes as people type them are dropped; anything else stays (and fails)."""
    return re.sub(r"[ -]", "", raw)


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def valid_number(number: str) -> bool:
    return number.isascii() and number.isdigit() and 12 <= len(number) <= 19 and luhn_valid(number)


_BRANDS = (
    ("amex", re.compile(r"^3[47]")),
    ("diners", re.compile(r"^3(0[0-5]|[689])")),
    ("jcb", re.compile(r"^35(2[89]|[3-8])")),
    ("discover", re.compile(r"^(6011|65|64[4-9])")),
    ("mastercard", re.compile(r"^(5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)")),
    ("visa", re.compile(r"^4")),
)


def brand_of(number: str) -> str:
    for brand, pattern in _BRANDS:
        if pattern.match(number):
            return brand
    return "unknown"


def full_year(year: int) -> int:
    """Two-digit years as printed on cards (`27`) mean 20xx."""
    return 2000 + year if 0 <= year < 100 else year


def expired(exp_month: int, exp_year: int, today: date) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (full_year(exp_year), exp_month) < (today.year, today.month)


def valid_cvc(cvc: str) -> bool:
    return cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4
