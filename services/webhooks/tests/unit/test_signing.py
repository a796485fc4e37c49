"""Our headers are exactly what the `standardwebhooks` library verifies, rotation included."""
import base64
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tillkey.contracts.signing import new_secret
from tillkey.webhooks.service_layer.delivering import Job


def test_secret_has_at_least_24_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert new_secret() != secret


def test_both_secrets_verify_during_rotation_and_a_stranger_does_not():
    old, new = new_secret(), new_secret()
    body = json.dumps({"id": "evt_1", "data": {"x": "ü"}})
    job = Job("whd_1", "ep_1", "https://m.example", "evt_1", body, (new, old))
    headers = job.headers(datetime.now(UTC))
    assert headers["webhook-id"] == "evt_1" and len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"id": "evt_1", "data": {"x": "ü"}}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("evt_1", "evt_2"), headers)
