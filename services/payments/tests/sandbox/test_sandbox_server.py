"""The sandbox process as served (server.py): kept connections, exactly one worker and notifier,
and the signals — SIGTERM stops it cleanly, SIGKILL leaves nothing running."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests
import urllib3

from tillkey.payments.adapters.sandbox_gateway import SandboxGateway
from tillkey.testing.receiver import Receiver

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie runs nothing: it only waits for its parent to reap it


def _connections_opened(http: requests.Session | urllib3.PoolManager, url: str) -> int:
    """How many TCP connections this client has opened to `url` so far (its urllib3 pools count)."""
    manager = http.get_adapter(url).poolmanager if isinstance(http, requests.Session) else http
    return sum(manager.pools[key].num_connections for key in manager.pools.keys())


def test_payments_keeps_one_connection_for_all_its_calls(sandbox, gateway, receiver, h):
    browser = requests.Session()  # the payment page's script, kept-alive as a browser does
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": time.gmtime().tm_year + 3, "cvc": "123"}
    for _ in range(10):
        resp = browser.post(sandbox.url + "/v1/tokens", json=card, timeout=5)
        assert resp.status_code == 201
        assert resp.headers.get("Connection", "").lower() != "close"
        charge = gateway.charge(h.new_payment_id(), resp.json()["payment_token"], 100, "EUR", h.notify_url(receiver))
        assert gateway.get_charge(charge.charge_id).charge_id == charge.charge_id
    # 10 tokens and 20 calls of the adapter: one connection each (werkzeug's server closed every one).
    assert _connections_opened(browser, sandbox.url) == 1
    assert _connections_opened(gateway.http, sandbox.url) == 1


def test_calling_threads_share_the_pool_and_keep_their_connections(sandbox, sandbox_secret, receiver, h):
    gateway = SandboxGateway(sandbox.url, sandbox_secret)
    failures: list[BaseException] = []

    def pay() -> None:
        try:
            for _ in range(5):
                gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 100, "EUR", h.notify_url(receiver))
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not failures
    # 20 charges from 4 threads at once: at most a connection per thread, each kept for the next call.
    assert 1 <= _connections_opened(gateway.http, sandbox.url) <= 4


def test_the_notifier_keeps_its_connection_to_a_kept_alive_receiver(sandbox, gateway, h):
    with Receiver(keep_alive=True) as receiver:
        for _ in range(12):  # one after the other: each notification goes out alone
            charge = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 100, "EUR", h.notify_url(receiver))
            h.wait_notification(receiver, charge.charge_id)
        peers = {r.peer for r in receiver.snapshot()}
    # A connection per sending thread (SANDBOX_NOTIFY_CONCURRENCY, 8), not one per notification.
    assert len(peers) <= 8


def test_a_kept_connection_the_receiver_closed_costs_no_retry(sandbox, gateway, h):
    with Receiver(keep_alive=True) as receiver:
        first = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 100, "EUR", h.notify_url(receiver))
        h.wait_notification(receiver, first.charge_id)
        receiver.drop_connections()  # as a server's keep-alive timeout does
        second = gateway.charge(h.new_payment_id(), h.tokenize(sandbox.url), 100, "EUR", h.notify_url(receiver))
        h.wait_notification(receiver, second.charge_id)
    # The sandbox's record: delivered at the first attempt (a new connection at once), not a failed
    # try and a retry after the schedule's delay.
    deadline = time.monotonic() + 5
    while (row := _notification(sandbox, second.charge_id))["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 1, None)


def _notification(sandbox, charge_id: str) -> sqlite3.Row:
    with closing(sqlite3.connect(sandbox.db_path)) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT status, attempts, last_error FROM notifications WHERE body LIKE ?",
                          (f"%{charge_id}%",)).fetchone()


def test_exactly_one_worker_whatever_the_environment_or_the_signals_say(make_sandbox):
    proc = make_sandbox(WEB_CONCURRENCY="4", GUNICORN_CMD_ARGS="--workers 3").start()
    assert proc.proc is not None
    (worker,) = _children(proc.proc.pid)
    for sig in (signal.SIGTTIN, signal.SIGHUP, signal.SIGUSR2):  # more workers, reload, a new master
        os.kill(proc.proc.pid, sig)
    time.sleep(1.5)  # gunicorn would have forked by now
    assert _children(proc.proc.pid) == [worker]
    assert requests.get(proc.url + "/healthz", timeout=5).ok
    assert proc.log_text().count("sandbox gateway listening on") == 1


def test_sigterm_finishes_and_joins_the_notifier(make_sandbox):
    proc = make_sandbox().start()
    assert proc.proc is not None
    (worker,) = _children(proc.proc.pid)
    proc.stop(signal.SIGTERM)
    assert proc.proc.returncode == 0
    assert not _running(worker)
    assert "sandbox gateway stopped" in proc.log_text()  # logged once the notifier was joined


def test_a_sigkill_leaves_no_worker_and_no_notifier_behind(make_sandbox):
    proc = make_sandbox().start()
    assert proc.proc is not None
    (worker,) = _children(proc.proc.pid)
    os.kill(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(timeout=5)
    deadline = time.monotonic() + 0.5  # the kernel kills it with the master, not after gunicorn's 1 s check
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(worker)
    with pytest.raises(requests.ConnectionError):  # nothing still answers on the port
        requests.get(proc.url + "/healthz", timeout=2)
