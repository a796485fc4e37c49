"""Issue 13: a broker outage through the real processes. The APIs stay ready and keep taking
checkouts (they only write the outbox), the outbox backlog metric rises while the broker is away
and falls back to zero once it returns, and the orders it held reach the other services."""
import pytest
import requests

from tillkey.devtools.launcher import Platform, free_port
from tillkey.devtools.topology import DEFAULT_PORTS, SERVICES, PlatformConfig
from tillkey.testing import servers
from tillkey.testing.metrics import scrape, total, wait_for
from tillkey.testing.platform_client import PlatformClient
from tillkey.testing.proxy import proxy_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outage(amqp_server_url, tmp_path_factory):
    """The platform with every process reaching the broker through a proxy the test can stop."""
    amqp_url, vhost = servers.create_vhost(amqp_server_url)
    proxy = proxy_for(amqp_url)
    config = PlatformConfig(amqp_url=proxy.url(amqp_url), data_dir=tmp_path_factory.mktemp("outage"),
                            ports={name: free_port() for name in DEFAULT_PORTS},
                            admin_token="e2e-admin-token", platform_secret="e2e-platform-secret",
                            extra_env={"WEB_CONCURRENCY": "1"})
    platform = Platform(config)
    try:
        platform.start(only=[s for s in (*(f"{s}-api" for s in SERVICES), *(f"{s}-worker" for s in SERVICES),
                                         "sandbox-gateway", "mail-sink")])
        yield platform, proxy
    except Exception:
        print(platform.logs())
        raise
    finally:
        platform.stop()
        proxy.stop()
        servers.delete_vhost(vhost)


def backlog(platform, service: str = "orders") -> float:
    return total(scrape(f"http://127.0.0.1:{platform.config.ports[service + '_metrics']}/metrics"),
                 "tillkey_outbox_backlog", service=service)


def test_checkouts_go_on_while_the_broker_is_away(outage):
    platform, proxy = outage
    client = PlatformClient({name: platform.config.url(name) for name in (*SERVICES, "sandbox")},
                            platform.config.admin_token)
    merchant = client.new_merchant()
    product = client.new_product(merchant["api_key"])
    wait_for(lambda: backlog(platform) == 0, "the merchant's events published")

    proxy.stop()  # every connection to the broker dies; new ones are refused
    try:
        checkouts = []
        for _ in range(3):
            for service in SERVICES:
                ready = requests.get(f"{platform.config.url(service)}/readyz", timeout=5)
                assert ready.status_code == 200, (service, ready.text)
            checkouts.append(client.checkout(product["product_id"]))
        assert requests.get(f"{platform.config.url('orders')}/readyz/broker", timeout=10).status_code == 503
        assert backlog(platform) >= 3
        metrics = scrape(f"http://127.0.0.1:{platform.config.ports['orders_metrics']}/metrics")
        assert total(metrics, "tillkey_outbox_oldest_age_seconds", service="orders") > 0
        assert total(metrics, "tillkey_broker_up", service="orders") == 0
    finally:
        proxy.start()  # the same port again

    wait_for(lambda: backlog(platform) == 0, "the backlog published after the outage", timeout=90)
    # The orders held during the outage reached payments: each can be paid now.
    for checkout in checkouts:
        client.pay_when_ready(checkout)
        client.wait_order(checkout["order_id"], merchant["api_key"], lambda o: o["status"] == "paid", timeout=60)
