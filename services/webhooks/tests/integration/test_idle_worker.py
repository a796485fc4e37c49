"""An idle delivery worker sleeps until the next delivery it knows of falls due (at most half a
minute, issue 11's idle figure), yet an API call that makes a delivery due now (a ping, a
redelivery) rings it awake, and a retry scheduled by its own send is made on time. Each test would
wait out the 30 s sleep, and time out, if the ring or the due time were not heeded."""
import time

import pytest

from tillkey.testing.messaging import wait_until

from .conftest import Reply, auth
from .test_delivery import register

pytestmark = pytest.mark.integration
IDLE = dict(idle_poll=30.0)


def sleeping_worker(start_worker, service):
    worker = start_worker(service, doorbell=service.engine, **IDLE)
    time.sleep(0.3)  # its first claim found nothing: it sleeps for idle_poll now
    return worker


def delivery(client, delivery_id):
    resp = client.get("/v1/webhook-deliveries", headers=auth())
    return next(d for d in resp.get_json()["data"] if d["delivery_id"] == delivery_id)


def test_a_ping_wakes_the_sleeping_worker_and_its_retry_is_made_when_due(client, service, receivers,
                                                                          start_worker):
    receiver = receivers()
    receiver.script = [Reply(500, body="not yet"), Reply(200, body="pong")]
    ep = register(client, receiver.url)
    sleeping_worker(start_worker, service)

    queued = client.post(f"/v1/webhook-endpoints/{ep['endpoint_id']}/ping", headers=auth()).get_json()

    done = wait_until(lambda: (lambda d: d if d["status"] == "succeeded" else None)(
        delivery(client, queued["delivery_id"])), timeout=10, what="the ping sent, retried and succeeded")
    assert [a["response_status"] for a in done["attempts"]] == [500, 200]


def test_a_redelivery_wakes_the_sleeping_worker(client, service, receivers, start_worker):
    receiver = receivers()
    ep = register(client, receiver.url)
    sleeping_worker(start_worker, service)
    queued = client.post(f"/v1/webhook-endpoints/{ep['endpoint_id']}/ping", headers=auth()).get_json()
    wait_until(lambda: len(receiver.hits) == 1, timeout=10, what="the ping")
    wait_until(lambda: delivery(client, queued["delivery_id"])["status"] == "succeeded", timeout=10,
               what="the ping recorded")
    time.sleep(0.3)  # asleep again

    resp = client.post(f"/v1/webhook-deliveries/{queued['delivery_id']}/redeliver", headers=auth())
    assert resp.status_code in (200, 202), resp.get_json()

    wait_until(lambda: len(receiver.hits) == 2, timeout=10, what="the redelivery")
