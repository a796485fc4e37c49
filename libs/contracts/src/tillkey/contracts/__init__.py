"""Tillkey's shared message contracts: the event envelope and one versioned schema per event type.

Every service that produces or consumes an event goes through this package, so a message that
does not match its contract is refused at the edge (producer side) or dead-lettered (consumer side).
"""
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

__all__ = [
    "Envelope", "EnvelopeSchema", "InvalidMessage", "make_event", "parse_message",
    "EXCHANGE", "PUBLIC_EVENT_TYPES", "ORDER_SCOPED_PUBLIC_TYPES", "event_types", "schema_for",
    "PAYMENT_METHODS", "PAYMENT_METHOD_CODES", "load_sample", "sample_paths",
]
