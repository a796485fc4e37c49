"""`make run` as a developer meets it: it uses the mail server the settings name, and SIGTERM
(a service manager, an IDE's stop button, `timeout`) or Ctrl-C stops all of it, leaving no
process and no port behind."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest
import requests

from tests.e2e.make_run import MakeRun, alive, port_free
from tillkey.testing import servers
from tillkey.testing.platform_client import PlatformClient
from tillkey.testing.smtp import SmtpSink, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def vhost_url(amqp_server_url):
    url, vhost = servers.create_vhost(amqp_server_url)
    yield url
    servers.delete_vhost(vhost)


def test_make_run_sends_its_emails_to_the_mail_server_the_settings_name(tmp_path, vhost_url):
    sink = SmtpSink(port=free_port()).start()
    run = MakeRun(tmp_path / "var", vhost_url, smtp_port=sink.port)
    try:
        run.start()
        assert "mail-sink" not in (tmp_path / "var" / "Procfile").read_text()   # the operator's server is used
        assert f"127.0.0.1:{sink.port}" in run.text()
        demo = run.demo()
        client = PlatformClient({name: run.url(name) for name in ("orders", "payments", "fulfillment", "sandbox")},
                                "dev-admin-token")
        checkout = client.checkout(demo["product_id"], email="newcomer@example.com")
        assert client.pay_when_ready(checkout)["status"] in ("pending", "succeeded")
        emails = sink.wait_for(2, timeout=60)
        subjects = " | ".join(e.subject for e in emails)
        assert all(e.to == "newcomer@example.com" for e in emails), subjects
        assert re.search(r"payment", subjects, re.I) and re.search(r"licen[cs]e", subjects, re.I), subjects
        assert any("DEMO-" in (e.text or "") for e in emails)
    finally:
        run.stop()
        sink.stop()


@pytest.mark.parametrize("how", ["sigterm-to-make", "sigint-to-the-terminal-group"])
def test_a_signal_stops_every_process_and_frees_every_port_within_15_s(tmp_path, vhost_url, how):
    run = MakeRun(tmp_path / "var", vhost_url, argv=["make", "-s", "run"])
    run.env["RUN_MAIL_SINK"] = "true"      # all 13 processes, the sink on a port of its own
    try:
        run.start()
        assert requests.get(f"{run.url('orders')}/healthz", timeout=5).ok
        started = run.descendants()
        assert len(started) >= 16, started     # make, the launcher, honcho, its 13 processes (and gunicorn's workers)
        if how == "sigterm-to-make":
            os.kill(run.proc.pid, signal.SIGTERM)
        else:
            os.killpg(run.proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            left = [pid for pid in started if alive(pid)]
            busy = [name for name, port in run.ports.items() if not port_free(port)]
            if not left and not busy:
                break
            time.sleep(0.25)
        assert not left, f"still running after 15 s: {left}\n{run.text()[-3000:]}"
        assert not busy, f"ports still taken after 15 s: {busy}"
    finally:
        run.stop()
