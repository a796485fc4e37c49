"""Bank transfer instructions: what the customer needs to pay by hand, and a reference to match it by."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# No 0/O, 1/I/L, 5/S, 8/B: a reference is read off a screen and typed into a banking app.
REFERENCE_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"
REFERENCE_PREFIX = "TK"


def new_reference() -> str:
    """`TK-XXXX-XXXX`: 27^8 ≈ 2.8·10^11 values; uniqueness is still checked (and enforced by an index)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{REFERENCE_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str | None:
    """The reference as we issued it, from what support typed off a bank statement (any case, spaces or
    dashes anywhere, as banking apps reflow it); None when it cannot be one of ours."""
    chars = "".join(c for c in (text or "").upper() if c not in " -\t")
    body = chars[len(REFERENCE_PREFIX):]
    if len(text or "") > 64 or not chars.startswith(REFERENCE_PREFIX) or len(body) != 8 \
            or any(c not in REFERENCE_ALPHABET for c in body):
        return None
    return f"{REFERENCE_PREFIX}-{body[:4]}-{body[4:]}"


@dataclass(frozen=True)
class BankAccount:
    account_holder: str
    bank_name: str
    iban: str
    bic: str
    due_after: timedelta


def instructions(account: BankAccount, amount: int, currency: str, reference: str, now: datetime) -> dict[str, Any]:
    return {
        "amount": amount, "currency": currency, "reference": reference,
        "account_holder": account.account_holder, "bank_name": account.bank_name,
        "iban": account.iban, "bic": account.bic,
        "due_date": (now + account.due_after).date().isoformat(),
    }
