"""Which schema validates which (type, version); which types merchants can subscribe to."""
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema

from tillkey.contracts.prepared import cleaner, prepare

EXCHANGE = "tillkey.events"

# docs/integration.md, "Webhooks": the event types a merchant can subscribe to.
PUBLIC_EVENT_TYPES = (
    "order.created", "payment.succeeded", "payment.failed", "payment.pending",
    "product.delivered", "order.delivered", "license.requested", "license_pool.low",
    "payment.refunded", "order.canceled", "order.deleted",
    "license.activated", "license.deactivated", "license.revoked",
)
# Public events about one order: they carry a `sequence` and the order's `custom` in webhooks.
ORDER_SCOPED_PUBLIC_TYPES = tuple(t for t in PUBLIC_EVENT_TYPES if t != "license_pool.low")


def _all_schemas() -> dict[tuple[str, int], type[Schema]]:
    # Imported here: the event modules import base helpers, and the registry is their only index.
    from tillkey.contracts import fulfillment_events, orders_events, payments_events, webhooks_events

    merged: dict[tuple[str, int], type[Schema]] = {}
    for module in (orders_events, payments_events, fulfillment_events, webhooks_events):
        merged.update(module.SCHEMAS)
    return merged


_SCHEMAS: dict[tuple[str, int], type[Schema]] | None = None
# One instance per contract, made on first use: building a marshmallow Schema binds every field
# anew (about as costly as a load), and every message in and out passes through here. A Schema
# keeps no per-load state, so one instance serves every thread.
_INSTANCES: dict[tuple[str, int], Schema] = {}
_CLEANERS: dict[tuple[str, int], Callable[[Mapping[str, Any]], dict[str, Any]]] = {}


def _schemas() -> dict[tuple[str, int], type[Schema]]:
    global _SCHEMAS
    if _SCHEMAS is None:
        _SCHEMAS = _all_schemas()
    return _SCHEMAS


def schema_for(type: str, version: int = 1) -> Schema:
    """The contract's shared, prepared instance (prepared.prepare): load and dump it, but do not copy
    or narrow it (`only`, `exclude`, `Nested(instance)`): its lean loop knows the fields it was made with.
    For a schema of your own, instantiate the contract's class."""
    key = (type, version)
    schema = _INSTANCES.get(key)
    if schema is None:
        try:
            schema_class = _schemas()[key]
        except KeyError:
            raise KeyError(f"no contract for event {type!r} version {version}") from None
        schema = _INSTANCES[key] = prepare(schema_class())
    return schema


def cleaner_for(type: str, version: int = 1) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The function that validates an event's `data` and returns its canonical form: the contract's
    `dump(load(data))`, decided once per contract (prepared.cleaner). KeyError for an unknown contract;
    the cleaner raises marshmallow's ValidationError for data off-contract."""
    key = (type, version)
    clean = _CLEANERS.get(key)
    if clean is None:
        clean = _CLEANERS[key] = cleaner(schema_for(type, version))
    return clean


def event_types() -> list[tuple[str, int]]:
    return sorted(_schemas())
