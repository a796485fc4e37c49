"""Who is calling: admin, merchant (API key) or customer (order token), checked at the HTTP edge."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from tillkey.platform import credentials
from tillkey.platform.problems import ApiError, not_found
from tillkey.platform.revoked_keys import RevokedKeys
from tillkey.platform.visibility import sees_order


@dataclass(frozen=True)
class Principal:
    kind: str                     # "admin" | "merchant" | "customer"
    merchant_id: str | None = None
    order_id: str | None = None
    key_id: str | None = None       # a merchant's: the id of the API key it called with
    key_prefix: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


@dataclass(frozen=True)
class Authenticator:
    platform_secret: str
    admin_token: str
    # This service's denylist (tillkey.platform.revoked_keys); None: no key is ever refused as revoked.
    revoked: RevokedKeys | None = None

    def identify(self, order_id: str | None = None) -> Principal | None:
        """The caller, or None when no credential was given. A wrong credential is a 401."""
        header = request.headers.get("Authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = request.args.get("token", "")
        if bearer and credentials.verify_admin_token(self.admin_token, bearer):
            return Principal("admin")
        if bearer.startswith("tk_"):
            merchant_id = credentials.verify_api_key(self.platform_secret, bearer)
            if merchant_id is None:
                raise ApiError(401, "The API key is not valid.", code="unauthorized",
                               headers={"WWW-Authenticate": "Bearer"})
            key_id = credentials.api_key_id(bearer)
            if key_id is None:  # cannot happen: verify_api_key accepted it, so it has a key's shape
                raise ApiError(401, "The API key is not valid.", code="unauthorized",
                               headers={"WWW-Authenticate": "Bearer"})
            if self.revoked is not None and self.revoked.is_revoked(key_id):
                raise ApiError(401, "This API key was revoked.", code="unauthorized",
                               headers={"WWW-Authenticate": "Bearer"})
            return Principal("merchant", merchant_id=merchant_id, key_id=key_id,
                             key_prefix=credentials.api_key_prefix(bearer))
        customer_token = token or bearer
        if customer_token and order_id is not None:
            if credentials.verify_order_token(self.platform_secret, order_id, customer_token):
                return Principal("customer", order_id=order_id)
            # A wrong order token must not reveal whether the order exists.
            raise ApiError(404, "No such order.", code="not_found")
        if header or token:
            raise ApiError(401, "The credential is not valid.", code="unauthorized",
                           headers={"WWW-Authenticate": "Bearer"})
        return None


def require(*kinds: str, order_id: str | None = None) -> Principal:
    """The caller if it is one of `kinds`; 401 without a credential, 403 for the wrong kind."""
    principal = current_app.extensions["tillkey.auth"].identify(order_id=order_id)
    if principal is None:
        raise ApiError(401, "A credential is needed: Authorization: Bearer <key>.", code="unauthorized",
                       headers={"WWW-Authenticate": "Bearer"})
    if principal.kind not in kinds:
        raise ApiError(403, f"This call is for {' or '.join(kinds)} credentials.", code="forbidden")
    return principal


def optional_principal(order_id: str | None = None) -> Principal | None:
    return current_app.extensions["tillkey.auth"].identify(order_id=order_id)


def ensure_sees_order(principal: Principal, order_id: str, owner_merchant_id: str | None, *,
                      hidden_from_customer: bool = False) -> None:
    """404 unless `principal` may see the order (docs/architecture.md §5): admin always; a merchant its own orders;
    the customer its one order (token already verified by `identify`) unless that order is hidden
    from customers (deleted). `owner_merchant_id=None` means the order is not known here."""
    if owner_merchant_id is not None and sees_order(principal, order_id, owner_merchant_id,
                                                    hidden_from_customer=hidden_from_customer):
        return
    # Another merchant's order and a customer's deleted order look exactly like a missing one.
    raise not_found("order")
