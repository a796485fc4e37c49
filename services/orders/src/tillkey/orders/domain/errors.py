"""What can go wrong in a use case, said in the domain's words: the platform's refusals
(tillkey.contracts.errors), whose kind decides the HTTP status at the edge, in one place for every
service. Kept free of HTTP so handlers and aggregates can be tested without Flask.
"""
from __future__ import annotations

from tillkey.contracts.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound, TooSoon

__all__ = ["Conflict", "DomainError", "Forbidden", "Gone", "Invalid", "NotFound", "TooSoon"]
