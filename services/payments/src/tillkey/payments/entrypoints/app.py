"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.payments.adapters import tables
from tillkey.payments.bootstrap import bootstrap
from tillkey.payments.config import Settings
from tillkey.payments.entrypoints import gateways, pages, payment_methods, payments, refunds
from tillkey.platform.app import create_base_app
from tillkey.platform.rate_limits import RateLimits, install_rate_limits
from tillkey.platform.web.front_door import front_door_blueprint


def create_app(settings: Settings, rate_limits: RateLimits | None = None, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("payments", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token, idempotency_table=tables.idempotency_keys)
    app.extensions["tillkey.payments"] = service
    app.register_blueprint(payment_methods.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(refunds.bp)
    app.register_blueprint(gateways.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(front_door_blueprint(
        "Tillkey payments", "Customers reach the payment page from the checkout or from a link in their email."))
    install_rate_limits(app, rate_limits or RateLimits(), engine=service.engine, table=tables.rate_limits)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.payments.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ), RateLimits.from_env(os.environ))
