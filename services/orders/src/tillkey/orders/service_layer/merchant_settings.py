"""A merchant's own settings: `GET` and `PATCH /v1/merchants/me` (name, terms and privacy links)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tillkey.orders.domain.catalog import Merchant
from tillkey.orders.domain.errors import NotFound
from tillkey.orders.service_layer.ports import Deps, UnitOfWork
from tillkey.platform.clock import isoformat


# -- commands and queries (plain data, validated for shape at the edge) --
@dataclass(frozen=True)
class GetMerchant:
    merchant_id: str


@dataclass(frozen=True)
class UpdateMerchant:
    merchant_id: str
    changes: dict[str, Any]   # name, terms_url, privacy_url: only the keys given change (None removes a link)


def merchant_view(merchant: Merchant) -> dict[str, Any]:
    return {"merchant_id": merchant.merchant_id, "name": merchant.name, "email": merchant.email,
            "terms_url": merchant.terms_url, "privacy_url": merchant.privacy_url,
            "created_at": isoformat(merchant.created_at)}


def _merchant(uow: UnitOfWork, merchant_id: str) -> Merchant:
    merchant = uow.merchants.get(merchant_id)
    if merchant is None:   # a valid key of a merchant registered elsewhere (another database)
        raise NotFound("No such merchant.")
    return merchant


def get_merchant(cmd: GetMerchant, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    return merchant_view(_merchant(uow, cmd.merchant_id))


def update_merchant(cmd: UpdateMerchant, uow: UnitOfWork, deps: Deps) -> dict[str, Any]:
    merchant = _merchant(uow, cmd.merchant_id)
    if merchant.change(cmd.changes):
        # Payments and notifications keep the name (the payment page, emails) from this event;
        # their handlers update a merchant they know, so it serves a rename as well.
        uow.emit("merchant.registered", {"merchant_id": merchant.merchant_id, "name": merchant.name,
                                         "email": merchant.email})
    uow.commit()
    return merchant_view(merchant)
