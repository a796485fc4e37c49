"""A merchant's API keys (docs/integration.md "API keys"): `POST`/`GET /v1/api-keys`,
`POST /v1/api-keys/{key_id}/revoke`; and an admin's `GET /v1/merchants/{id}/api-keys`,
`POST /v1/merchants/{id}/api-keys/{key_id}/revoke`."""
from __future__ import annotations

from flask import Blueprint, g
from marshmallow import Schema, fields

from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import authorize, merchant_id, run
from tillkey.orders.service_layer.api_keys import CreateApiKey, KeyCaller, ListApiKeys, RevokeApiKey
from tillkey.platform.api import endpoint
from tillkey.platform.idempotency import idempotent

bp = Blueprint("api_keys", __name__)
TAGS = ("api keys",)


class ApiKeyIn(s.Strict):
    name = s.Text(100, required=True)


class ApiKeyOut(Schema):
    key_id = fields.String()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The key's start, to recognise it; never the key."})
    status = fields.String(metadata={"enum": ["active", "revoked"]})
    created_at = fields.String()
    revoked_at = fields.String(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    current = fields.Boolean(metadata={"description": "The key of this call."})


class ApiKeyCreated(ApiKeyOut):
    api_key = fields.String(metadata={"description": "The key: shown in this answer only."})


class ApiKeyList(Schema):
    data = fields.List(fields.Nested(ApiKeyOut))


def _caller() -> KeyCaller:
    return KeyCaller(g.principal.key_id, g.principal.key_prefix)


@bp.post("/v1/api-keys")
@authorize("merchant")
@idempotent
@endpoint(body=ApiKeyIn, response=ApiKeyCreated, status=201, auth="merchant", tags=TAGS)
def create(body):
    """Create a named API key; the answer holds the key, shown only this once."""
    return run(CreateApiKey(merchant_id(), body["name"], _caller()))


@bp.get("/v1/api-keys")
@authorize("merchant")
@endpoint(response=ApiKeyList, auth="merchant", tags=TAGS)
def list_():
    """The merchant's API keys, newest first: name, prefix, dates and status, never the key."""
    return run(ListApiKeys(merchant_id(), _caller()))


@bp.post("/v1/api-keys/<key_id>/revoke")
@authorize("merchant")
@endpoint(response=ApiKeyOut, auth="merchant", tags=TAGS)
def revoke(key_id):
    """Revoke a key: every service refuses it within seconds. The key of this call only if another
    live key is left (409 `last_api_key`); revoking a revoked key changes nothing."""
    return run(RevokeApiKey(merchant_id(), key_id, "merchant", _caller()))


@bp.get("/v1/merchants/<merchant>/api-keys")
@authorize("admin")
@endpoint(response=ApiKeyList, auth="admin", tags=TAGS)
def admin_list(merchant):
    """A merchant's API keys (admin)."""
    return run(ListApiKeys(merchant))


@bp.post("/v1/merchants/<merchant>/api-keys/<key_id>/revoke")
@authorize("admin")
@endpoint(response=ApiKeyOut, auth="admin", tags=TAGS)
def admin_revoke(merchant, key_id):
    """Revoke a merchant's API key (admin), its last one included."""
    return run(RevokeApiKey(merchant, key_id, "admin"))
