"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.orders.adapters import tables
from tillkey.orders.bootstrap import bootstrap
from tillkey.orders.config import Settings
from tillkey.orders.entrypoints import (
    api_keys,
    carts,
    checkout_page,
    coupons,
    merchants,
    order_page,
    orders,
    pages,
    products,
)
from tillkey.platform.app import create_base_app
from tillkey.platform.rate_limits import RateLimits, install_rate_limits
from tillkey.platform.web import assets_blueprint
from tillkey.platform.web.front_door import front_door_blueprint


def create_app(settings: Settings, rate_limits: RateLimits | None = None, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("orders", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token, idempotency_table=tables.idempotency_keys)
    app.extensions["tillkey.orders"] = service
    for module in (merchants, api_keys, products, coupons, carts, orders, pages, checkout_page, order_page):
        app.register_blueprint(module.bp)
    app.register_blueprint(assets_blueprint())   # the customer pages' shared stylesheet and script
    app.register_blueprint(front_door_blueprint(
        "Tillkey checkout", "Customers reach the checkout through a product's checkout link ({example}); there is "
        "nothing to see here without one.", example=f"{settings.orders_public_url}/buy/prod_…"))
    install_rate_limits(app, rate_limits or RateLimits(), engine=service.engine, table=tables.rate_limits)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.orders.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ), RateLimits.from_env(os.environ))
