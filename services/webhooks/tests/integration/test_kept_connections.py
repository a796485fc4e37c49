"""Webhooks go over kept connections per endpoint: a real keep-alive receiver, the real worker and database."""
import threading

import pytest

from tillkey.platform import urls
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.receiver import Receiver
from tillkey.webhooks.adapters.http_sender import HttpSender

from .test_delivery import register, settled

pytestmark = pytest.mark.integration


def test_deliveries_to_one_endpoint_share_one_connection(client, service, start_worker):
    with Receiver(keep_alive=True) as merchant:
        register(client, merchant.url + "/hooks")
        for _ in range(5):
            service.dispatcher(sample_envelope("order.created", new_id=True))
        start_worker(service, per_endpoint=1)
        done = settled(client, 5)
    assert {d["status"] for d in done} == {"succeeded"}
    assert len(merchant.snapshot()) == 5 and merchant.connections() == 1


def test_a_receiver_closing_its_kept_connection_between_attempts_fails_no_attempt(client, service, start_worker):
    answers = iter([500, 503, 200])

    def respond(_req):
        # Close the kept connection shortly after answering, before the retry 0.2 s later.
        threading.Timer(0.05, merchant.drop_connections).start()
        return next(answers), {}, b"noted"

    with Receiver(respond, keep_alive=True) as merchant:
        register(client, merchant.url)
        service.dispatcher(sample_envelope("order.created"))
        start_worker(service)
        (delivery,) = settled(client)
    assert [(a["response_status"], a["error"]) for a in delivery["attempts"]] == [
        (500, None), (503, None), (200, None)]
    assert delivery["status"] == "succeeded" and merchant.connections() == 3


def test_a_large_answer_does_not_poison_the_next_webhook():
    answers = iter([b"x" * 300_000, b"second"])
    sender = HttpSender(2.0, allow_private=True)
    with Receiver(lambda req: (200, {}, next(answers)), keep_alive=True) as merchant:
        first = sender.send(merchant.url, "{}", {})
        second = sender.send(merchant.url, "{}", {})
    sender.close()
    assert (first.status, len(first.excerpt), first.error) == (200, 1024, None)
    assert (second.status, second.excerpt, second.error) == (200, "second", None)


def test_the_guard_refuses_loopback_when_private_urls_are_not_allowed():
    sender = HttpSender(2.0, allow_private=False)
    with Receiver(keep_alive=True) as merchant:
        result = sender.send(merchant.url, "{}", {})
    sender.close()
    assert result.status is None and result.error.startswith("refused:") and "loopback" in result.error
    assert merchant.snapshot() == []


def test_a_new_connection_to_a_kept_endpoint_is_checked_again(monkeypatch):
    # Loopback plays the endpoint's public address; then its DNS answer turns private.
    real = urls.forbidden_reason
    monkeypatch.setattr(urls, "forbidden_reason", lambda a: None if a == "127.0.0.1" else real(a))
    answer = ["127.0.0.1"]
    sender = HttpSender(2.0, allow_private=False,
                        resolver=lambda host, port, *_: [(2, 1, 6, "", (answer[0], port))])
    with Receiver(keep_alive=True) as merchant:
        url = f"http://hooks.merchant.example:{merchant.url.rsplit(':', 1)[1]}/"
        assert sender.send(url, "{}", {}).status == 200
        answer[0] = "10.0.0.7"
        merchant.drop_connections()  # the kept connection goes: the next one must pass the guard
        result = sender.send(url, "{}", {})
    sender.close()
    assert result.status is None and "private address 10.0.0.7" in result.error
    assert len(merchant.snapshot()) == 1
