"""Abuse limits on the calls anyone can make (issue 18): cart creation, checkout, payment attempts,
license resends, sandbox tokens. Flask-Limiter decides; `rate_limit_storage` counts in the
service's database so every process and replica shares the counts.

Per client address on each limited call, and per cart or order where a call is about one: a card
tester who tries many cards on one order, or one address hammering the checkout, gets 429
problem+json with `Retry-After`. The defaults are far above what one address does in normal use,
and above `make bench` (16 customers on 127.0.0.1); the README lists the variables; tests set them
low. Behind a proxy, `TRUSTED_PROXIES` says how many `X-Forwarded-For` hops to believe, or every
client would share the proxy's address.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from tillkey.platform.config import ConfigError, Env
from tillkey.platform.problems import problem_response
from tillkey.platform.rate_limit_storage import SCHEME


@dataclass(frozen=True)
class RateLimits:
    per_address: str = "3000/minute"
    checkouts_per_cart: str = "60/hour"
    payments_per_order: str = "30/hour"
    resends_per_order: str = "20/hour"
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RateLimits:
        env = Env(environ)
        limits = cls(per_address=env.str("RATE_LIMIT_PER_ADDRESS", "3000/minute"),
                     checkouts_per_cart=env.str("RATE_LIMIT_CHECKOUTS_PER_CART", "60/hour"),
                     payments_per_order=env.str("RATE_LIMIT_PAYMENTS_PER_ORDER", "30/hour"),
                     resends_per_order=env.str("RATE_LIMIT_RESENDS_PER_ORDER", "20/hour"),
                     trusted_proxies=_hops(env.str("TRUSTED_PROXIES", "0")))
        for name, value in (("RATE_LIMIT_PER_ADDRESS", limits.per_address),
                            ("RATE_LIMIT_CHECKOUTS_PER_CART", limits.checkouts_per_cart),
                            ("RATE_LIMIT_PAYMENTS_PER_ORDER", limits.payments_per_order),
                            ("RATE_LIMIT_RESENDS_PER_ORDER", limits.resends_per_order)):
            try:
                parse_many(value)
            except ValueError:
                raise ConfigError(f"{name}: not a rate limit like '30/hour' or '3000/minute;20000/day': "
                                  f"{value!r}") from None
        return limits


def _hops(text: str) -> int:
    if not text.strip().isdigit():
        raise ConfigError(f"TRUSTED_PROXIES must be a whole number, 0 or more, got {text!r}")
    return int(text)


def client_address() -> str:
    return request.remote_addr or "unknown"


def path_value(name: str) -> Callable[[], str]:
    """A key function: the route's `name` (`order_id`, `cart_id`): limits per order or cart."""
    return lambda: (request.view_args or {}).get(name) or "none"


def rate_limited(*rules: tuple[str, Callable[[], str]], counts: Callable | None = None):
    """Mark a view: each rule is (limit attribute of RateLimits, key function). `counts(response)`:
    which answers use up the limit (all when None). Applied by `install_rate_limits`."""

    def mark(view):
        view.rate_limits = (rules, counts)
        return view

    return mark


def install_rate_limits(app: Flask, limits: RateLimits, *, storage_uri: str = f"{SCHEME}://",
                        **storage_options) -> Limiter:
    """Wrap every marked view of `app` (call after its blueprints are registered)."""
    if limits.trusted_proxies:
        # Flask's documented way to add WSGI middleware is to replace this method on the instance.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=limits.trusted_proxies)  # type: ignore[method-assign]
    # No headers on every answer, and errors not swallowed: a database that is down is a 503 (the
    # platform's handler), and a limit that cannot be counted is not silently skipped.
    limiter = Limiter(client_address, app=app, storage_uri=storage_uri, storage_options=storage_options,
                      strategy="fixed-window", headers_enabled=False, swallow_errors=False,
                      key_prefix=app.name)
    for endpoint, view in list(app.view_functions.items()):
        marked = getattr(view, "rate_limits", None)
        if marked is None:
            continue
        rules, counts = marked
        if counts is not None:
            # A server error is not counted: its 503 (the database gone) would otherwise count in
            # the database that just failed, after the answer, and Flask would turn it into a 500.
            counts = (lambda response, counts=counts: response.status_code < 500 and counts(response))
        wrapped: Callable[..., Any] = view
        for attribute, key_func in rules:
            wrapped = limiter.limit(getattr(limits, attribute), key_func=key_func, deduct_when=counts,
                                    scope=f"{endpoint}:{attribute}")(wrapped)
        # setattr: the view is a plain function carrying its OpenAPI description (api.endpoint).
        setattr(wrapped, "openapi", getattr(view, "openapi", None))  # noqa: B010
        app.view_functions[endpoint] = wrapped

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        current = limiter.current_limit
        wait = max(1, math.ceil(current.reset_at - time.time())) if current is not None else 1
        return problem_response(429, "rate_limited", f"Too many requests ({exc.description}); try again in "
                                f"{wait} s.", headers={"Retry-After": str(wait)})

    return limiter

