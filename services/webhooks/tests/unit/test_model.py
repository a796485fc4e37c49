from datetime import UTC, datetime, timedelta

from tillkey.webhooks.domain.model import Endpoint, OrderRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def ep(**kw):
    return Endpoint("ep_1", "mer_1", "https://m.example/h", kw.pop("events", ["order.created"]), "whsec_a", NOW, **kw)


def test_subscriptions():
    e = ep()
    assert e.subscribes("order.created") and not e.subscribes("payment.failed")
    assert ep(events=["*"]).subscribes("license_pool.low")
    assert not ep(enabled=False).subscribes("order.created")
    deleted = ep()
    deleted.delete(NOW)
    assert not deleted.subscribes("order.created")


def test_rotation_signs_with_both_for_24_hours():
    e = ep()
    e.rotate_secret("whsec_b", NOW)
    assert e.signing_secrets(NOW) == ["whsec_b", "whsec_a"]
    assert e.signing_secrets(NOW + timedelta(hours=23, minutes=59)) == ["whsec_b", "whsec_a"]
    assert e.signing_secrets(NOW + timedelta(hours=24)) == ["whsec_b"]


def test_reenabling_clears_the_disabled_state():
    e = ep(failing_since=NOW)
    assert e.disable("gone") and not e.disable("again")
    e.change(enabled=True)
    assert e.enabled and e.disabled_reason is None and e.failing_since is None


def test_sequence_counts_from_one():
    r = OrderRecord("ord_1", "mer_1", {})
    assert [r.take_sequence() for _ in range(3)] == [1, 2, 3]
