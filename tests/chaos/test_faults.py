"""The faults an operator's worst day brings, each injected mid-flow into ~30 full orders
(docs/operations.md, "Chaos suite"); every scenario ends in one row of the tally."""
from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from tillkey.devtools.topology import SERVICES

pytestmark = pytest.mark.chaos

RESTART_AFTER = 1.5  # seconds a killed process stays dead, as a supervisor's restart takes


def _kill_and_restart(chaos, *names):
    def fault():
        chaos.kill(*names)
        time.sleep(RESTART_AFTER)
        chaos.restart(*names)
    return fault


@pytest.mark.parametrize("name", [f"{s}-worker" for s in SERVICES])
def test_sigkill_worker(chaos, chaos_tally, name):
    chaos.scenario(chaos_tally, _kill_and_restart(chaos, name)).check()


@pytest.mark.parametrize("name", [f"{s}-api" for s in SERVICES])
def test_sigkill_api(chaos, chaos_tally, name):
    chaos.scenario(chaos_tally, _kill_and_restart(chaos, name)).check()


def test_postgres_immediate_restart(chaos, chaos_tally, private_postgres):
    chaos.scenario(chaos_tally, private_postgres.restart_immediate).check()


@pytest.mark.parametrize("how", ["failing", "slow"])
def test_merchant_endpoint(chaos, chaos_tally, how):
    """500 to every webhook, or the answer after WEBHOOK_TIMEOUT (the sender gave up), for 8 s."""
    switch = getattr(chaos.merchant_side, how)

    def fault():
        switch.set()
        time.sleep(8)
        switch.clear()
    chaos.scenario(chaos_tally, fault).check()


def test_smtp_down(chaos, chaos_tally):
    def fault():
        chaos.mail.stop()
        time.sleep(8)
        chaos.mail.start()
    chaos.scenario(chaos_tally, fault).check()


POISON = [
    b"not json at all",
    b'{"id": "evt_poison", "type": "order.created"}',  # an envelope without its fields
    json.dumps({"id": "evt_x", "type": "order.created", "version": 1, "occurred_at": "yesterday",
                "producer": "chaos", "correlation_id": "c", "causation_id": None,
                "data": {"order_id": 42}}).encode(),  # a known type whose data breaks its contract
    json.dumps({"id": "evt_y", "type": "no.such.event", "version": 9, "occurred_at": "2026-01-01T00:00:00Z",
                "producer": "chaos", "correlation_id": "c", "causation_id": None, "data": {}}).encode(),
    b"\xff\xfe\x00 binary",
]


def test_poison_messages(chaos, chaos_tally):
    queues = [f"{s}.events" for s in SERVICES]
    before = {q: _depth(chaos, q + ".dead") for q in queues}

    def fault():
        conn = pika.BlockingConnection(pika.URLParameters(chaos.config.amqp_url))
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            for queue in queues:
                for body in POISON:
                    channel.basic_publish("", queue, body, pika.BasicProperties(
                        message_id=uuid.uuid4().hex, delivery_mode=pika.DeliveryMode.Persistent))
        finally:
            conn.close()

    chaos.scenario(chaos_tally, fault)
    # Nothing is dropped: every poison message waits in its service's dead letters for a person.
    for queue in queues:
        parked = _depth(chaos, queue + ".dead") - before[queue]
        if parked != len(POISON):
            chaos_tally.count("lost", [f"{queue}: {parked} of {len(POISON)} poison messages in dead letters"])
    chaos_tally.check()


def _depth(chaos, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(chaos.config.amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def test_everything_killed_at_once(chaos, chaos_tally):
    names = ["sandbox-gateway", *(n for n in chaos.platform.procs if n != "sandbox-gateway")]
    chaos.scenario(chaos_tally, _kill_and_restart(chaos, *names)).check()


def test_rabbitmq_stop_start(chaos, chaos_tally, chaos_amqp):
    """The suite's own broker node stopped (`rabbitmqctl stop`) for 8 s, then started from its
    data: the APIs keep answering (they write their outbox), relays and consumers reconnect."""
    _url, nodes = chaos_amqp

    def fault():
        nodes.stop(0)
        time.sleep(8)
        nodes.start(0)

    chaos.scenario(chaos_tally, fault).check()
