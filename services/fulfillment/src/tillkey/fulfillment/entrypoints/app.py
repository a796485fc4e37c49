"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.fulfillment.adapters import tables
from tillkey.fulfillment.bootstrap import bootstrap
from tillkey.fulfillment.config import Settings
from tillkey.fulfillment.entrypoints import products_api
from tillkey.fulfillment.entrypoints.views import deliveries_bp
from tillkey.platform.app import create_base_app


def create_app(settings: Settings, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("fulfillment", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token, idempotency_table=tables.idempotency_keys)
    app.extensions["tillkey.fulfillment"] = service
    app.register_blueprint(deliveries_bp)
    app.register_blueprint(products_api.bp)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.fulfillment.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ))
