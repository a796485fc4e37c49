"""A thin client for end-to-end tests: the calls a merchant, support and a customer make."""
from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import requests

GOOD_CARD = "4242424242424242"


class PlatformClient:
    def __init__(self, urls: dict[str, str], admin_token: str):
        self.urls = urls
        self.admin_token = admin_token
        self.http = requests.Session()

    def call(self, service: str, method: str, path: str, token: str | None = None, expect: int | None = None,
             **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.http.request(method, self.urls[service] + path, headers=headers, timeout=15, **kwargs)
        if expect is not None and resp.status_code != expect:
            raise AssertionError(f"{method} {path} answered {resp.status_code}, expected {expect}: {resp.text[:800]}")
        return resp

    def new_merchant(self, name: str = "Acme Software") -> dict:
        email = f"billing+{uuid.uuid4().hex[:6]}@acme.example"
        return self.call("orders", "POST", "/v1/merchants", self.admin_token, expect=201,
                         json={"name": name, "email": email}).json()

    def new_product(self, api_key: str, name: str = "Pro Editor", prices: dict | None = None) -> dict:
        prices = prices or {"EUR": 4900, "USD": 5400}
        return self.call("orders", "POST", "/v1/products", api_key, expect=201,
                         json={"name": name, "prices": prices, "default_currency": next(iter(prices))}).json()

    def new_endpoint(self, api_key: str, url: str, events: list[str] | None = None) -> dict:
        return self.call("webhooks", "POST", "/v1/webhook-endpoints", api_key, expect=201,
                         json={"url": url, "events": events or ["*"]}).json()

    def checkout(self, product_id: str | None = None, quantity: int = 1, currency: str | None = None,
                 payment_method: str = "card", email: str = "ada@example.com",
                 lines: list[tuple[str, int]] | None = None, **customer) -> dict:
        cart_lines: Sequence[tuple[str | None, int]] = lines or [(product_id, quantity)]
        cart_body: dict[str, object] = {"lines": [{"product_id": p, "quantity": q} for p, q in cart_lines]}
        if currency:
            cart_body["currency"] = currency
        cart = self.call("orders", "POST", "/v1/carts", expect=201, json=cart_body).json()
        body = {
            "customer": {"email": email, "first_name": "Ada", "last_name": "Lovelace", "country": "GB", **customer},
            "payment_method": payment_method,
            "consents": {"terms": True, "personal_data": True},
        }
        return self.call("orders", "POST", f"/v1/carts/{cart['cart_id']}/checkout", expect=201, json=body).json()

    def card_token(self, number: str = GOOD_CARD) -> str:
        """Tokenize at the sandbox gateway, as the payment page's script does."""
        return self.call("sandbox", "POST", "/v1/tokens", expect=201, json={
            "number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"}).json()["payment_token"]

    def pay(self, checkout: dict, method: str = "card", card: str = GOOD_CARD, expect: int = 201) -> dict:
        body = {"method": method}
        if method == "card":
            body["payment_token"] = self.card_token(card)
        return self.call("payments", "POST", f"/v1/orders/{checkout['order_id']}/payments",
                         params={"token": checkout["order_token"]}, json=body, expect=expect).json()

    def try_bank_transfer(self, checkout: dict) -> int:
        """The status code of a payment attempt that needs no card (to see whether payments refuses)."""
        return self.call("payments", "POST", f"/v1/orders/{checkout['order_id']}/payments",
                         params={"token": checkout["order_token"]}, json={"method": "bank_transfer"}).status_code

    def pay_when_ready(self, checkout: dict, **kwargs) -> dict:
        """The payment page waits while payments has not heard of the order yet (409 order_not_ready)."""
        deadline = time.monotonic() + 20
        while True:
            try:
                return self.pay(checkout, **kwargs)
            except AssertionError as exc:
                if "order_not_ready" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def order(self, order_id: str, api_key: str) -> dict:
        return self.call("orders", "GET", f"/v1/orders/{order_id}", api_key, expect=200).json()

    def wait_order(self, order_id: str, api_key: str, predicate, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id, api_key)
            if predicate(order):
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} never matched; last seen: {order}")
            time.sleep(0.2)

    def payments(self, checkout: dict) -> list[dict]:
        return self.call("payments", "GET", f"/v1/orders/{checkout['order_id']}/payments",
                         params={"token": checkout["order_token"]}, expect=200).json()["data"]

    def deliveries(self, checkout: dict) -> list[dict]:
        return self.call("fulfillment", "GET", f"/v1/orders/{checkout['order_id']}/deliveries",
                         params={"token": checkout["order_token"]}, expect=200).json()["data"]
