"""The admin's JSON API: create a merchant's dashboard user from the merchant's API key.

The key is how the admin proves which merchant the user belongs to (it names its merchant and is
checked with PLATFORM_SECRET, as every service checks it); the dashboard keeps it sealed to call the
APIs on the user's behalf. `make run` creates the demo merchant's user this way (docs/dashboard.md).
"""
from __future__ import annotations

from flask import Blueprint, request

from tillkey.dashboard.domain.accounts import InvalidAccount
from tillkey.dashboard.entrypoints.pages import dashboard
from tillkey.dashboard.service_layer import accounts
from tillkey.dashboard.service_layer.errors import AlreadyExists
from tillkey.platform import credentials
from tillkey.platform.problems import ApiError, conflict, validation_error

bp = Blueprint("admin", __name__, url_prefix="/admin/v1")


def _require_admin() -> None:
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not credentials.verify_admin_token(dashboard().settings.admin_token, given):
        raise ApiError(401, "The admin token is needed: Authorization: Bearer <ADMIN_TOKEN>.", code="unauthorized",
                       headers={"WWW-Authenticate": "Bearer"})


@bp.post("/merchant-users")
def create_merchant_user():
    """{api_key, email, password, merchant_name?} → 201 {user_id, merchant_id, email}."""
    _require_admin()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise validation_error({"_body": ["A JSON object."]})
    fields = {name: body.get(name) for name in ("api_key", "email", "password", "merchant_name")}
    wrong = {name: ["A string."] for name, value in fields.items()
             if value is not None and not isinstance(value, str)}
    wrong.update({name: ["Required."] for name in ("api_key", "email", "password") if not fields[name]})
    if wrong:
        raise validation_error(wrong)
    d = dashboard()
    merchant_id = credentials.verify_api_key(d.settings.platform_secret, fields["api_key"])
    if merchant_id is None:
        raise validation_error({"api_key": ["Not an API key this platform issued."]})
    try:
        user = accounts.create_merchant_user(
            accounts.CreateMerchantUser(fields["api_key"], fields["email"], fields["password"],
                                        fields["merchant_name"] or ""),
            merchant_id, d.uow_factory(), d.hasher, d.sealer, d.clock.now())
    except InvalidAccount as exc:
        raise validation_error({k: [v] for k, v in exc.errors.items()}) from None
    except AlreadyExists as exc:
        raise conflict(str(exc), code="user_exists") from None
    return {"user_id": user.user_id, "merchant_id": user.merchant_id, "email": user.email}, 201
