"""Revoked API keys over the real processes (docs/architecture.md, "Revoked API keys"): one merchant
read per service's API, and how long each service took to refuse a revoked key."""
from __future__ import annotations

import time

from tillkey.testing.platform_client import PlatformClient

REVOKED = "This API key was revoked."


def merchant_reads(order_id: str) -> dict[str, str]:
    """One merchant read per service's API; each answers 200 once the services know the order."""
    return {
        "orders": "/v1/products",
        "payments": f"/v1/orders/{order_id}/payments",
        "fulfillment": f"/v1/orders/{order_id}/deliveries",
        "notifications": "/v1/messages",
        "webhooks": "/v1/webhook-endpoints",
    }


def seconds_until_refused(client: PlatformClient, key: str, reads: dict[str, str],
                          give_up_after: float = 30.0) -> dict[str, float]:
    """Per service, the seconds from now until it answered the key 401 "This API key was revoked."
    (a service missing from the answer had not after `give_up_after`)."""
    started = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < len(reads) and time.monotonic() - started < give_up_after:
        for service, path in reads.items():
            if service in refused:
                continue
            resp = client.call(service, "GET", path, key)
            if resp.status_code == 401:
                problem = resp.json()
                assert (problem["code"], problem["detail"]) == ("unauthorized", REVOKED), problem
                refused[service] = time.monotonic() - started
        time.sleep(0.1)
    return refused
