"""A refund of (part of) one payment: through the payment's gateway, or paid out by hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(eq=False)
class Refund:
    refund_id: str
    order_id: str
    payment_id: str
    amount: int
    currency: str
    status: str  # pending | succeeded | failed
    reason: str
    created_at: datetime
    updated_at: datetime
    automatic: bool = False  # True: we give back an extra charge; False: support or the merchant asked
    gateway: str | None = None           # None: paid out by hand (bank transfer)
    charge_id: str | None = None
    gateway_refund_id: str | None = None  # set once the gateway accepted it
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def awaits_submission(self) -> bool:
        return self.status == "pending" and self.gateway is not None and self.gateway_refund_id is None

    def settle(self, succeeded: bool, at: datetime, code: str | None = None, message: str | None = None) -> bool:
        """False when already decided (a repeated notification)."""
        if self.status != "pending":
            return False
        self.status, self.updated_at = ("succeeded" if succeeded else "failed"), at
        if not succeeded:
            self.failure_code, self.failure_message = code or "refund_failed", message
        return True
