"""What every view of this service shares: the wired service, and commands run with refusals as problems."""
from __future__ import annotations

import re
from functools import wraps

from flask import current_app, request

from tillkey.fulfillment.service_layer import merchant
from tillkey.platform.auth import require
from tillkey.platform.problems import not_found, refusals_as_problems

_PRODUCT_ID = re.compile(r"^prod_[A-Za-z0-9]{1,59}$")


def service():
    return current_app.extensions["tillkey.fulfillment"]


def run(command):
    """Hand a command to the service; a refused one becomes its problem+json answer
    (tillkey.platform.problems.refused)."""
    with refusals_as_problems():
        return service().handle(command)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def calling_merchant() -> str:
    """The calling merchant's id: 401 without a credential, 403 for another kind (`require`)."""
    merchant_id = require("merchant").merchant_id
    if merchant_id is None:  # a merchant's principal always names its merchant (tillkey.platform.auth)
        raise RuntimeError("a merchant principal without a merchant id")
    return merchant_id


def checked_product_id(product_id: str) -> str:
    # An id that cannot exist is simply not found, without asking anyone.
    if not _PRODUCT_ID.match(product_id):
        raise not_found("product")
    return product_id


def credential_first(view):
    """The credential before the body: a stranger's bad body is a 401, not a 422."""
    @wraps(view)
    def wrapper(**kwargs):
        require("merchant")
        return view(**kwargs)

    wrapper.openapi = view.openapi
    return wrapper


def product_owner(product_id: str) -> str:
    """The calling merchant, once the product is known to be theirs (404 otherwise)."""
    merchant_id = calling_merchant()
    checked_product_id(product_id)
    with refusals_as_problems():
        merchant.ensure_owner(service().uow_factory, service().products, merchant_id, bearer_token(), product_id)
    return merchant_id
