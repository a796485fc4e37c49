"""The one table of use cases: command or query type → handler."""
from __future__ import annotations

from tillkey.orders.service_layer import api_keys, carts, catalog, checkout, lifecycle, merchant_settings, support
from tillkey.orders.service_layer import commands as c

HANDLERS = {
    c.RegisterMerchant: catalog.register_merchant,
    c.GetMerchant: merchant_settings.get_merchant,
    c.UpdateMerchant: merchant_settings.update_merchant,
    c.CreateApiKey: api_keys.create_api_key,
    c.ListApiKeys: api_keys.list_api_keys,
    c.RevokeApiKey: api_keys.revoke_api_key,
    c.CreateProduct: catalog.create_product,
    c.UpdateProduct: catalog.update_product,
    c.GetProduct: catalog.get_product,
    c.ListProducts: catalog.list_products,
    c.CreateCoupon: catalog.create_coupon,
    c.ListCoupons: catalog.list_coupons,
    c.UpdateCoupon: catalog.update_coupon,
    c.CreateCart: carts.create_cart,
    c.GetCart: carts.get_cart,
    c.GetCheckoutPage: carts.get_checkout_page,
    c.GetPaymentUrl: checkout.get_payment_url,
    c.AddCartLine: carts.add_cart_line,
    c.UpdateCartLine: carts.update_cart_line,
    c.UpdateCart: carts.update_cart,
    c.OpenCheckoutLink: carts.open_checkout_link,
    c.Checkout: checkout.checkout,
    c.GetOrder: checkout.get_order,
    c.ListOrders: checkout.list_orders,
    c.CancelOrder: support.cancel_order,
    c.RefundOrder: support.refund_order,
    c.ResendLicenses: support.resend_licenses,
    c.GetOrderPage: support.get_order_page,
    c.RemindUnpaidOrders: lifecycle.remind_unpaid_orders,
    c.DeleteExpiredOrders: lifecycle.delete_expired_orders,
}
