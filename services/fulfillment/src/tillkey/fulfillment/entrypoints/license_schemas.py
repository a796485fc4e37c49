"""Schemas of the generated keys' APIs: the public license calls and the merchant's key management."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from tillkey.fulfillment.domain.licensing import MAX_ACTIVATION_LIMIT, MAX_KEY_INPUT
from tillkey.platform import schemas as strict
from tillkey.platform.clock import isoformat
from tillkey.platform.pagination import PageQuery


def _time(name: str, description: str = "") -> fields.Function:
    return fields.Function(lambda obj: isoformat(obj.get(name)), allow_none=True,
                           metadata={"description": description} if description else {})


def _key() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=MAX_KEY_INPUT),
                         metadata={"description": "the license key as the customer received it (case and "
                                                  "spaces do not matter)"})


# -- public: the key is the credential -----------------------------------------------------------
class ValidateIn(Schema):
    key = _key()
    instance_id = fields.String(validate=validate.Length(min=1, max=64),
                                metadata={"description": "an `activation_id`: is it one of this key's?"})


class ActivateIn(Schema):
    key = _key()
    instance_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                  metadata={"description": "a name the customer recognises (the machine's)"})
    fingerprint = fields.String(required=True, validate=validate.Length(min=1, max=500),
                                metadata={"description": "stable per machine; the same fingerprint again is "
                                                         "the activation it already has"})


class DeactivateIn(Schema):
    key = _key()
    instance_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                metadata={"description": "the `activation_id` to release"})


class LicenseOut(Schema):
    key_id = fields.String()
    product_id = fields.String()
    status = fields.String(metadata={"enum": ["valid", "expired", "revoked"]})
    activation_limit = strict.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    activations = strict.Integer()
    issued_at = _time("issued_at")
    expires_at = _time("expires_at", "null: perpetual")
    license_token = fields.String(metadata={
        "description": "PASETO v4.public token signed with the product's Ed25519 key: verify it offline "
                       "with the product's public key (docs/integration.md)"})


class ValidationOut(Schema):
    status = fields.String(metadata={"enum": ["valid", "expired", "revoked", "not_found"]})
    license = fields.Nested(LicenseOut, allow_none=True, metadata={"description": "null when not_found"})
    activated = strict.Boolean(allow_none=True, metadata={
        "description": "with `instance_id`: whether that activation is one of this key's; otherwise null"})


class ActivationOut(Schema):
    activation_id = fields.String()
    new = strict.Boolean(metadata={"description": "false: this fingerprint was already activated, and this is "
                                                  "its activation"})
    instance_name = fields.String(allow_none=True)
    created_at = _time("created_at")
    license = fields.Nested(LicenseOut)


class DeactivationOut(Schema):
    deactivated = strict.Boolean()
    activation_id = fields.String()
    license = fields.Nested(LicenseOut)


# -- merchant --------------------------------------------------------------------------------------
class MerchantKeyOut(Schema):
    key_id = fields.String()
    key = fields.String(allow_none=True, metadata={"description": "null once the order was deleted"})
    product_id = fields.String()
    order_id = fields.String()
    line_id = fields.String()
    status = fields.String(metadata={"enum": ["valid", "expired", "revoked"]})
    revoked_reason = fields.String(allow_none=True, metadata={"enum": ["refund", "merchant", "order_deleted", None]})
    activation_limit = strict.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    activations = strict.Integer()
    issued_at = _time("issued_at")
    expires_at = _time("expires_at", "null: perpetual")
    license_token = fields.String()


class KeysQuery(PageQuery):
    product_id = fields.String(validate=validate.Length(min=1, max=64))
    order_id = fields.String(validate=validate.Length(min=1, max=64))


class MerchantKeyList(Schema):
    data = fields.List(fields.Nested(MerchantKeyOut))
    next_cursor = fields.String(allow_none=True)


class KeyChangeIn(Schema):
    activation_limit = strict.Integer(required=True, allow_none=True,
                                      validate=validate.Range(min=1, max=MAX_ACTIVATION_LIMIT),
                                      metadata={"description": "null: unlimited; below the activations the key "
                                                               "has, they stay and new ones are refused"})


class MerchantActivationOut(Schema):
    activation_id = fields.String()
    key_id = fields.String()
    instance_name = fields.String(allow_none=True)
    fingerprint = fields.String(allow_none=True)
    created_at = _time("created_at")


class MerchantActivationList(Schema):
    data = fields.List(fields.Nested(MerchantActivationOut))
    next_cursor = fields.String(allow_none=True, metadata={"description": "always null: one key's activations"})
