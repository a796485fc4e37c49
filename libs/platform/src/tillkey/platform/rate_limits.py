"""Abuse limits on the calls anyone can make (issue 18): cart creation, checkout, payment attempts,
license resends, sandbox tokens. `rate_limit_storage` counts in the service's database so every
process and replica shares the counts.

Per client address on each limited call, and per cart or order where a call is about one: a card
tester who tries many cards on one order, or one address hammering the checkout, gets 429
problem+json with `Retry-After`. The defaults are far above what one address does in normal use,
and above `make bench` (16 customers on 127.0.0.1); the README lists the variables; tests set them
low. Behind a proxy, `TRUSTED_PROXIES` says how many `X-Forwarded-For` hops to believe, or every
client would share the proxy's address.

Why a checker of our own instead of Flask-Limiter's per-request machinery (used here before
issue 11; `limits` still parses the limits, and its storage interface is kept): Flask-Limiter asks
its storage once per limit, so a call with two limits (address and order) cost two transactions,
and a limit with `counts=` (its `deduct_when`) read every count before the view and wrote it
after: four transactions for a payment attempt, each a pool checkout, BEGIN, statement and COMMIT.
It also runs its hooks on every request of the app, limited or not. In a profile of orders-api
under `make bench`'s order creation (docs/benchmark.md, "Profiling") its `_check_request_limit`
was a fifth of the process's time, mostly waiting for those transactions; in a Flask test client
it ran 460 to 600 more Python calls per limited request than this checker, and 240 more on a
request to a view without limits.

Here a limited call counts all its limits first, in one statement; a refused call, or an answer
`counts` does not take, gives its hits back (one UPDATE): one transaction per counted call, two for
one that does not count. Same limits, same keys as Flask-Limiter wrote
(`LIMITER/<app>/<key>/<endpoint>:<endpoint>:<limit name>/…`), the same 429, the same refused calls
counted, and still exact across processes for the small limits: counting first can refuse a call
because of a hit that is about to be given back, never let one more through.
"""
from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, after_this_request, request
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from tillkey.platform.config import ConfigError, Env
from tillkey.platform.problems import problem_response
from tillkey.platform.rate_limit_storage import SCHEME, SqlStorage

log = logging.getLogger(__name__)


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


class Refused(RateLimitExceeded):
    """429 for one limit: Flask-Limiter's exception, which the dashboard's handler catches too."""

    def __init__(self, item: RateLimitItem, retry_after: int) -> None:
        # Not RateLimitExceeded.__init__: that one wants Flask-Limiter's per-request objects.
        self.limit = None  # type: ignore[assignment]
        TooManyRequests.__init__(self, description=str(item), retry_after=retry_after)


@dataclass(frozen=True)
class _Limit:
    """One limit of a marked view (a rule's value may hold several: `3000/minute;20000/day`)."""

    item: RateLimitItem
    key_func: Callable[[], str]
    head: str   # the storage key is head + the key function's value + tail, as Flask-Limiter made it
    tail: str


class _Checker:
    """Counts a marked view's limits before it runs, gives the hits back after it when its answer
    must not count."""

    def __init__(self, storage: Storage, limits: list[_Limit], counts: Callable[[Response], bool] | None) -> None:
        self.storage, self.limits, self.counts = storage, limits, counts

    def wrap(self, view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def limited(*args, **kwargs):
            self.check()
            return view(*args, **kwargs)

        return limited

    def check(self) -> None:
        """Count a hit on each limit; 429 on the first one past its amount (the shortest window
        first). A refused call counts as Flask-Limiter counted it: on each limit up to the one that
        refused it, not on those after; on a view with `counts`, only if `counts` takes the 429."""
        limits, keys = [], []
        for limit in self.limits:
            value = limit.key_func()
            if value:  # no value, no limit (Flask-Limiter skipped it the same way)
                key = f"{limit.head}{value}{limit.tail}"
                if key not in keys:
                    limits.append(limit)
                    keys.append(key)
        if not keys:
            return
        answers = self._hit([(key, limit.item.get_expiry()) for key, limit in zip(keys, limits, strict=True)])
        windows = [(key, expires_at) for key, (_count, expires_at) in zip(keys, answers, strict=True)]
        for i, (count, expires_at) in enumerate(answers):
            if count > limits[i].item.amount:
                self._give_back(windows[i + 1:])
                if self.counts is not None:
                    after_this_request(functools.partial(self.settle, windows[:i + 1]))
                raise Refused(limits[i].item, max(1, math.ceil(expires_at - time.time())))
        if self.counts is not None:
            after_this_request(functools.partial(self.settle, windows))

    def settle(self, windows: list[tuple[str, float]], response: Response) -> Response:
        """After the answer: one that must not count gives its hits back. A server error never
        counts: its 503 (the database gone) would otherwise count in the database that just failed.
        Giving back can fail for the same reason: the hit then stays (one too many, never one too
        few), and the answer goes out as it is rather than as a 500."""
        assert self.counts is not None
        if response.status_code < 500 and self.counts(response):
            return response
        try:
            self._give_back(windows)
        except self.storage.base_exceptions:
            log.warning("A rate limit's hit could not be given back; it stays counted", exc_info=True)
        return response

    def _hit(self, limits: list[tuple[str, float]]) -> list[tuple[int, float]]:
        if isinstance(self.storage, SqlStorage):
            return self.storage.hit(limits)
        # Another `limits` storage (the sandbox's memory://): one call per limit.
        return [(self.storage.incr(key, int(expiry)), self.storage.get_expiry(key)) for key, expiry in limits]

    def _give_back(self, windows: list[tuple[str, float]]) -> None:
        if not windows:
            return
        if isinstance(self.storage, SqlStorage):
            self.storage.give_back(windows)
        else:
            for key, _expires_at in windows:
                self.storage.decr(key)  # type: ignore[attr-defined]  # install_rate_limits checked it


def install_rate_limits(app: Flask, limits: RateLimits, *, storage_uri: str = f"{SCHEME}://",
                        **storage_options) -> Storage:
    """Wrap every marked view of `app` (call after its blueprints are registered). The storage is
    a `limits` storage URI: this platform's database (the default) or `memory://`."""
    if limits.trusted_proxies:
        # Flask's documented way to add WSGI middleware is to replace this method on the instance.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=limits.trusted_proxies)  # type: ignore[method-assign]
    storage = storage_from_string(storage_uri, **storage_options)
    if not isinstance(storage, SqlStorage) and not (isinstance(storage, Storage) and hasattr(storage, "decr")):
        raise TypeError(f"{storage_uri}: rate limits count in the database or memory://, a storage that "
                        "can give a hit back")
    for endpoint, view in list(app.view_functions.items()):
        marked = getattr(view, "rate_limits", None)
        if marked is None:
            continue
        rules, counts = marked
        checked = [
            # The endpoint twice: Flask-Limiter put it before the scope it was given, which named
            # it already; the same keys keep the windows a deploy finds counting.
            _Limit(item, key_func, f"{item.namespace}/{app.name}/",
                   f"/{endpoint}:{endpoint}:{attribute}/{item.amount}/{item.multiples}/{item.GRANULARITY.name}")
            for attribute, key_func in rules for item in parse_many(getattr(limits, attribute))]
        # The shortest window first: the one a refusal names, as Flask-Limiter ordered them.
        checked.sort(key=lambda limit: limit.item.GRANULARITY.seconds)
        wrapped = _Checker(storage, checked, counts).wrap(view)
        # setattr: the view is a plain function carrying its OpenAPI description (api.endpoint).
        setattr(wrapped, "openapi", getattr(view, "openapi", None))  # noqa: B010
        app.view_functions[endpoint] = wrapped

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        wait = getattr(exc, "retry_after", 1)
        return problem_response(429, "rate_limited", f"Too many requests ({exc.description}); try again in "
                                f"{wait} s.", headers={"Retry-After": str(wait)})

    return storage
