"""What the service refuses, in domain terms: the platform's refusals (tillkey.contracts.errors),
whose kind decides the HTTP status at the edge, plus two of payments' own."""
from __future__ import annotations

from tillkey.contracts.errors import Conflict, DomainError, Invalid, NotFound

__all__ = ["Conflict", "DomainError", "Invalid", "InvalidTransition", "NotFound", "NotReady"]


class NotReady(Conflict):
    """The order is not known here yet (order.created still on its way): ask again in a second."""

    code = "order_not_ready"
    retry_after = 1


class InvalidTransition(Conflict):
    """The aggregate refuses a move its state does not allow."""
