"""The hot paths' statements: checkout, creating a cart and the worker's order handlers read each
row once, write each change once, and keep the order's and the cart's row locks."""
from collections import Counter

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tillkey.messaging import RetryLater
from tillkey.messaging.dispatch import BatchFailed
from tillkey.orders.adapters import tables
from tillkey.orders.service_layer.access import Viewer
from tillkey.orders.service_layer.carts import CartLineInput, CreateCart, GetCart
from tillkey.orders.service_layer.checkout import Checkout, CustomerInput, GetOrder
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements


@pytest.fixture
def statements(service):
    """statements() → a `with` block recording the engine's statements (their text, one line each)."""
    return lambda: recorded_statements(service.engine)


def _inserted(service, parent, child):
    """A new row and its lines: one statement on PostgreSQL (adapters/together.py), two on SQLite."""
    if service.engine.dialect.name == "postgresql":
        return {f"WITH {parent}": 1}
    return {f"INSERT {parent}": 1, f"INSERT {child}": 1}


def _updated(service, counts, orders, lines):
    """Whether `orders` orders and `lines` of their lines were written back as expected: one statement
    per order on PostgreSQL (adapters/together.py), one per row on SQLite."""
    written = {kind: counts[kind] for kind in ("WITH orders", "UPDATE orders", "UPDATE order_lines")}
    if service.engine.dialect.name == "postgresql":
        return written == {"WITH orders": orders, "UPDATE orders": 0, "UPDATE order_lines": 0}
    return written == {"WITH orders": 0, "UPDATE orders": orders, "UPDATE order_lines": lines}


def _cart(service, pids, coupon=None):
    return service.handle(CreateCart([CartLineInput(pids[0], 1), CartLineInput(pids[1], 3)], coupon=coupon))


def test_creating_a_cart_reads_its_products_and_coupon_once(service, make_product, client, merchant, statements):
    client.post("/v1/coupons", json={"code": "TEN", "percent_off": 10}, headers=merchant[1])
    pids = [make_product(name=f"P{i}")["product_id"] for i in range(2)]
    with statements() as s:
        cart = _cart(service, pids, coupon="ten")
    assert counted(s) == Counter({"SELECT products": 1, "SELECT coupons": 1,
                                  **_inserted(service, "carts", "cart_lines")})
    assert [line["quantity"] for line in cart["lines"]] == [1, 3] and cart["discount"] == 4900 * 4 // 10
    assert cart == service.handle(GetCart(cart["cart_id"]))      # the answer is what a new read shows


def test_a_new_cart_is_written_with_core_not_flushed_by_the_orm(service, make_product):
    """The ORM's flush of a new cart and its lines was a tenth of the API's CPU per order."""
    pids = [make_product(name=f"P{i}")["product_id"] for i in range(2)]
    flushed = []
    def count_flush(session, context, instances):
        flushed.extend(session.new)
    event.listen(Session, "before_flush", count_flush)
    try:
        cart = _cart(service, pids)
    finally:
        event.remove(Session, "before_flush", count_flush)
    assert flushed == []
    assert cart == service.handle(GetCart(cart["cart_id"]))
    assert [(line["product_id"], line["quantity"]) for line in cart["lines"]] == [(pids[0], 1), (pids[1], 3)]


def test_checkout_claims_the_cart_and_reads_its_products_in_two_statements(service, make_product, client, merchant,
                                                                          statements, db, checkout_body):
    client.post("/v1/coupons", json={"code": "TEN", "percent_off": 10}, headers=merchant[1])
    cart = _cart(service, [make_product(name=f"P{i}")["product_id"] for i in range(2)], coupon="TEN")
    customer = CustomerInput(**checkout_body["customer"])
    with statements() as s:
        answer = service.handle(Checkout(cart["cart_id"], customer, "card", True, True))
    # The claim (a conditional UPDATE … RETURNING) took the place of a locking SELECT and an UPDATE.
    assert counted(s) == Counter({"SELECT cart_lines": 1, "SELECT coupons": 1, "UPDATE coupons": 1,
                                  "UPDATE carts": 1, **_inserted(service, "orders", "order_lines"),
                                  "INSERT outbox": 1})
    claim = next(t for t in s if t.startswith("UPDATE carts"))
    assert "order_id IS NULL" in claim and "RETURNING" in claim
    order = answer["order"]
    assert order == service.handle(GetOrder(order["order_id"], Viewer("admin", None, None)))
    assert [(ln["quantity"], ln["total"]) for ln in order["lines"]] == [(1, 4410), (3, 13230)]
    with db.engine.connect() as conn:
        row = conn.execute(select(tables.carts).where(tables.carts.c.cart_id == cart["cart_id"])).one()
        redemptions = conn.execute(select(tables.coupons.c.redemptions)).scalar_one()
    assert row.order_id == order["order_id"] and redemptions == 1
    assert len(db.outbox("order.created")) == 1


def test_a_payment_locks_the_order_and_updates_only_what_changed(service, place_order, statements, db):
    order = place_order(quantities=(1, 2))["order"]
    with statements() as s:
        service.dispatcher(sample_envelope("payment.succeeded", new_id=True, order_id=order["order_id"],
                                           merchant_id=order["merchant_id"], amount=order["total"],
                                           currency="EUR", method="paypal"))
    counts = counted(s)
    # A payment never looks at the lines: they are not read (they were, a statement per order).
    assert (counts["SELECT orders"], counts["SELECT order_lines"], counts["UPDATE orders"]) == (1, 0, 1)
    assert counts["UPDATE order_lines"] == 0 and counts["INSERT outbox"] == 1
    lock = next(t for t in s if t.startswith("SELECT") and "FROM orders" in t)
    assert ("FOR UPDATE" in lock) == (service.engine.dialect.name == "postgresql")
    written = next(t for t in s if t.startswith("UPDATE orders"))
    assigned = written.split(" SET ")[1].split(" WHERE ")[0]
    assert sorted(part.split("=")[0].strip() for part in assigned.split(",")) == [
        "paid_at", "payment_method", "status", "updated_at"]
    shown = service.handle(GetOrder(order["order_id"], Viewer("admin", None, None)))
    assert (shown["status"], shown["payment_method"]) == ("paid", "paypal") and shown["paid_at"] is not None


def test_deliveries_of_one_order_in_one_batch_share_the_locked_order(service, place_order, pay, statements, db):
    order = place_order(quantities=(1, 2))["order"]
    pay(order)
    envelopes = [sample_envelope("product.delivered", new_id=True, order_id=order["order_id"],
                                 merchant_id=order["merchant_id"], line_id=line["line_id"], licenses=[f"K-{i}"])
                 for i, line in enumerate(order["lines"])]
    with statements() as s:
        service.dispatcher.handle_batch(envelopes)
    counts = counted(s)
    assert (counts["SELECT orders"], counts["SELECT order_lines"]) == (1, 1)     # locked once for both
    assert _updated(service, counts, orders=1, lines=2)     # written once, at commit
    assert len(db.outbox("order.delivered")) == 1
    with db.engine.connect() as conn:
        lines = conn.execute(select(tables.order_lines.c.licenses, tables.order_lines.c.delivery_status)
                             .order_by(tables.order_lines.c.position)).all()
        status = conn.execute(select(tables.orders.c.delivery_status)).scalar_one()
    assert [tuple(line) for line in lines] == [(["K-0"], "delivered"), (["K-1"], "delivered")]
    assert status == "delivered"


def _payment(order, **extra):
    return sample_envelope("payment.succeeded", new_id=True, order_id=order["order_id"],
                           merchant_id=order["merchant_id"], amount=order["total"], currency="EUR",
                           method="card", **extra)


def test_a_batch_locks_its_orders_in_one_statement(service, place_order, statements, db):
    orders = [place_order(quantities=(1, 2))["order"] for _ in range(3)]
    with statements() as s:
        service.dispatcher.handle_batch([_payment(order) for order in orders])
    counts = counted(s)
    assert (counts["SELECT orders"], counts["SELECT order_lines"], counts["UPDATE orders"]) == (1, 0, 3)
    lock = next(t for t in s if t.startswith("SELECT") and "FROM orders" in t)
    assert ("FOR UPDATE" in lock) == (service.engine.dialect.name == "postgresql")
    assert len(db.outbox("order.paid")) == 3
    with db.engine.connect() as conn:
        assert conn.execute(select(tables.orders.c.status)).scalars().all() == ["paid"] * 3


def test_a_batch_of_one_locks_its_order_with_the_plain_statement(service, place_order, statements, db):
    order = place_order(quantities=(1,))["order"]
    with statements() as s:
        service.dispatcher.handle_batch([_payment(order)])
    locks = [t for t in s if t.startswith("SELECT") and "FROM orders" in t]
    assert len(locks) == 1 and " IN " not in locks[0]
    assert ("FOR UPDATE" in locks[0]) == (service.engine.dialect.name == "postgresql")
    assert len(db.outbox("order.paid")) == 1


def test_deliveries_of_several_orders_in_one_batch_read_their_lines_in_one_statement(service, place_order, pay,
                                                                                   statements, db):
    orders = [place_order(quantities=(1, 2))["order"] for _ in range(2)]
    for order in orders:
        pay(order)
    envelopes = [sample_envelope("product.delivered", new_id=True, order_id=order["order_id"],
                                 merchant_id=order["merchant_id"], line_id=line["line_id"], licenses=["K"])
                 for order in orders for line in order["lines"]]
    with statements() as s:
        service.dispatcher.handle_batch(envelopes)
    counts = counted(s)
    assert (counts["SELECT orders"], counts["SELECT order_lines"]) == (1, 1)
    assert _updated(service, counts, orders=2, lines=4)
    assert len(db.outbox("order.delivered")) == 2


def test_lines_left_unread_by_a_payment_are_read_for_a_delivery_in_the_same_batch(service, place_order, db):
    """A payment and a delivery of one order in one batch: the delivery gets the lines the payment
    skipped, and the order is written once with both changes."""
    order = place_order(quantities=(1,))["order"]
    line_id = order["lines"][0]["line_id"]
    service.dispatcher.handle_batch([
        _payment(order),
        sample_envelope("product.delivered", new_id=True, order_id=order["order_id"],
                        merchant_id=order["merchant_id"], line_id=line_id, licenses=["K-1"])])
    shown = service.handle(GetOrder(order["order_id"], Viewer("admin", None, None)))
    assert (shown["status"], shown["delivery_status"]) == ("paid", "delivered")
    assert shown["lines"][0]["delivery_status"] == "delivered"
    with db.engine.connect() as conn:
        assert conn.execute(select(tables.order_lines.c.licenses)).scalar_one() == ["K-1"]
    assert len(db.outbox("order.paid")) == 1 and len(db.outbox("order.delivered")) == 1


def test_a_batch_with_an_unknown_order_retries_that_event_alone(service, place_order, db):
    known = place_order(quantities=(1,))["order"]
    unknown = {**known, "order_id": "ord_" + "0" * 22}
    with pytest.raises(BatchFailed) as failed:
        service.dispatcher.handle_batch([_payment(known), _payment(unknown)])
    assert failed.value.index == 1 and isinstance(failed.value.cause, RetryLater)   # that event, to its retry
    service.dispatcher.handle_batch([_payment(known)])     # the consumer commits the ones before it
    assert len(db.outbox("order.paid")) == 1


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "idempotency-key"])
def test_a_checkout_refused_after_the_claim_leaves_the_cart_as_it_was(client, db, merchant, make_product,
                                                                      checkout_body, keyed):
    """The claim is undone with the refusal, also inside a keyed request's transaction (a savepoint
    there): the cart stays open, unchanged, and checks out once its coupon is removed."""
    pid = make_product()["product_id"]
    client.post("/v1/coupons", json={"code": "ONCE", "percent_off": 10, "max_redemptions": 1}, headers=merchant[1])
    first, second = (client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 1}],
                                                    "coupon": "ONCE"}).json["cart_id"] for _ in range(2))
    assert client.post(f"/v1/carts/{first}/checkout", json=checkout_body).status_code == 201
    with db.engine.connect() as conn:
        before = conn.execute(select(tables.carts).where(tables.carts.c.cart_id == second)).one()
    headers = {"Idempotency-Key": "refused-after-claim"} if keyed else None
    refused = client.post(f"/v1/carts/{second}/checkout", json=checkout_body, headers=headers)
    assert refused.status_code == 422 and refused.json["code"] == "coupon_unusable"   # used up: refused after the claim
    with db.engine.connect() as conn:
        after = conn.execute(select(tables.carts).where(tables.carts.c.cart_id == second)).one()
    assert after == before and after.order_id is None
    assert client.patch(f"/v1/carts/{second}", json={"coupon": None}).status_code == 200
    assert client.post(f"/v1/carts/{second}/checkout", json=checkout_body).status_code == 201
    assert db.count(tables.orders) == 2


def test_a_checkout_of_no_cart_or_a_checked_out_one_is_refused(client, db, make_product, checkout_body):
    assert client.post("/v1/carts/cart_nope/checkout", json=checkout_body).status_code == 404
    pid = make_product()["product_id"]
    cid = client.post("/v1/carts", json={"lines": [{"product_id": pid, "quantity": 1}]}).json["cart_id"]
    order_id = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body).json["order_id"]
    again = client.post(f"/v1/carts/{cid}/checkout", json=checkout_body)
    assert again.status_code == 409 and again.json["code"] == "cart_checked_out"
    with db.engine.connect() as conn:
        assert conn.execute(select(tables.carts.c.order_id)).scalar_one() == order_id   # still the first order's
    assert db.count(tables.orders) == 1
