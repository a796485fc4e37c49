"""Tillkey's shared message contracts: the event envelope and one versioned schema per event type.

Every service that produces or consumes an event goes through this package, so a message that
does not match its contract is refused at the edge (producer side) or dead-lettered (consumer side).

The package is lazy (PEP 562): `from tillkey.contracts import Envelope` imports the envelope module
(and marshmallow) on first use, while `from tillkey.contracts.personal_data import …` or
`… .currencies import …` imports only that module. Pure modules — a service's domain — can use the
plain-data parts without pulling marshmallow in at run time (docs/architecture.md §8).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name → the submodule that defines it
_EXPORTS = {
    "Envelope": "envelope", "EnvelopeSchema": "envelope", "InvalidMessage": "envelope", "make_event": "envelope",
    "parse_message": "envelope",
    "PAYMENT_METHODS": "payment_methods", "PAYMENT_METHOD_CODES": "payment_methods",
    "EXCHANGE": "registry", "ORDER_SCOPED_PUBLIC_TYPES": "registry", "PUBLIC_EVENT_TYPES": "registry",
    "event_types": "registry", "schema_for": "registry",
    "load_sample": "samples", "sample_paths": "samples",
}
__all__ = [
    "Envelope", "EnvelopeSchema", "InvalidMessage", "make_event", "parse_message",
    "EXCHANGE", "PUBLIC_EVENT_TYPES", "ORDER_SCOPED_PUBLIC_TYPES", "event_types", "schema_for",
    "PAYMENT_METHODS", "PAYMENT_METHOD_CODES", "load_sample", "sample_paths",
]
assert set(__all__) == set(_EXPORTS)

if TYPE_CHECKING:   # for type checkers and the import graph (import-linter sees these edges)
    from tillkey.contracts.envelope import Envelope, EnvelopeSchema, InvalidMessage, make_event, parse_message
    from tillkey.contracts.payment_methods import PAYMENT_METHOD_CODES, PAYMENT_METHODS
    from tillkey.contracts.registry import (
        EXCHANGE,
        ORDER_SCOPED_PUBLIC_TYPES,
        PUBLIC_EVENT_TYPES,
        event_types,
        schema_for,
    )
    from tillkey.contracts.samples import load_sample, sample_paths


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # Not ours: `from tillkey.contracts import signing` then imports the submodule itself.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value    # later look-ups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
