"""The public license API the merchant's software calls: no merchant credential, the key is one.

Rate-limited per client address and per key (`install_rate_limits`, counts in this service's
database): every answer counts, `not_found` included, so guessing keys is slow as well as hopeless.
"""
from __future__ import annotations

from flask import Blueprint, request

from tillkey.fulfillment.domain.licensing import MAX_KEY_INPUT, LicenseRefused, normalize_key
from tillkey.fulfillment.entrypoints import license_schemas as s
from tillkey.fulfillment.entrypoints.common import refusals_as_problems, run, service
from tillkey.fulfillment.service_layer import licensing
from tillkey.platform.api import endpoint
from tillkey.platform.problems import conflict
from tillkey.platform.rate_limits import client_address, rate_limited

bp = Blueprint("licenses", __name__)
TAGS = ("licenses (public)",)


def license_key() -> str:
    """Rate-limit key function: the key in the body, as it is looked up (counted per key)."""
    try:
        body = request.get_json(silent=True) if request.is_json else None
    except RecursionError:
        body = None
    key = body.get("key") if isinstance(body, dict) else None
    return normalize_key(key)[:MAX_KEY_INPUT] if isinstance(key, str) else "none"


LIMITS = (("per_address", client_address), ("license_calls_per_address", client_address),
          ("license_calls_per_key", license_key))


@bp.post("/v1/licenses/validate")
@rate_limited(*LIMITS)
@endpoint(body=s.ValidateIn, response=s.ValidationOut, tags=TAGS)
def validate(body: dict):
    """Is the key valid, expired or revoked (not_found for a key we never issued); with `instance_id`,
    is that activation one of the key's."""
    return run(licensing.ValidateLicense(body["key"], body.get("instance_id")))


@bp.post("/v1/licenses/activate")
@rate_limited(*LIMITS)
@endpoint(body=s.ActivateIn, response=s.ActivationOut, tags=TAGS)
def activate(body: dict):
    """Activate the key on one machine: 404 for an unknown key; 409 `activation_limit_reached`,
    `license_revoked` or `license_expired`. The same fingerprint again answers its activation."""
    with refusals_as_problems():
        try:
            answer, new = service().handle(licensing.ActivateLicense(body["key"], body["instance_name"],
                                                                     body["fingerprint"]))
        except LicenseRefused as exc:
            raise conflict(str(exc), code=exc.code) from None
    return {**answer, "new": new}


@bp.post("/v1/licenses/deactivate")
@rate_limited(*LIMITS)
@endpoint(body=s.DeactivateIn, response=s.DeactivationOut, tags=TAGS)
def deactivate(body: dict):
    """Release one activation of the key (404 unless it is one of the key's), freeing its place."""
    return run(licensing.DeactivateLicense(body["key"], body["instance_id"]))
