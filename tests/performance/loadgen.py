"""Customers buying through the real APIs, as the checkout and payment pages make them call.

Each customer: create a cart, check it out, tokenize a card at the sandbox gateway, pay (waiting
out `409 order_not_ready` as the payment page does, but polling every 20 ms so the benchmark
measures the platform and not our patience), then starts the next order at once. `http.client`
with one kept-alive connection per customer and host: a load generator that costs little CPU
leaves more of the two cores to the platform it measures.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CUSTOMER = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "country": "GB"}
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}


class Http:
    """One keep-alive connection per host, for one thread."""

    def __init__(self):
        self._conns: dict[str, http.client.HTTPConnection] = {}

    def post(self, url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            conn = self._conns.get(parts.netloc)
            if conn is None:
                conn = self._conns[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=60)
            try:
                conn.request("POST", path, json.dumps(body), headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, (json.loads(data) if data else {})
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._conns.pop(parts.netloc, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()


@dataclass
class Started:
    order_id: str
    checkout_at: float  # wall clock (time.time), comparable with the receiver's arrival times
    answered_at: float = 0.0  # the checkout's 201
    paid_at: float = 0.0  # the payment attempt's 201


@dataclass
class Load:
    urls: dict[str, str]
    product_id: str
    started: list[Started] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_ready_waits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def buy_one(self, http_: Http) -> None:
        status, cart = http_.post(f"{self.urls['orders']}/v1/carts",
                                  {"lines": [{"product_id": self.product_id, "quantity": 1}]})
        if status != 201:
            raise AssertionError(f"cart: {status} {cart}")
        at = time.time()
        status, order = http_.post(f"{self.urls['orders']}/v1/carts/{cart['cart_id']}/checkout", {
            "customer": CUSTOMER, "payment_method": "card", "consents": {"terms": True, "personal_data": True}})
        if status != 201:
            raise AssertionError(f"checkout: {status} {order}")
        started = Started(order["order_id"], at, answered_at=time.time())
        with self._lock:
            self.started.append(started)
        status, token = http_.post(f"{self.urls['sandbox']}/v1/tokens", CARD)
        if status != 201:
            raise AssertionError(f"token: {status} {token}")
        pay_url = f"{self.urls['payments']}/v1/orders/{order['order_id']}/payments?token={order['order_token']}"
        deadline = time.monotonic() + 60
        while True:
            status, payment = http_.post(pay_url, {"method": "card", "payment_token": token["payment_token"]})
            if status == 201:
                started.paid_at = time.time()
                return
            if status == 409 and payment.get("code") == "order_not_ready" and time.monotonic() < deadline:
                with self._lock:
                    self.not_ready_waits += 1
                time.sleep(0.02)
                continue
            raise AssertionError(f"payment: {status} {payment}")

    def run(self, orders: int, customers: int) -> float:
        """Buy `orders` orders with `customers` concurrent customers; returns the seconds it took."""
        remaining = [orders]

        def customer() -> None:
            http_ = Http()
            try:
                while True:
                    with self._lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    try:
                        self.buy_one(http_)
                    except Exception as exc:  # noqa: BLE001 — counted and reported, the run goes on
                        with self._lock:
                            self.errors.append(repr(exc)[:300])
            finally:
                http_.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=customer, daemon=True) for _ in range(customers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started
