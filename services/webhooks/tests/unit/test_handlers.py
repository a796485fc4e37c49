"""The HTTP use cases and the worker's, through the handler table with the fake unit of work."""
from datetime import timedelta

import pytest

from tillkey.contracts.errors import Conflict
from tillkey.webhooks.domain.model import Delivery, WebhookEvent
from tillkey.webhooks.domain.policy import SendResult
from tillkey.webhooks.service_layer import delivering
from tillkey.webhooks.service_layer import endpoints as uc
from tillkey.webhooks.service_layer.deliveries import Redeliver
from tillkey.webhooks.service_layer.errors import Invalid, NotFound
from tillkey.webhooks.service_layer.handlers import HANDLERS
from tillkey.webhooks.service_layer.pinging import Ping
from tillkey.webhooks.service_layer.views import ListDeliveries, ListDisabledEndpoints, ListEndpoints

from .conftest import FakeUnitOfWork, make_deps

MERCHANT = "mer_7Yb2kQ9xTz"


class Service:
    def __init__(self):
        self.uow = FakeUnitOfWork()
        self.deps = make_deps()

    def __call__(self, cmd):
        with self.uow:
            return HANDLERS[type(cmd)](cmd, self.uow, self.deps)


@pytest.fixture
def svc():
    return Service()


def test_create_shows_the_secret_once_and_the_list_never(svc):
    created = svc(uc.CreateEndpoint(MERCHANT, "https://m.example/h", ["order.created", "order.created"]))
    assert created["endpoint_id"] == "ep_000001" and created["secret"] == "whsec_test1"
    assert created["events"] == ["order.created"] and created["enabled"] and svc.uow.commits == 1
    page = svc(ListEndpoints(MERCHANT))
    assert [e["endpoint_id"] for e in page["data"]] == ["ep_000001"] and "secret" not in page["data"][0]
    assert svc(ListEndpoints("mer_other"))["data"] == []


def test_a_refused_url_is_invalid_and_nothing_is_stored(svc):
    with pytest.raises(Invalid):
        svc(uc.CreateEndpoint(MERCHANT, "https://forbidden.example/h", ["*"]))
    assert svc.uow.added == [] and svc.uow.commits == 0


def test_another_merchants_endpoint_is_not_found(svc):
    created = svc(uc.CreateEndpoint(MERCHANT, "https://m.example/h", ["*"]))
    with pytest.raises(NotFound):
        svc(uc.RotateSecret("mer_other", created["endpoint_id"]))
    assert svc(uc.RotateSecret(MERCHANT, created["endpoint_id"])) == {"endpoint_id": created["endpoint_id"],
                                                                       "secret": "whsec_test2"}


def test_ping_queues_a_delivery_and_disabling_abandons_it_and_refuses_the_next(svc):
    endpoint_id = svc(uc.CreateEndpoint(MERCHANT, "https://m.example/h", ["*"]))["endpoint_id"]
    answer = svc(Ping(MERCHANT, endpoint_id))
    assert answer["event_type"] == "ping" and answer["payload"]["data"] == {"endpoint_id": endpoint_id,
                                                                            "url": "https://m.example/h"}
    assert answer["payload"]["sequence"] is None and answer["attempts"] == []
    svc(uc.UpdateEndpoint(MERCHANT, endpoint_id, enabled=False))
    assert [d.status for d in svc.uow.of(Delivery)] == ["failed"]
    with pytest.raises(Conflict):
        svc(Ping(MERCHANT, endpoint_id))
    with pytest.raises(Conflict):
        svc(Redeliver(MERCHANT, answer["delivery_id"]))
    assert svc(ListDeliveries(MERCHANT))["data"][0]["status"] == "failed"


def test_the_worker_claims_sends_once_and_records_with_the_injected_clock_and_ids(svc):
    endpoint_id = svc(uc.CreateEndpoint(MERCHANT, "https://m.example/h", ["*"]))["endpoint_id"]
    delivery_id = svc(Ping(MERCHANT, endpoint_id))["delivery_id"]
    (job,) = svc(delivering.ClaimDueDeliveries(10, timedelta(minutes=1), 4, {}))
    assert job.delivery_id == delivery_id and job.body == svc.uow.of(WebhookEvent)[0].body
    assert svc(delivering.ClaimDueDeliveries(10, timedelta(minutes=1), 4, {})) == []  # leased
    now = svc.deps.clock.now()
    svc(delivering.RecordAttempts([delivering.Finished(job, SendResult(5, 204), now, 0.5)], (60.0,)))
    (delivery,) = svc(ListDeliveries(MERCHANT))["data"]
    assert delivery["status"] == "succeeded" and delivery["last_attempt_at"] == now
    assert [a.attempt_id for a in delivery["attempts"]] == ["wha_000004"]


def test_an_operator_lists_disabled_endpoints_and_enables_one(svc):
    endpoint_id = svc(uc.CreateEndpoint(MERCHANT, "https://m.example/h", ["*"]))["endpoint_id"]
    svc(uc.UpdateEndpoint(MERCHANT, endpoint_id, enabled=False))
    assert svc(ListDisabledEndpoints()) == [{"endpoint_id": endpoint_id, "merchant_id": MERCHANT,
                                             "disabled_reason": "disabled by the merchant"}]
    assert svc(uc.EnableEndpoint(endpoint_id))["enabled"] is True
    assert svc(ListDisabledEndpoints()) == [] and svc(uc.EnableEndpoint("ep_nope")) is None
