"""Request and response schemas of the fulfillment API (they also generate /openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from tillkey.fulfillment.domain.licensing import (
    DEFAULT_PREFIX,
    MAX_ACTIVATION_LIMIT,
    MAX_VALID_DAYS,
    PREFIX_PATTERN,
)
from tillkey.fulfillment.domain.sources import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    MAX_EMAIL_TEXT,
    MAX_KEY_LENGTH,
    MAX_KEYS_PER_CALL,
    SOURCE_METHODS,
)
from tillkey.platform import schemas as strict
from tillkey.platform.clock import isoformat


class DeliverySchema(Schema):
    line_id = fields.String()
    product_id = fields.String()
    method = fields.String(allow_none=True, metadata={
        "description": "the method actually used (web_service, pool, email, manual); null until delivery starts"})
    status = fields.String(metadata={"enum": ["pending", "awaiting_merchant", "delivered"]})
    reason = fields.String(allow_none=True, metadata={"description": "why the line fell back to manual"})
    licenses = fields.List(fields.String())
    license_tokens = fields.Function(lambda d: list(getattr(d, "license_tokens", None) or []), metadata={
        "description": "a `generated` line: each key's signed license token (PASETO v4.public), in the order "
                       "of `licenses`; empty for other methods (docs/integration.md)"})
    delivered_at = fields.Method("_delivered_at", allow_none=True)

    def _delivered_at(self, d):
        return isoformat(d.delivered_at)


class DeliveryList(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "always null: one order's lines"})


# -- license sources ---------------------------------------------------------------------------
_FIELDS_OF = {"web_service": {"url", "secret"}, "pool": {"low_stock_threshold"}, "email": {"text"}, "manual": set(),
              "generated": {"prefix", "activation_limit", "valid_days", "revoke_on_refund"}}
_REQUIRED_OF = {"web_service": {"url"}, "email": {"text"}}


# whsec_ then base64 of at least 24 bytes: eight full quads (24 bytes) or more, canonical padding.
SECRET_PATTERN = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_secret_ok = validate.Regexp(SECRET_PATTERN, error="The secret is whsec_ then the base64 of at least 24 random bytes.")


def _variant(method: str, required: tuple[str, ...] = ()) -> dict:
    return {"properties": {"method": {"const": method}, **{name: {} for name in _FIELDS_OF[method]}},
            "required": ["method", *required], "additionalProperties": False}


class LicenseSourceIn(Schema):
    """One of `{method: web_service, url, secret?}`, `{method: pool, low_stock_threshold?}`,
    `{method: email, text}`, `{method: manual}`,
    `{method: generated, prefix?, activation_limit?, valid_days?, revoke_on_refund?}`."""

    class Meta:
        # Which fields go with which method, in the document too (`_fields_fit_the_method`).
        openapi = {"oneOf": [_variant(method, tuple(sorted(_REQUIRED_OF.get(method, ())))) for method in _FIELDS_OF]}

    method = fields.String(required=True, validate=validate.OneOf(SOURCE_METHODS))
    url = fields.String(validate=validate.Length(min=1, max=2048))
    secret = fields.String(validate=[validate.Length(max=128), _secret_ok],
                           metadata={"description": "whsec_ + base64 of 24+ bytes; omitted: one is generated"})
    low_stock_threshold = strict.Integer(validate=validate.Range(min=0, max=1_000_000), metadata={
        "description": f"license_pool.low once when fewer keys are left (default {DEFAULT_LOW_STOCK_THRESHOLD}; "
                       "0: never)"})
    text = fields.String(validate=validate.Length(min=1, max=MAX_EMAIL_TEXT))
    prefix = fields.String(validate=validate.Regexp(PREFIX_PATTERN, error="1 to 12 capital letters or digits."),
                           metadata={"description": f"the keys' first group (default {DEFAULT_PREFIX})"})
    activation_limit = strict.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_ACTIVATION_LIMIT),
                                      metadata={"description": "activations allowed per key; null or absent: "
                                                               "unlimited"})
    valid_days = strict.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_VALID_DAYS),
                                metadata={"description": "days a key is valid from purchase; null or absent: "
                                                         "perpetual"})
    revoke_on_refund = strict.Boolean(metadata={"description": "a full refund revokes the order's keys "
                                                               "(default true)"})

    @validates_schema
    def _fields_fit_the_method(self, data, **_kw):
        method = data.get("method")
        if method not in _FIELDS_OF:
            return
        errors = {name: [f"Not used by the {method} method."] for name in data
                  if name != "method" and name not in _FIELDS_OF[method]}
        errors.update({name: [f"Required by the {method} method."] for name in _REQUIRED_OF.get(method, ())
                       if name not in data})
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data, **_kw):
        if data["method"] == "pool":
            data.setdefault("low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD)
        if data["method"] == "generated":
            for name, default in (("prefix", DEFAULT_PREFIX), ("activation_limit", None), ("valid_days", None),
                                  ("revoke_on_refund", True)):
                data.setdefault(name, default)
        return data


class LicenseSourceOut(Schema):
    product_id = fields.String()
    method = fields.String(metadata={"enum": list(SOURCE_METHODS)})
    configured = strict.Boolean(metadata={"description": "false: no source was set, so lines go to manual"})
    url = fields.String()
    secret = fields.String(metadata={"description": "only in the answer that generated it"})
    low_stock_threshold = strict.Integer()
    text = fields.String()
    prefix = fields.String()
    activation_limit = strict.Integer(allow_none=True)
    valid_days = strict.Integer(allow_none=True)
    revoke_on_refund = strict.Boolean()
    public_key = fields.String(allow_none=True, metadata={
        "description": "a generated source: the product's Ed25519 public key (PEM) that verifies the keys' "
                       "license tokens offline; never the private key"})
    updated_at = fields.Method("_updated_at", allow_none=True)

    def _updated_at(self, source):
        return isoformat(source.get("updated_at"))


# -- pool and manual delivery ------------------------------------------------------------------
def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("A key cannot be blank.")


Key = fields.String(validate=[validate.Length(min=1, max=MAX_KEY_LENGTH), _not_blank])


class KeysIn(Schema):
    keys = fields.List(Key, required=True, validate=validate.Length(min=1, max=MAX_KEYS_PER_CALL))


class UploadOut(Schema):
    added = strict.Integer()
    duplicates = strict.Integer(metadata={"description": "keys already in the pool or repeated in this upload"})
    available = strict.Integer()


class PoolStats(Schema):
    available = strict.Integer()
    issued = strict.Integer()
