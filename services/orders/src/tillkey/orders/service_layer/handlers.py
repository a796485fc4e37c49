"""The service's one table of handlers: command or query type → handler (HANDLERS), and event type →
the handlers that react to it, each under the stable name the inbox records (EVENT_HANDLERS)."""
from __future__ import annotations

from tillkey.messaging.handling import declared
from tillkey.orders.service_layer import (
    api_keys,
    carts,
    catalog,
    checkout,
    events,
    lifecycle,
    merchant_settings,
    support,
)
from tillkey.orders.service_layer.api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from tillkey.orders.service_layer.carts import (
    AddCartLine,
    CreateCart,
    GetCart,
    GetCheckoutPage,
    OpenCheckoutLink,
    UpdateCart,
    UpdateCartLine,
)
from tillkey.orders.service_layer.catalog import (
    CreateCoupon,
    CreateProduct,
    GetProduct,
    ListCoupons,
    ListProducts,
    RegisterMerchant,
    UpdateCoupon,
    UpdateProduct,
)
from tillkey.orders.service_layer.checkout import Checkout, GetOrder, GetPaymentUrl, ListOrders
from tillkey.orders.service_layer.lifecycle import DeleteExpiredOrders, RemindUnpaidOrders
from tillkey.orders.service_layer.merchant_settings import GetMerchant, UpdateMerchant
from tillkey.orders.service_layer.support import CancelOrder, GetOrderPage, RefundOrder, ResendLicenses

HANDLERS = {
    RegisterMerchant: catalog.register_merchant,
    GetMerchant: merchant_settings.get_merchant,
    UpdateMerchant: merchant_settings.update_merchant,
    CreateApiKey: api_keys.create_api_key,
    ListApiKeys: api_keys.list_api_keys,
    RevokeApiKey: api_keys.revoke_api_key,
    CreateProduct: catalog.create_product,
    UpdateProduct: catalog.update_product,
    GetProduct: catalog.get_product,
    ListProducts: catalog.list_products,
    CreateCoupon: catalog.create_coupon,
    ListCoupons: catalog.list_coupons,
    UpdateCoupon: catalog.update_coupon,
    CreateCart: carts.create_cart,
    GetCart: carts.get_cart,
    GetCheckoutPage: carts.get_checkout_page,
    GetPaymentUrl: checkout.get_payment_url,
    AddCartLine: carts.add_cart_line,
    UpdateCartLine: carts.update_cart_line,
    UpdateCart: carts.update_cart,
    OpenCheckoutLink: carts.open_checkout_link,
    Checkout: checkout.checkout,
    GetOrder: checkout.get_order,
    ListOrders: checkout.list_orders,
    CancelOrder: support.cancel_order,
    RefundOrder: support.refund_order,
    ResendLicenses: support.resend_licenses,
    GetOrderPage: support.get_order_page,
    RemindUnpaidOrders: lifecycle.remind_unpaid_orders,
    DeleteExpiredOrders: lifecycle.delete_expired_orders,
}


EVENT_HANDLERS = {
    "payment.succeeded": [declared("payment_succeeded", events.payment_succeeded)],
    "payment.failed": [declared("payment_failed", events.payment_failed)],
    "product.delivered": [declared("product_delivered", events.product_delivered)],
    "license.requested": [declared("license_requested", events.license_requested)],
    "payment.refunded": [declared("payment_refunded", events.payment_refunded)],
    "refund.failed": [declared("refund_failed", events.refund_failed)],
}
