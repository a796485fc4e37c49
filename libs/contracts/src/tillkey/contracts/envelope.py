"""The event envelope: `{id, type, version, occurred_at, producer, correlation_id, causation_id, data}`."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from tillkey.contracts.prepared import prepare
from tillkey.contracts.registry import cleaner_for


class InvalidMessage(ValueError):
    """A message that can never be processed (bad JSON, unknown type, data off-contract)."""


def _event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Envelope:
    type: str
    data: dict[str, Any]
    producer: str
    version: int = 1
    id: str = field(default_factory=_event_id)
    occurred_at: str = field(default_factory=_now)
    correlation_id: str | None = None
    causation_id: str | None = None

    @property
    def routing_key(self) -> str:
        return self.type

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "version": self.version,
            "occurred_at": self.occurred_at, "producer": self.producer,
            "correlation_id": self.correlation_id, "causation_id": self.causation_id,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    def caused(self, type: str, data: dict[str, Any], producer: str, version: int = 1) -> "Envelope":
        """A new event caused by this one: same correlation, causation = this event."""
        return make_event(type, data, producer, version=version,
                          correlation_id=self.correlation_id or self.id, causation_id=self.id)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # readers ignore unknown fields

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.String(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(load_default=None, allow_none=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


# Reused: a Schema keeps no per-load state (see registry.schema_for).
_ENVELOPE = prepare(EnvelopeSchema())


def make_event(type: str, data: dict[str, Any], producer: str, *, version: int = 1,
               correlation_id: str | None = None, causation_id: str | None = None,
               id: str | None = None) -> Envelope:
    """Build an envelope, validating `data` against the type's contract (raises InvalidMessage)."""
    clean_data = cleaner_for(type, version)
    try:
        clean = clean_data(data)
    except ValidationError as exc:
        raise InvalidMessage(f"{type} v{version}: {exc.messages}") from exc
    kwargs = {"id": id} if id else {}
    return Envelope(type=type, data=clean, producer=producer, version=version,
                    correlation_id=correlation_id, causation_id=causation_id, **kwargs)


def parse_message(body: bytes | str) -> Envelope:
    """Decode and validate a message from the wire; anything off-contract raises InvalidMessage."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidMessage("envelope is not an object")
    try:
        env = _ENVELOPE.load(raw)
    except ValidationError as exc:
        raise InvalidMessage(f"bad envelope: {exc.messages}") from exc
    try:
        clean_data = cleaner_for(env["type"], env["version"])
    except KeyError as exc:
        raise InvalidMessage(str(exc)) from exc
    try:
        data = clean_data(env["data"])
    except ValidationError as exc:
        raise InvalidMessage(f"{env['type']} v{env['version']}: {exc.messages}") from exc
    return Envelope(type=env["type"], data=data, producer=env["producer"], version=env["version"],
                    id=env["id"], occurred_at=env["occurred_at"],
                    correlation_id=env["correlation_id"], causation_id=env["causation_id"])
