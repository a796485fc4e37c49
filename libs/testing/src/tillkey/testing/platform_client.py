"""A thin client for end-to-end tests: the calls a merchant, support and a customer make."""
from __future__ import annotations

import uuid

import requests


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

    def checkout(self, product_id: str, quantity: int = 1, currency: str | None = None,
                 payment_method: str = "card", email: str = "ada@example.com", **customer) -> dict:
        cart_body = {"lines": [{"product_id": product_id, "quantity": quantity}]}
        if currency:
            cart_body["currency"] = currency
        cart = self.call("orders", "POST", "/v1/carts", expect=201, json=cart_body).json()
        body = {
            "customer": {"email": email, "first_name": "Ada", "last_name": "Lovelace", "country": "GB", **customer},
            "payment_method": payment_method,
            "consents": {"terms": True, "personal_data": True},
        }
        return self.call("orders", "POST", f"/v1/carts/{cart['cart_id']}/checkout", expect=201, json=body).json()
