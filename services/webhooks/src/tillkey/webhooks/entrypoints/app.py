"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.platform.app import create_base_app
from tillkey.webhooks.adapters import tables
from tillkey.webhooks.bootstrap import bootstrap
from tillkey.webhooks.config import Settings
from tillkey.webhooks.entrypoints import deliveries, endpoints


def create_app(settings: Settings, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("webhooks", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token, idempotency_table=tables.idempotency)
    app.extensions["tillkey.webhooks"] = service
    app.register_blueprint(endpoints.bp)
    app.register_blueprint(deliveries.bp)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.webhooks.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ))
