"""Searching orders on SQLite and PostgreSQL: by the customer's email (ignoring case) and by when they
were created, with status and the cursor; support across merchants (docs/integration.md, "Orders")."""
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def orders(client, merchant, other_merchant, make_product, checkout_body, clock):
    """Three of the merchant's orders a day apart (Ada, Ada, Bob) and one of another merchant's for Ada."""
    def place(email, headers):
        checkout_body["customer"]["email"] = email
        product = make_product(headers=headers)
        cart = client.post("/v1/carts", json={"lines": [{"product_id": product["product_id"], "quantity": 1}]}).json
        resp = client.post(f"/v1/carts/{cart['cart_id']}/checkout", json=checkout_body)
        assert resp.status_code == 201, resp.json
        clock.advance(days=1)
        return resp.json["order_id"]
    # Created 2026-03-01, -02, -03 and -04, each at 12:00:01 and a few seconds (make_product moves the clock).
    return [place("Ada@Example.com", merchant[1]), place("ada@example.com", merchant[1]),
            place("bob@example.com", merchant[1]), place("ada@example.com", other_merchant[1])]


def ids(client, query, headers):
    resp = client.get(f"/v1/orders?{query}", headers=headers)
    assert resp.status_code == 200, resp.json
    return [o["order_id"] for o in resp.json["data"]]


def test_by_email_ignoring_case_with_status_and_cursor(client, merchant, other_merchant, orders, pay, admin):
    first, second, bob, elsewhere = orders
    assert ids(client, "email=ADA@example.COM", merchant[1]) == [second, first]
    assert ids(client, "email=ada%40example.com&status=not_paid", merchant[1]) == [second, first]
    assert ids(client, "email=bob@example.com", other_merchant[1]) == []
    assert ids(client, "email=ada@example", merchant[1]) == []                 # exact, not a prefix
    page = client.get("/v1/orders?email=ada@example.com&limit=1", headers=merchant[1]).json
    assert [o["order_id"] for o in page["data"]] == [second]
    rest = ids(client, f"email=ada@example.com&limit=1&cursor={page['next_cursor']}", merchant[1])
    assert rest == [first]
    pay(client.get(f"/v1/orders/{first}", headers=admin).json)
    assert ids(client, "email=ada@example.com&status=paid", merchant[1]) == [first]
    # Support: every merchant's orders of that customer.
    assert ids(client, "email=ada@EXAMPLE.com", admin) == [elsewhere, second, first]


def test_by_date_and_time(client, merchant, orders, admin):
    first, second, bob, _ = orders
    assert ids(client, "created_from=2026-03-02", merchant[1]) == [bob, second]
    assert ids(client, "created_to=2026-03-02", merchant[1]) == [second, first]       # the whole day
    assert ids(client, "created_from=2026-03-02&created_to=2026-03-02", merchant[1]) == [second]
    assert ids(client, "created_from=2026-03-02T12:00:00Z&created_to=2026-03-03T00:00:00%2B00:00",
               merchant[1]) == [second]
    assert ids(client, "created_from=2026-03-02T13:00:00%2B02:00", merchant[1]) == [bob, second]   # 11:00 UTC
    assert ids(client, "created_to=2026-03-01T12:00:00", merchant[1]) == []          # no offset: UTC
    assert ids(client, "email=ada@example.com&created_from=2026-03-02", merchant[1]) == [second]
    assert ids(client, "created_from=2026-03-04", admin) == [orders[3]]


@pytest.mark.parametrize("query, field", [
    ("created_from=yesterday", "created_from"), ("created_to=2026-02-30", "created_to"),
    ("created_from=2026-03-01T25:00:00Z", "created_from"), ("created_to=" + "2" * 41, "created_to"),
    ("created_from=2026-03-03&created_to=2026-03-02", "created_to"),
    ("created_from=2026-03-02T12:00:00Z&created_to=2026-03-02T11:59:59Z", "created_to"),
    ("created_from=2026-03-01T12:00:00%2B25:00", "created_from"), ("created_to=2026-03-01T12:61:00Z", "created_to"),
    ("email=", "email"), ("email=" + "a" * 321, "email"),
])
def test_bad_search_is_422(client, merchant, orders, query, field):
    resp = client.get(f"/v1/orders?{query}", headers=merchant[1])
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert field in resp.json["errors"], resp.json


def test_the_calendars_ends_are_bounds_beyond_every_order(client, merchant, orders):
    assert len(ids(client, "created_from=0001-01-01T00:00:00%2B01:00&created_to=9999-12-31", merchant[1])) == 3
    assert len(ids(client, "created_to=9999-12-31T23:59:59.999999-14:00", merchant[1])) == 3
    assert ids(client, "created_from=9999-12-31T23:00:00-14:00", merchant[1]) == []
    assert len(ids(client, "created_from=2026-03-01t12:00:00z", merchant[1])) == 3     # RFC 3339's lowercase


def test_who_may_search(client, orders):
    assert client.get("/v1/orders?email=ada@example.com").status_code == 401
