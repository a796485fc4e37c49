"""HTTP edge: create_app(settings). Pages for people (HTML, forms with CSRF tokens) and the admin API."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from tillkey.dashboard.adapters import tables
from tillkey.dashboard.bootstrap import SERVICE, bootstrap
from tillkey.dashboard.config import Settings
from tillkey.dashboard.entrypoints import (
    admin_api,
    api_keys_pages,
    auth_pages,
    catalog_pages,
    coupon_pages,
    developers_pages,
    orders_pages,
    pool_pages,
    support_ops_pages,
    support_pages,
    users_pages,
)
from tillkey.dashboard.entrypoints.pages import load_user, render
from tillkey.dashboard.service_layer.errors import NotFound, Rejected, Unavailable
from tillkey.platform.app import create_base_app
from tillkey.platform.problems import problem_response
from tillkey.platform.rate_limits import RateLimits, install_rate_limits
from tillkey.platform.web import assets_blueprint

COOKIE_NAME = "tillkey_dashboard"


@dataclass(frozen=True)
class LoginLimits:
    """The limits `install_rate_limits` reads by name (libs/platform rate_limits)."""

    logins_per_address: str
    logins_per_email: str
    trusted_proxies: int


def create_app(settings: Settings, **overrides):
    service = bootstrap(settings, **overrides)
    app = create_base_app(SERVICE, engine=service.engine, session_factory=None, amqp_url=settings.amqp_url,
                          platform_secret=settings.platform_secret, admin_token=settings.admin_token)
    app.extensions["tillkey.dashboard"] = service
    app.config.update(
        SECRET_KEY=settings.secret_key, SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime),
        WTF_CSRF_TIME_LIMIT=None,          # the token lives as long as the session it belongs to
        WTF_CSRF_SSL_STRICT=settings.cookie_secure)
    csrf = CSRFProtect(app)
    csrf.exempt(admin_api.bp)              # bearer-token JSON: no cookie rides along, nothing to forge
    app.before_request(load_user)
    app.register_blueprint(assets_blueprint())
    for bp in (auth_pages.bp, catalog_pages.bp, coupon_pages.bp, pool_pages.bp, orders_pages.bp,
               developers_pages.bp, api_keys_pages.bp, users_pages.bp, support_pages.bp,
               support_ops_pages.bp, admin_api.bp):
        app.register_blueprint(bp)
    # cast: install_rate_limits reads `trusted_proxies` and each marked view's limit by its attribute
    # name; its annotation names the other services' RateLimits, which these login limits are not.
    limits = cast(RateLimits, LoginLimits(settings.logins_per_address, settings.logins_per_email,
                                          settings.trusted_proxies))
    install_rate_limits(app, limits, engine=service.engine, table=tables.rate_limits)
    _page_errors(app)
    return app


def _is_page_request() -> bool:
    return not request.path.startswith(("/admin/", "/healthz", "/readyz", "/metrics", "/openapi.json"))


def _page_errors(app) -> None:
    """A person with a browser gets a page; the admin API and probes keep problem+json."""

    def page(status: int, title: str, detail: str, headers: dict | None = None):
        html, status, page_headers = render("dashboard/error.html", status, title=title, detail=detail)
        return html, status, {**page_headers, **(headers or {})}

    @app.errorhandler(NotFound)
    def _not_found(_exc):
        return page(404, "Not found", "There is nothing here, or it belongs to another merchant.")

    @app.errorhandler(Unavailable)
    def _unavailable(exc):
        return page(503, "Try again in a moment", f"The {exc} service did not answer; nothing was changed.",
                    {"Retry-After": "5"})

    @app.errorhandler(Rejected)
    def _rejected(exc):
        # A service refused an action that has no form to show it on (a coupon switched twice, an
        # endpoint deleted meanwhile): its reason, and nothing changed.
        return page(422, "That did not work", exc.detail)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return page(400, "The form expired", "Reload the page and send the form again.")

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc):
        if not _is_page_request():
            return problem_response(429, "rate_limited", f"Too many requests ({exc.description}).")
        return page(429, "Too many tries", "Wait a few minutes before you try again.", {"Retry-After": "60"})

    base_http_handler = app.error_handler_spec[None][None].get(HTTPException)

    @app.errorhandler(HTTPException)
    def _http(exc):
        if not _is_page_request() and base_http_handler is not None:
            return base_http_handler(exc)
        return page(exc.code or 500, exc.name, exc.description or exc.name)


def create_app_from_env():
    """gunicorn's entry: `tillkey.dashboard.entrypoints.app:create_app_from_env()`."""
    return create_app(Settings.from_env(os.environ))
