"""HTTP edge: create_app(settings)."""
from __future__ import annotations

import os

from tillkey.notifications.bootstrap import bootstrap
from tillkey.notifications.config import Settings
from tillkey.notifications.entrypoints import messages
from tillkey.platform.app import create_base_app


def create_app(settings: Settings, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app("notifications", engine=service.engine, session_factory=service.session_factory,
                          amqp_url=settings.amqp_url, platform_secret=settings.platform_secret,
                          admin_token=settings.admin_token)
    app.extensions["tillkey.notifications"] = service
    app.register_blueprint(messages.bp)
    return app


def create_app_from_env():
    """gunicorn's entry: `tillkey.notifications.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ))
