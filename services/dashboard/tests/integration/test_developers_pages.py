"""Webhook endpoints and deliveries pages: the secret shown once, forms checked before any call,
another merchant's endpoint or delivery a 404 (the webhooks API decides; played by the fake here)."""
from __future__ import annotations

import re

import pytest

from tillkey.dashboard.service_layer.errors import Rejected

from .conftest import ByParams, create_user, csrf_token, sign_in

pytestmark = pytest.mark.integration

ENDPOINT = {"endpoint_id": "we_1", "url": "https://shop.example/hooks", "events": ["*"], "description": None,
            "enabled": True, "disabled_reason": None, "created_at": "2026-01-02T10:00:00Z"}


@pytest.fixture
def signed_in(app, api):
    api.answers[("webhooks", "GET", "/v1/webhook-endpoints")] = {"data": [ENDPOINT], "next_cursor": None}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


def test_a_new_endpoints_secret_is_shown_on_the_answer_only(signed_in, api):
    api.answers[("webhooks", "POST", "/v1/webhook-endpoints")] = lambda body: {**ENDPOINT, **body,
                                                                               "secret": "whsec_c2VjcmV0"}
    token = csrf_token(signed_in, "/developers/webhooks")
    resp = signed_in.post("/developers/webhooks", data={"csrf_token": token, "url": "https://shop.example/hooks",
                                                        "events": ["order.created", "payment.refunded", "bogus"]})
    assert resp.status_code == 201 and "whsec_c2VjcmV0" in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    posted = [c[5] for c in api.calls if c[1] == "POST"]
    assert posted == [{"url": "https://shop.example/hooks", "events": ["order.created", "payment.refunded"],
                       "description": None}]
    assert "whsec_c2VjcmV0" not in signed_in.get("/developers/webhooks").get_data(as_text=True)


@pytest.mark.parametrize("fields", [{"url": "ftp://x", "events": ["*"]}, {"url": "https://x.example", "events": []}])
def test_a_wrong_endpoint_form_sends_nothing(signed_in, api, fields):
    token = csrf_token(signed_in, "/developers/webhooks")
    resp = signed_in.post("/developers/webhooks", data={"csrf_token": token, **fields})
    assert resp.status_code == 422
    assert [c for c in api.calls if c[1] != "GET"] == []


def test_actions_on_an_endpoint_or_delivery_that_is_not_the_merchants_are_404(signed_in, api):
    token = csrf_token(signed_in, "/developers/webhooks")
    for path in ("/developers/webhooks/we_other/enabled", "/developers/webhooks/we_other/rotate-secret",
                 "/developers/webhooks/we_other/delete", "/developers/webhooks/deliveries/wd_other/redeliver",
                 "/developers/webhooks/we..%2F..%2Fv1/delete"):
        assert signed_in.post(path, data={"csrf_token": token, "enabled": "false"}).status_code == 404, path
    assert signed_in.post("/developers/webhooks/we_1/delete", data={}).status_code == 400     # no CSRF token
    assert all("../" not in c[2] for c in api.calls)


def test_rotating_shows_the_new_secret_and_the_24_hour_overlap(signed_in, api):
    api.answers[("webhooks", "POST", "/v1/webhook-endpoints/we_1/rotate-secret")] = {"endpoint_id": "we_1",
                                                                                      "secret": "whsec_bmV3"}
    resp = signed_in.post("/developers/webhooks/we_1/rotate-secret",
                          data={"csrf_token": csrf_token(signed_in, "/developers/webhooks")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "whsec_bmV3" in html and re.search(r"For 24 hours", html)


def test_the_delivery_log_passes_only_known_filters(signed_in, api):
    api.answers[("webhooks", "GET", "/v1/webhook-deliveries")] = {"data": [], "next_cursor": None}
    assert signed_in.get("/developers/webhooks/deliveries?status=bogus&endpoint_id=we_1&x=1").status_code == 200
    assert api.calls[-1][4] == {"limit": 50, "endpoint_id": "we_1"}


def test_an_action_the_service_refuses_is_a_page_with_its_reason_not_a_500(signed_in, api):
    def refuse(body):
        raise Rejected("The endpoint is deleted.")

    api.answers[("webhooks", "PATCH", "/v1/webhook-endpoints/we_1")] = refuse
    resp = signed_in.post("/developers/webhooks/we_1/enabled",
                          data={"csrf_token": csrf_token(signed_in, "/developers/webhooks"), "enabled": "true"})
    assert resp.status_code == 422 and "The endpoint is deleted." in resp.get_data(as_text=True)


# -- send a test event, edit an endpoint -------------------------------------------------------------------
def test_send_test_event_pings_the_endpoint_once_per_form_and_shows_its_delivery(signed_in, api):
    api.answers[("webhooks", "POST", "/v1/webhook-endpoints/we_1/ping")] = lambda body: {
        "delivery_id": "whd_9", "event_type": "ping", "status": "pending", "attempts": []}
    html = signed_in.get("/developers/webhooks").get_data(as_text=True)
    assert 'action="/developers/webhooks/we_1/ping"' in html
    form = {n: re.search(rf'name="{n}" value="([^"]+)"', html).group(1) for n in ("csrf_token", "form_key")}
    assert signed_in.post("/developers/webhooks/we_1/ping", data={"form_key": form["form_key"]}).status_code == 400
    # Another merchant's endpoint: the webhooks API answers 404 (played by the fake), so does the page.
    assert signed_in.post("/developers/webhooks/we_2/ping", data=form).status_code == 404
    assert signed_in.post("/developers/webhooks/we_1/ping", data={**form, "form_key": "short"}).status_code == 422
    for _ in range(2):
        resp = signed_in.post("/developers/webhooks/we_1/ping", data=form)
        assert resp.status_code == 303
        assert resp.headers["Location"] == "/developers/webhooks/deliveries?endpoint_id=we_1&pinged=whd_9"
    pings = [k for c, k in zip(api.calls, api.idempotency_keys, strict=True) if c[2].endswith("we_1/ping")]
    assert [c[2] for c in api.calls if c[1] == "POST"] == [
        "/v1/webhook-endpoints/we_2/ping"] + ["/v1/webhook-endpoints/we_1/ping"] * 2
    assert pings == [f"dashboard-ping-we_1-{form['form_key']}"] * 2
    api.answers[("webhooks", "GET", "/v1/webhook-deliveries")] = {"data": [
        {"delivery_id": "whd_9", "endpoint_id": "we_1", "event_id": "evt_1", "event_type": "ping",
         "status": "pending", "attempts": [], "payload": {"type": "ping"}, "created_at": "2026-01-02T10:00:00Z"}],
        "next_cursor": None}
    log = signed_in.get("/developers/webhooks/deliveries?endpoint_id=we_1&pinged=whd_9").get_data(as_text=True)
    assert 'id="pinged"' in log and 'data-delivery-id="whd_9" open' in log


def test_an_endpoint_is_edited_from_its_form(signed_in, api):
    api.answers[("webhooks", "PATCH", "/v1/webhook-endpoints/we_1")] = lambda body: {**ENDPOINT, **body}
    page = signed_in.get("/developers/webhooks/we_1/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="https://shop.example/hooks"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = signed_in.post("/developers/webhooks/we_1/edit", data={
        "csrf_token": token, "url": "https://shop.example/v2/hooks", "events": ["order.created", "bogus"],
        "description": " new shop "})
    assert done.status_code == 303 and done.headers["Location"].endswith("changed=saved")
    patched = [c[5] for c in api.calls if c[1] == "PATCH"]
    assert patched == [{"url": "https://shop.example/v2/hooks", "events": ["order.created"],
                        "description": "new shop"}]
    cleared = signed_in.post("/developers/webhooks/we_1/edit", data={"csrf_token": token, "url": ENDPOINT["url"],
                                                                     "events": ["*"], "description": ""})
    assert cleared.status_code == 303 and api.calls[-1][5]["description"] == ""


@pytest.mark.parametrize("form, field", [({"url": "ftp://x", "events": ["*"]}, "url"),
                                         ({"url": "https://shop.example/h"}, "events"),
                                         ({"url": "https://shop.example/h", "events": ["*"],
                                           "description": "d" * 501}, "description")])
def test_a_wrong_edit_is_answered_on_the_form_and_nothing_is_sent(signed_in, api, form, field):
    token = csrf_token(signed_in, "/developers/webhooks/we_1/edit")
    resp = signed_in.post("/developers/webhooks/we_1/edit", data={"csrf_token": token, **form})
    assert resp.status_code == 422 and f'id="e-{field}"' in resp.get_data(as_text=True)
    assert [c for c in api.calls if c[1] == "PATCH"] == []


def test_another_merchants_endpoint_cannot_be_edited(signed_in, api):
    token = csrf_token(signed_in, "/developers/webhooks")
    assert signed_in.get("/developers/webhooks/we_2/edit").status_code == 404
    assert signed_in.post("/developers/webhooks/we_2/edit", data={
        "csrf_token": token, "url": "https://evil.example/h", "events": ["*"]}).status_code == 404
    assert [c for c in api.calls if c[1] == "PATCH"] == []


def test_the_delivery_log_of_one_order_keeps_the_order_on_its_next_page(signed_in, api):
    api.answers[("webhooks", "GET", "/v1/webhook-deliveries")] = ByParams(lambda params: {"data": [
        {"delivery_id": "whd_1", "endpoint_id": "we_1", "event_id": "evt_1", "event_type": "order.created",
         "status": "succeeded", "attempts": [], "payload": {}, "created_at": "2026-01-02T10:00:00Z"}]
        if params.get("order_id") == "ord_1" else [], "next_cursor": "c2"})
    html = signed_in.get("/developers/webhooks/deliveries?order_id=ord_1").get_data(as_text=True)
    assert 'data-delivery-id="whd_1"' in html and api.calls[-1][4] == {"limit": 50, "order_id": "ord_1"}
    older = re.search(r'href="(/developers/webhooks/deliveries\?[^"]*cursor=c2[^"]*)"', html).group(1)
    assert "order_id=ord_1" in older and 'name="order_id" value="ord_1"' in html
