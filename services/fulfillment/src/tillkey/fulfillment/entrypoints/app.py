"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.bootstrap import bootstrap
from tillkey.fulfillment.config import LicenseRateLimits, Settings
from tillkey.fulfillment.entrypoints import deliveries, license_keys, licenses, products
from tillkey.platform.app import create_base_app
from tillkey.platform.rate_limits import install_rate_limits


def create_app(settings: Settings, rate_limits: LicenseRateLimits | None = None, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("fulfillment", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token, idempotency_table=tables.idempotency_keys)
    app.extensions["tillkey.fulfillment"] = service
    app.register_blueprint(deliveries.bp)
    app.register_blueprint(products.bp)
    app.register_blueprint(licenses.bp)
    app.register_blueprint(license_keys.bp)
    install_rate_limits(app, rate_limits or LicenseRateLimits(), engine=service.engine, table=tables.rate_limits)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.fulfillment.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ), LicenseRateLimits.from_env(os.environ))
