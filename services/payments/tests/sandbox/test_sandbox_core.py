"""Gateway and Worker in-process: a temporary SQLite file, a fake clock and a fake HTTP client."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import pytest

from tillkey.contracts import signing
from tillkey.payments.sandbox.gateway import Gateway
from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.payments.sandbox.store import Store
from tillkey.payments.sandbox.validation import GatewayProblem
from tillkey.payments.sandbox.worker import Worker
from tillkey.platform.outbound import Answer, OutboundFailed

SECRET = signing.new_secret()


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeHttp:
    """Answers each POST with the next scripted status (an exception instance is raised)."""

    script: list = field(default_factory=list)
    posts: list = field(default_factory=list)

    def post(self, url, body, headers, *, timeout, max_bytes):
        self.posts.append((url, body.decode(), headers))
        outcome = self.script.pop(0) if self.script else 200
        if isinstance(outcome, Exception):
            raise outcome
        return Answer(outcome, {}, b"")


@pytest.fixture
def env(tmp_path):
    store = Store(tmp_path / "s.db")
    store.migrate()
    clock, http = Clock(), FakeHttp()
    settings = SandboxSettings(secret=SECRET, settle_delay=0.2, retry_schedule=(10, 60, 3600), give_up_after=86400)
    return Gateway(store, 0.2, clock=clock), Worker(store, settings, clock=clock, http=http), clock, http


def _token(gw: Gateway, number="4242424242424242") -> str:
    return gw.tokenize(number, 12, 2030)["payment_token"]


def _charge(gw: Gateway, key="k1", **over):
    req = {"payment_token": _token(gw), "amount": 100, "currency": "EUR", "reference": "pay_1",
           "notification_url": "http://payments/n", "metadata": {}, **over}
    return gw.charge(key, req)


def test_a_charge_settles_after_the_delay_and_its_notification_is_signed(env):
    gw, worker, clock, http = env
    answer = _charge(gw)
    assert answer.status == 202 and answer.body["status"] == "pending"
    worker.tick()
    assert http.posts == []  # not due yet
    clock.now += 0.2
    worker.tick()
    (url, body, headers), = http.posts
    assert url == "http://payments/n"
    assert signing.verify(SECRET, headers, body, now=clock.now) == json.loads(body)["id"]
    assert json.loads(body)["data"]["status"] == "succeeded"
    assert gw.get_charge(answer.body["charge_id"])["status"] == "succeeded"
    worker.tick()
    assert len(http.posts) == 1


def test_a_refused_notification_follows_the_schedule_then_gives_up_after_about_a_day(env):
    gw, worker, clock, http = env
    http.script = [500, OutboundFailed("down")] + [503] * 100
    _charge(gw)
    clock.now += 1
    worker.tick()
    worker.tick()
    assert len(http.posts) == 1  # next try in 10 s
    clock.now += 10
    worker.tick()
    assert len(http.posts) == 2
    clock.now += 59
    worker.tick()
    assert len(http.posts) == 2
    clock.now += 1
    worker.tick()
    assert len(http.posts) == 3
    for _ in range(30):
        clock.now += 3600
        worker.tick()
    tried = len(http.posts)
    assert 20 <= tried <= 27  # hourly, until a day has passed
    with gw.store.read() as db:
        row = db.execute("SELECT status, attempts, last_status FROM notifications").fetchone()
    assert (row["status"], row["attempts"], row["last_status"]) == ("failed", tried, 503)
    assert len({p[2]["webhook-id"] for p in http.posts}) == 1


def test_the_unavailable_card_counts_tries_per_key(env):
    gw, *_ = env
    token = _token(gw, "4000000000000119")
    req = {"payment_token": token, "amount": 1, "currency": "EUR", "reference": "r", "notification_url": "http://n",
           "metadata": {}}
    for key in ("a", "a", "b"):
        with pytest.raises(GatewayProblem) as err:
            gw.charge(key, req)
        assert err.value.status == 503
    assert gw.charge("a", req).status == 202
    with pytest.raises(GatewayProblem) as err:  # another key with the same token: it is used now
        gw.charge("b", req)
    assert err.value.code == "token_used"


def test_refund_amounts_are_reserved_while_pending(env):
    gw, worker, clock, _http = env
    charge_id = _charge(gw, amount=1000).body["charge_id"]
    refund = lambda key, amount: gw.refund(key, {"charge_id": charge_id, "amount": amount, "reference": key,
                                                 "notification_url": "http://n"})
    with pytest.raises(GatewayProblem) as err:
        refund("r0", 10)
    assert err.value.code == "charge_not_refundable"  # still pending
    clock.now += 1
    worker.tick()
    assert refund("r1", 600).status == 202
    with pytest.raises(GatewayProblem) as err:
        refund("r2", 401)
    assert err.value.errors == {"amount": ["Must be at most 400."]}
    assert refund("r2", 400).status == 202
    clock.now += 1
    worker.tick()
    assert gw.get_charge(charge_id)["amount_refunded"] == 1000


def test_tokens_keep_no_card_number(env):
    gw, *_ = env
    out = gw.tokenize("4000000000009995", 1, 2031)
    assert (out["brand"], out["last4"]) == ("visa", "9995")
    with gw.store.read() as db:
        row = dict(db.execute("SELECT * FROM tokens").fetchone())
    assert "4000000000009995" not in json.dumps(row)
    assert row["behaviour"] == "insufficient_funds"


def _running_worker(tmp_path, settle_delay: float, poll_interval: float):
    store = Store(tmp_path / "run.db")
    store.migrate()
    http = FakeHttp()
    settings = SandboxSettings(secret=SECRET, settle_delay=settle_delay, poll_interval=poll_interval)
    worker = Worker(store, settings, http=http)
    passes = []
    tick = worker.tick
    worker.tick = lambda: passes.append(1) or tick()  # type: ignore[method-assign]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return Gateway(store, settle_delay), worker, http, passes, thread


def _settled(http: FakeHttp, count: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while len(http.posts) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(http.posts) >= count


def test_a_new_charge_wakes_a_notifier_on_a_long_nap(tmp_path):
    gw, worker, http, _passes, thread = _running_worker(tmp_path, settle_delay=0.05, poll_interval=30)
    try:
        time.sleep(0.2)  # napping: nothing is due, the next look is the poll interval away
        _charge(gw)
        worker.wake()
        assert _settled(http, 1, within=5)  # not after the 30 s poll interval
    finally:
        worker.stop()
        thread.join(timeout=5)


def test_charges_due_after_the_nap_ends_do_not_wake_the_notifier(tmp_path):
    gw, worker, http, passes, thread = _running_worker(tmp_path, settle_delay=1.0, poll_interval=30)
    try:
        _charge(gw, key="first")
        worker.wake()
        time.sleep(0.1)  # the notifier now naps until the first charge falls due
        before = len(passes)
        for i in range(10):  # due later than that: no pass for them now
            _charge(gw, key=f"k{i}")
            worker.wake()
        time.sleep(0.2)  # time for a pass, were it woken; still before the first charge is due
        assert len(passes) == before  # no pass (three reads for nothing) per nudge
        assert _settled(http, 11, within=10)
    finally:
        worker.stop()
        thread.join(timeout=5)
