"""The payments app on a real HTTP port (gateways post notifications to it) and the sandbox next to it."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from tillkey.contracts import signing
from tillkey.payments.adapters import tables
from tillkey.platform import credentials

NOTIFY_PATH = "/v1/gateways/sandbox/notifications"


class LiveServer:
    """A Flask app served by werkzeug on a thread, on a port chosen before the app is built."""

    def __init__(self, port: int):
        self.port = port
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, app) -> LiveServer:
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.thread.join(10)


@dataclass
class Shop:
    """Helpers over one live payments service: the customer's calls and what the database holds."""

    url: str
    sandbox_url: str
    sandbox_secret: str
    service: object
    secret: str
    admin: str
    http: requests.Session = field(default_factory=requests.Session)

    def token(self, order_id: str) -> str:
        return credentials.make_order_token(self.secret, order_id)

    def card_token(self, number: str = "4242424242424242") -> str:
        resp = requests.post(self.sandbox_url + "/v1/tokens", timeout=10, json={
            "number": number, "exp_month": 12, "exp_year": time.gmtime().tm_year + 3, "cvc": "123"})
        assert resp.status_code == 201, resp.text
        return resp.json()["payment_token"]

    def pay(self, order_id: str, method: str, payment_token: str | None = None, headers=None, expect=201, **extra):
        body = {"method": method, **({"payment_token": payment_token} if payment_token else {}), **extra}
        resp = self.http.post(f"{self.url}/v1/orders/{order_id}/payments", params={"token": self.token(order_id)},
                              json=body, headers=headers or {}, timeout=30)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def pay_by_card(self, order_id: str, number: str = "4242424242424242") -> dict:
        return self.pay(order_id, "card", self.card_token(number))

    def payments(self, order_id: str) -> list[dict]:
        resp = self.http.get(f"{self.url}/v1/orders/{order_id}/payments",
                             headers={"Authorization": f"Bearer {self.admin}"}, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()["data"]

    def payment(self, order_id: str, payment_id: str) -> dict:
        return next(p for p in self.payments(order_id) if p["payment_id"] == payment_id)

    def wait_status(self, order_id: str, payment_id: str, *statuses: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            p = self.payment(order_id, payment_id)
            if p["status"] in statuses:
                return p
            if time.monotonic() > deadline:
                raise AssertionError(f"{payment_id} is still {p['status']} after {timeout}s, not {statuses}")
            time.sleep(0.05)

    def events(self, routing_key: str | None = None) -> list[dict]:
        with self.service.session_factory() as s:
            rows = s.execute(select(tables.outbox.c.routing_key, tables.outbox.c.body)
                             .order_by(tables.outbox.c.seq)).all()
        return [json.loads(b) for k, b in rows if routing_key is None or k == routing_key]

    def rows(self, table) -> list:
        with self.service.session_factory() as s:
            return s.execute(select(table)).all()

    def order_status(self, order_id: str) -> str:
        with self.service.uow_factory() as uow:
            return uow.orders.get(order_id).status

    def notify(self, type_: str, data: dict, *, secret: str | None = None, timestamp: int | None = None,
               notification_id: str | None = None) -> requests.Response:
        """A notification as the sandbox signs it (Standard Webhooks), to replay or forge one."""
        ntf_id = notification_id or "ntf_" + uuid.uuid4().hex
        body = json.dumps({"id": ntf_id, "type": type_, "created_at": "2026-01-01T00:00:00.000Z", "data": data})
        headers = {"Content-Type": "application/json",
                   **signing.headers([secret or self.sandbox_secret], ntf_id, timestamp or int(time.time()), body)}
        return self.http.post(self.url + NOTIFY_PATH, data=body.encode(), headers=headers, timeout=10)
