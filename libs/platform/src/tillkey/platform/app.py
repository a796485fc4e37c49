"""The part of `create_app` every service shares."""
from __future__ import annotations

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from tillkey.platform.api import openapi_document
from tillkey.platform.auth import Authenticator
from tillkey.platform.health import BrokerCheck
from tillkey.platform.health import bp as health_bp
from tillkey.platform.http_observability import install_http_observability
from tillkey.platform.idempotency import IdempotencyStore
from tillkey.platform.inputs import install_input_guard
from tillkey.platform.problems import register_error_handlers
from tillkey.platform.revoked_keys import RevokedKeys


def create_base_app(name: str, *, engine, session_factory, amqp_url: str, platform_secret: str,
                    admin_token: str, idempotency_table=None) -> Flask:
    app = Flask(f"tillkey.{name}")
    if not isinstance(app.json, DefaultJSONProvider):  # a plain Flask app has Flask's default provider
        raise TypeError(f"unexpected JSON provider {type(app.json).__name__}")
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["tillkey.engine"] = engine
    app.extensions["tillkey.amqp_url"] = amqp_url
    # Each service refuses revoked keys from its own `revoked_api_keys` table (docs/architecture.md).
    app.extensions["tillkey.auth"] = Authenticator(platform_secret, admin_token,
                                                   RevokedKeys(engine) if engine is not None else None)
    app.extensions["tillkey.broker_check"] = broker_check = BrokerCheck(amqp_url)
    # First, so everything after it (input guard, limits, views) logs under the request's ids.
    install_http_observability(app, name, scrape_collectors=[broker_check.collector(name)])
    if idempotency_table is not None:
        app.extensions["tillkey.idempotency"] = IdempotencyStore(session_factory, idempotency_table)
    register_error_handlers(app)
    install_input_guard(app)
    app.register_blueprint(health_bp)

    @app.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document(app, f"Tillkey {name} API"))

    return app
