"""The steady flow a fault meets: customers buying one pooled product each, as a careful client does.

Every POST carries an Idempotency-Key; a connection error, a 503 with Retry-After, a 409 telling
to come back (`idempotency_in_progress`, `order_not_ready`) or a 429 is retried with the same key
after a pause, as the checkout and payment pages do. Anything else a client could not act on is
written down as unexpected: a 5xx other than 503 with Retry-After, a 503 without it, a connection
error while no fault is being injected, an answer that is not the one the step needs.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

CUSTOMER = {"first_name": "Ada", "last_name": "Lovelace", "country": "GB"}
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
# A retry this long after the fault ended means the platform did not come back: the order is given up.
STEP_DEADLINE = 120.0
PAYMENT_ATTEMPTS = 3
OUTCOME_DEADLINE = 60.0  # a payment still pending after this is written down and tried again


@dataclass
class Bought:
    order_id: str
    order_token: str
    email: str
    paid: bool = False  # the payment attempt was accepted (201)


@dataclass
class Flow:
    urls: dict[str, str]
    product_id: str
    tag: str  # in every customer's address: the mails of one scenario are told apart by it
    merchant_key: str | None = None
    bought: list[Bought] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    failed_attempts: list[str] = field(default_factory=list)  # payments that failed and were tried again
    paid_by_earlier_attempt: list[str] = field(default_factory=list)  # a retry found the order paid
    absorbed: int = 0  # connection errors and 503s met during the fault and retried (the fault was felt)
    # Set while a fault is on (and a grace after): connection errors and 503s are expected then.
    fault_on: threading.Event = field(default_factory=threading.Event)
    fault_ended_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    # -- what a scenario calls ------------------------------------------------------------
    def start(self, orders: int, customers: int = 4) -> Flow:
        remaining = [orders]

        def customer(n: int) -> None:
            http = requests.Session()
            while True:
                with self._lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                    index = remaining[0]
                try:
                    self.buy_one(http, f"chaos.{self.tag}.{index}@example.com")
                except _GaveUp as exc:
                    with self._lock:
                        self.abandoned.append(str(exc))

        self._threads = [threading.Thread(target=customer, args=(n,), daemon=True) for n in range(customers)]
        for t in self._threads:
            t.start()
        return self

    def wait_started(self, count: int, timeout: float = 120) -> None:
        """Until `count` orders were created: the fault goes in mid-flow, not before it."""
        deadline = time.monotonic() + timeout
        while len(self.bought) < count and time.monotonic() < deadline and self.running():
            time.sleep(0.05)

    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def join(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))

    def fault(self) -> _FaultWindow:
        return _FaultWindow(self)

    def paid(self) -> list[Bought]:
        return [b for b in self.bought if b.paid]

    # -- one customer ---------------------------------------------------------------------
    def buy_one(self, http: requests.Session, email: str) -> None:
        cart = self._post(http, "orders", "/v1/carts", {"lines": [{"product_id": self.product_id, "quantity": 1}]})
        order = self._post(http, "orders", f"/v1/carts/{cart['cart_id']}/checkout", {
            "customer": {**CUSTOMER, "email": email}, "payment_method": "card",
            "consents": {"terms": True, "personal_data": True}})
        bought = Bought(order["order_id"], order["order_token"], email)
        with self._lock:
            self.bought.append(bought)
        # As the payment page: pay, follow the attempt to its outcome; a failed attempt (the card
        # gateway unreachable fails it at once so the customer can retry) is tried again.
        for attempt in range(PAYMENT_ATTEMPTS):
            token = self._post(http, "sandbox", "/v1/tokens", CARD)
            try:
                payment = self._post(http, "payments", f"/v1/orders/{order['order_id']}/payments",
                                     {"method": "card", "payment_token": token["payment_token"]},
                                     params={"token": order["order_token"]}, paid_already=attempt > 0)
                status = self._outcome(http, bought, payment)
            except _PaidAlready:
                # 409 order_paid to a retry: the gateway took the earlier attempt's charge although
                # its answer was lost (killed mid-answer), and that late charge paid the order, as
                # it must (the customer paid once). The tally then checks it was delivered as paid.
                self.paid_by_earlier_attempt.append(order["order_id"])
                status = "succeeded"
            if status == "succeeded":
                bought.paid = True
                # The order page asks fulfillment what was delivered (its API is on the customer's path too).
                # 404 until fulfillment has taken order.created in (a worker down makes that longer).
                self._get(http, "fulfillment", f"/v1/orders/{bought.order_id}/deliveries",
                          params={"token": bought.order_token}, not_yet=(404,))
                if self.merchant_key:  # and the merchant's dashboard reads its webhook and email logs
                    merchant = {"Authorization": f"Bearer {self.merchant_key}"}
                    self._get(http, "webhooks", "/v1/webhook-deliveries", params={"limit": 5}, headers=merchant)
                    self._get(http, "notifications", "/v1/messages", params={"limit": 5}, headers=merchant)
                return
            self.failed_attempts.append(f"{order['order_id']}: {status}")
        self._note(f"{order['order_id']}: no payment succeeded in {PAYMENT_ATTEMPTS} attempts")

    def _get(self, http: requests.Session, service: str, path: str, params=None, headers=None,
             not_yet: tuple[int, ...] = ()) -> None:
        deadline = time.monotonic() + STEP_DEADLINE
        while time.monotonic() < deadline:
            try:
                resp = http.get(self.urls[service] + path, params=params, headers=headers, timeout=30)
            except requests.RequestException as exc:
                self._unless_fault(f"GET {path}: {type(exc).__name__} with no fault on")
                time.sleep(0.5)
                continue
            if resp.status_code == 200:
                return
            if resp.status_code in not_yet:
                time.sleep(0.2)
                continue
            if resp.status_code == 503 and resp.headers.get("Retry-After"):
                self._unless_fault(f"GET {path}: 503 with no fault on")
            else:
                self._note(f"GET {path}: {resp.status_code} {resp.text[:160]}")
            time.sleep(0.5)
        raise _GaveUp(f"GET {path}: no answer within {STEP_DEADLINE:.0f}s")

    def _unless_fault(self, what: str) -> None:
        if self._in_fault():
            self.absorbed += 1
        else:
            self._note(what)

    def _outcome(self, http: requests.Session, bought: Bought, payment: dict) -> str:
        """The attempt's final status, read as the payment page polls it."""
        deadline = time.monotonic() + OUTCOME_DEADLINE
        status = payment.get("status")
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                resp = http.get(f"{self.urls['payments']}/v1/orders/{bought.order_id}/payments",
                                params={"token": bought.order_token}, timeout=30)
            except requests.RequestException:
                continue  # the fault's; the next look will tell
            if resp.status_code == 200:
                status = next((p["status"] for p in resp.json()["data"] if p["payment_id"] == payment["payment_id"]),
                              status)
        return f"{status} ({payment.get('failure_code')})" if status == "failed" else status

    def _post(self, http: requests.Session, service: str, path: str, body: dict, params=None,
              paid_already: bool = False) -> dict:
        """The created resource. `paid_already`: a 409 order_paid raises _PaidAlready."""
        key = uuid.uuid4().hex
        deadline = time.monotonic() + STEP_DEADLINE
        last = "nothing"
        while True:
            if time.monotonic() > deadline:
                raise _GaveUp(f"POST {path}: no answer to act on within {STEP_DEADLINE:.0f}s (last: {last})")
            try:
                resp = http.post(self.urls[service] + path, json=body, params=params, timeout=30,
                                 headers={"Idempotency-Key": key})
            except requests.RequestException as exc:
                if not self._in_fault():
                    self._note(f"POST {path}: {type(exc).__name__} with no fault on")
                else:
                    self.absorbed += 1
                time.sleep(0.5)
                continue
            if resp.status_code == 201:
                return resp.json()
            retry_after = resp.headers.get("Retry-After")
            code = _code(resp)
            last = f"{resp.status_code} {code}"
            if resp.status_code == 503 and retry_after and self._in_fault():
                self.absorbed += 1
                time.sleep(min(float(retry_after), 2.0))
                continue
            if paid_already and resp.status_code == 409 and code == "order_paid":
                raise _PaidAlready(path)
            if resp.status_code in (409, 429) and (code in ("idempotency_in_progress", "order_not_ready")
                                                   or retry_after):
                time.sleep(0.1 if code == "order_not_ready" else 0.5)
                continue
            self._note(f"POST {path}: {resp.status_code} {resp.text[:160]}")
            if resp.status_code >= 500:
                time.sleep(0.5)  # counted; a client retries a server error with the same key
                continue
            raise _GaveUp(f"POST {path}: {resp.status_code} {code}")

    def _in_fault(self) -> bool:
        return self.fault_on.is_set() or time.monotonic() - self.fault_ended_at < FAULT_GRACE

    def _note(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)


# After a fault ends, answers still in flight (a restarted API's first seconds, a pool reconnecting)
# may carry it: they are the fault's, not a new problem.
FAULT_GRACE = 10.0


class _FaultWindow:
    def __init__(self, flow: Flow):
        self.flow = flow

    def __enter__(self):
        self.flow.fault_on.set()
        return self

    def __exit__(self, *_exc):
        self.flow.fault_ended_at = time.monotonic()
        self.flow.fault_on.clear()


class _PaidAlready(Exception):
    """A payment retry found the order paid (by an earlier attempt's charge)."""


class _GaveUp(Exception):
    pass


def _code(resp: requests.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
