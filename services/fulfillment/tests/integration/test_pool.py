"""The license pool: uploads, atomic claims, whole lines, the low-stock alarm (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading

import pytest

from .conftest import deliveries, emitted, know_product, merchant_headers, pay, place_order

pytestmark = pytest.mark.integration
PRODUCT = "prod_pool1"
KEYS_URL = f"/v1/products/{PRODUCT}/licenses"
STATS_URL = f"/v1/products/{PRODUCT}/licenses/stats"


@pytest.fixture
def pool(service, client):
    know_product(service, PRODUCT)

    def configure(threshold=0):
        resp = client.put(f"/v1/products/{PRODUCT}/license-source", headers=merchant_headers(),
                          json={"method": "pool", "low_stock_threshold": threshold})
        assert resp.status_code == 200, resp.get_json()
    return configure


def upload(client, keys, headers=None):
    return client.post(KEYS_URL, json={"keys": keys}, headers=headers or merchant_headers())


def stats(client):
    return client.get(STATS_URL, headers=merchant_headers()).get_json()


def test_upload_deduplicates_within_and_across_uploads(client, pool):
    pool()
    first = upload(client, ["K-1", "K-2", " K-2 ", "K-3"])
    assert first.status_code == 201 and first.get_json() == {"added": 3, "duplicates": 1, "available": 3}
    assert upload(client, ["K-3", "K-4"]).get_json() == {"added": 1, "duplicates": 1, "available": 4}
    assert stats(client) == {"available": 4, "issued": 0}


@pytest.mark.parametrize("body", [{}, {"keys": []}, {"keys": "K-1"}, {"keys": ["   "]}, {"keys": [""]},
                                  {"keys": [7]}, {"keys": ["x" * 501]}, {"keys": [f"K-{n}" for n in range(1001)]}])
def test_bad_uploads_are_422_and_add_nothing(client, pool, body):
    pool()
    resp = client.post(KEYS_URL, json=body, headers=merchant_headers())
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert stats(client) == {"available": 0, "issued": 0}


def test_uploads_are_the_owners_only(client, pool):
    resp = client.post(KEYS_URL, json={"keys": ["K"]}, headers=merchant_headers("mer_someoneElse1"))
    assert resp.status_code == 404
    assert client.get(STATS_URL, headers=merchant_headers("mer_someoneElse1")).status_code == 404
    assert client.post(KEYS_URL, json={"keys": ["K"]}).status_code == 401


def test_an_upload_with_an_idempotency_key_is_answered_once(client, pool):
    pool()
    headers = {**merchant_headers(), "Idempotency-Key": "up-1"}
    first = upload(client, ["K-1"], headers)
    # Same caller, same key, same body: the first answer again (not "1 duplicate").
    again = upload(client, ["K-1"], headers)
    assert again.get_json() == first.get_json() == {"added": 1, "duplicates": 0, "available": 1}
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_paid_line_takes_its_keys_oldest_first(service, client, pool):
    pool()
    upload(client, ["K-1", "K-2", "K-3"])
    place_order(service, "ord_pool1", [("line_p1", PRODUCT, 2)])
    pay(service, "ord_pool1")
    line = deliveries(service, "ord_pool1")["line_p1"]
    assert (line.status, line.method, line.licenses, line.reason) == ("delivered", "pool", ["K-1", "K-2"], None)
    assert stats(client) == {"available": 1, "issued": 2}
    [event] = emitted(service, "product.delivered")
    assert event == {"order_id": "ord_pool1", "merchant_id": "mer_7Yb2kQ9xTz", "line_id": "line_p1",
                     "product_id": PRODUCT, "quantity": 2, "method": "pool", "licenses": ["K-1", "K-2"],
                     "text": None}


def test_a_short_pool_makes_the_whole_line_wait_then_an_upload_completes_it(service, client, pool):
    pool()
    upload(client, ["K-1"])
    place_order(service, "ord_old", [("line_old", PRODUCT, 2)], created_at="2026-11-27T10:00:00.000Z")
    place_order(service, "ord_new", [("line_new", PRODUCT, 1)], created_at="2026-11-27T11:00:00.000Z")
    pay(service, "ord_new")  # paid first, ordered later: takes the one key
    pay(service, "ord_old")
    old = deliveries(service, "ord_old")["line_old"]
    assert (old.status, old.method, old.licenses) == ("awaiting_merchant", "manual", [])
    assert old.reason == "license pool is empty"
    assert stats(client) == {"available": 0, "issued": 1}
    [requested] = emitted(service, "license.requested")
    assert requested == {"order_id": "ord_old", "merchant_id": "mer_7Yb2kQ9xTz", "line_id": "line_old",
                         "product_id": PRODUCT, "quantity": 2, "reason": "license pool is empty"}

    assert upload(client, ["K-2"]).get_json() == {"added": 1, "duplicates": 0, "available": 1}  # not enough yet
    assert deliveries(service, "ord_old")["line_old"].status == "awaiting_merchant"
    assert upload(client, ["K-3", "K-4"]).get_json() == {"added": 2, "duplicates": 0, "available": 1}
    old = deliveries(service, "ord_old")["line_old"]
    assert (old.status, old.method, old.licenses, old.reason) == ("delivered", "pool", ["K-2", "K-3"], None)
    assert [e["line_id"] for e in emitted(service, "product.delivered")] == ["line_new", "line_old"]


def test_waiting_lines_are_completed_oldest_first_skipping_one_too_big(service, client, pool):
    pool()
    for n, (quantity, hour) in enumerate([(1, 9), (3, 10), (1, 11)]):
        place_order(service, f"ord_w{n}", [(f"line_w{n}", PRODUCT, quantity)],
                    created_at=f"2026-11-27T{hour:02d}:00:00.000Z")
        pay(service, f"ord_w{n}")
    upload(client, ["A", "B"])
    got = {n: deliveries(service, f"ord_w{n}")[f"line_w{n}"] for n in range(3)}
    assert (got[0].licenses, got[1].status, got[2].licenses) == (["A"], "awaiting_merchant", ["B"])


def test_low_stock_is_told_once_per_crossing_and_rearmed_by_an_upload(service, client, pool):
    pool(threshold=2)
    upload(client, ["K-1", "K-2", "K-3", "K-4"])
    for n in range(4):
        place_order(service, f"ord_l{n}", [(f"line_l{n}", PRODUCT, 1)])
        pay(service, f"ord_l{n}")
    # 3 left, 2 left: not below; 1 left: crossed (told); 0 left: still below (silent).
    assert emitted(service, "license_pool.low") == [
        {"merchant_id": "mer_7Yb2kQ9xTz", "product_id": PRODUCT, "available": 1, "low_stock_threshold": 2}]
    upload(client, ["K-5"])  # 1: still below, not re-armed
    place_order(service, "ord_l4", [("line_l4", PRODUCT, 1)])
    pay(service, "ord_l4")
    assert len(emitted(service, "license_pool.low")) == 1
    upload(client, ["K-6", "K-7", "K-8"])  # 3: above again, re-armed
    place_order(service, "ord_l5", [("line_l5", PRODUCT, 1)])
    pay(service, "ord_l5")  # 2: not below
    place_order(service, "ord_l6", [("line_l6", PRODUCT, 1)])
    pay(service, "ord_l6")  # 1: crossed again
    assert [e["available"] for e in emitted(service, "license_pool.low")] == [1, 1]


def test_five_concurrent_orders_on_a_pool_of_three(service, client, pool):
    pool()
    upload(client, ["K-1", "K-2", "K-3"])
    for n in range(5):
        place_order(service, f"ord_c{n}", [(f"line_c{n}", PRODUCT, 1)])
    barrier = threading.Barrier(5)
    errors = []

    def buy(n):
        try:
            barrier.wait()
            pay(service, f"ord_c{n}")
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    lines = [deliveries(service, f"ord_c{n}")[f"line_c{n}"] for n in range(5)]
    delivered = [line for line in lines if line.status == "delivered"]
    waiting = [line for line in lines if line.status == "awaiting_merchant"]
    assert len(delivered) == 3 and len(waiting) == 2
    assert sorted(key for line in delivered for key in line.licenses) == ["K-1", "K-2", "K-3"]
    assert {line.line_id for line in waiting} == {e["line_id"] for e in emitted(service, "license.requested")}
    assert stats(client) == {"available": 0, "issued": 3}


def test_a_claim_counts_what_is_left_only_up_to_the_threshold(service, client, pool):
    """The low-stock check after each claim asks "fewer than N left?": the count stops at N, so a
    pool of a million keys costs a claim what a pool of N does; below N it is exact."""
    pool()
    upload(client, ["K-1", "K-2", "K-3", "K-4", "K-5"])
    place_order(service, "ord_c1", [("line_c1", PRODUCT, 2)])
    pay(service, "ord_c1")
    with service.uow_factory() as uow:
        assert [uow.pools.available(PRODUCT, up_to=n) for n in (0, 1, 2, 3, 4, 10)] == [0, 1, 2, 3, 3, 3]
        assert uow.pools.available("prod_noSuchPool", up_to=5) == 0
    assert stats(client) == {"available": 3, "issued": 2}


def test_a_claim_takes_exactly_its_keys_oldest_first_and_counts_what_is_left(service, client, pool):
    """One statement claims and counts (Pools.claim): exactly `quantity` keys, the oldest, and the
    keys left after them, exact below `count_left_up_to` and that limit otherwise."""
    pool()
    upload(client, [f"K-{n}" for n in range(6)])
    now = service.deps.clock.now()
    with service.uow_factory() as uow:
        uow.pools.get(PRODUCT, lock=True)
        first = uow.pools.claim(PRODUCT, 1, "line_a", now, count_left_up_to=3)
        second = uow.pools.claim(PRODUCT, 2, "line_b", now, count_left_up_to=10)
        third = uow.pools.claim(PRODUCT, 1, "line_c", now)  # no count asked: 0
        uow.commit()
    assert (first.keys, first.left) == (["K-0"], 3)       # 5 left, counted up to 3
    assert (second.keys, second.left) == (["K-1", "K-2"], 3)  # exact: 3 left
    assert (third.keys, third.left) == (["K-3"], 0)
    assert stats(client) == {"available": 2, "issued": 4}


def test_a_claim_short_of_its_quantity_takes_nothing_not_even_what_it_found(service, client, pool):
    pool()
    upload(client, ["K-1", "K-2"])
    now = service.deps.clock.now()
    with service.uow_factory() as uow:
        uow.pools.get(PRODUCT, lock=True)
        assert uow.pools.claim(PRODUCT, 3, "line_big", now, count_left_up_to=5) is None
        assert uow.pools.available(PRODUCT, up_to=5) == 2  # the two it found went back
        claimed = uow.pools.claim(PRODUCT, 2, "line_fits", now, count_left_up_to=5)
        uow.commit()
    assert (claimed.keys, claimed.left) == (["K-1", "K-2"], 0)
    assert stats(client) == {"available": 0, "issued": 2}
