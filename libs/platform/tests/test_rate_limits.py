"""Abuse limits counted in the service's database: shared by every process, 429 problem+json (issue 18)."""
import time

import pytest
from flask import Flask
from sqlalchemy import MetaData, text

from tillkey.platform import rate_limit_storage
from tillkey.platform.config import ConfigError
from tillkey.platform.db import make_engine
from tillkey.platform.problems import register_error_handlers
from tillkey.platform.rate_limit_storage import SqlStorage, define_rate_limit_table
from tillkey.platform.rate_limits import RateLimits, client_address, install_rate_limits, path_value, rate_limited

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url):
    metadata = MetaData()
    table = define_rate_limit_table(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    engine.rate_limit_table = table
    yield engine
    engine.dispose()


def make_app(engine, limits: RateLimits) -> Flask:
    """One API process: its own Flask app and Limiter, the shared database."""
    app = Flask("shop")
    register_error_handlers(app)

    @app.post("/orders/<order_id>/pay")
    @rate_limited(("per_address", client_address), ("payments_per_order", path_value("order_id")),
                  counts=lambda response: response.status_code != 409)
    def pay(order_id):
        return ({"ok": True}, 409 if order_id == "not-ready" else 201)

    install_rate_limits(app, limits, engine=engine, table=engine.rate_limit_table)
    return app


def test_two_processes_share_the_count_and_the_refusal_is_a_problem_with_retry_after(engine):
    limits = RateLimits(per_address="100/minute", payments_per_order="3/hour")
    first, second = (make_app(engine, limits).test_client() for _ in range(2))
    answers = [client.post("/orders/ord_1/pay").status_code for client in (first, second, first)]
    assert answers == [201, 201, 201]
    refused = second.post("/orders/ord_1/pay")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "rate_limited" and 3000 <= int(refused.headers["Retry-After"]) <= 3601
    # Per order: another order of the same address is not held back.
    assert first.post("/orders/ord_2/pay").status_code == 201


def test_per_address_and_answers_that_do_not_count(engine):
    app = make_app(engine, RateLimits(per_address="2/minute", payments_per_order="100/hour"))
    client = app.test_client()
    # "Not ready yet, retry in a second" uses up nothing.
    assert [client.post("/orders/not-ready/pay").status_code for _ in range(5)] == [409] * 5
    assert [client.post(f"/orders/ord_{i}/pay").status_code for i in range(3)] == [201, 201, 429]
    other = app.test_client()
    assert other.post("/orders/ord_9/pay", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 201


def test_a_window_ends(engine):
    client = make_app(engine, RateLimits(per_address="1/second")).test_client()
    assert [client.post("/orders/o/pay").status_code for _ in range(2)] == [201, 429]
    time.sleep(1.1)
    assert client.post("/orders/o/pay").status_code == 201


def test_trusted_proxies_decide_the_client_address(engine):
    app = make_app(engine, RateLimits(per_address="1/minute", trusted_proxies=1))
    client = app.test_client()
    assert client.post("/orders/o/pay", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 201
    assert client.post("/orders/o/pay", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 201
    assert client.post("/orders/o/pay", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429


@pytest.mark.parametrize("env", [{"RATE_LIMIT_PER_ADDRESS": "lots"}, {"RATE_LIMIT_PAYMENTS_PER_ORDER": "3 per"},
                                 {"TRUSTED_PROXIES": "-1"}])
def test_bad_settings_name_the_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        RateLimits.from_env(env)


def test_a_busy_key_is_written_in_batches_and_small_counts_at_once(engine):
    from sqlalchemy import event

    from tillkey.platform import rate_limit_storage as storage_module

    writes = []
    event.listen(engine, "before_cursor_execute",
                 lambda *a: writes.append(a[2]) if a[2].startswith("INSERT INTO rate_limits") else None)
    one = storage_module.SqlStorage(engine=engine, table=engine.rate_limit_table)
    other = storage_module.SqlStorage(engine=engine, table=engine.rate_limit_table)  # a second process
    assert [one.incr("order-1", 3600) for _ in range(3)] == [1, 2, 3]
    assert other.incr("order-1", 3600) == 4  # small counts: every hit written, exact across processes
    assert len(writes) == 4
    for _ in range(storage_module.EXACT_UP_TO):
        one.incr("address", 60)
    writes.clear()
    counts = [one.incr("address", 60) for _ in range(500)]
    assert counts == list(range(storage_module.EXACT_UP_TO + 1, storage_module.EXACT_UP_TO + 501))
    assert len(writes) <= 3  # a busy key: a write per quarter second, not per hit
    time.sleep(storage_module.FLUSH_EVERY)
    one.incr("address", 60)  # due: the hits counted here reach the row
    assert other.incr("address", 60) == storage_module.EXACT_UP_TO + 502


def test_a_busy_key_is_read_from_memory_and_a_small_one_from_the_row(engine):
    from tillkey.platform import rate_limit_storage as storage_module

    one = storage_module.SqlStorage(engine=engine, table=engine.rate_limit_table)
    other = storage_module.SqlStorage(engine=engine, table=engine.rate_limit_table)
    one.incr("order-2", 3600)
    other.incr("order-2", 3600)
    assert one.get("order-2") == 2  # small: the row, with the other process's hit
    for _ in range(storage_module.EXACT_UP_TO + 5):
        one.incr("busy", 60)
    reads = []
    from sqlalchemy import event
    event.listen(engine, "before_cursor_execute", lambda *a: reads.append(a[2]) if a[2].startswith("SELECT") else None)
    assert one.get("busy") == storage_module.EXACT_UP_TO + 5 and reads == []


def test_a_database_that_is_gone_is_a_503_with_retry_after_not_a_500(engine):
    """The count of a counted request is written after the answer; with the database gone (a
    restart) the answer is the platform's 503, which itself is not counted (make chaos saw a 500)."""
    from tillkey.testing.smtp import free_port

    gone = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    gone.rate_limit_table = engine.rate_limit_table
    answer = make_app(gone, RateLimits(per_address="100/minute", payments_per_order="3/hour")) \
        .test_client().post("/orders/ord_1/pay")
    gone.dispose()
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1


def test_a_counted_hit_does_not_wait_for_the_disk_on_postgresql(engine):
    """The counter's transactions commit with synchronous_commit off (a lost count costs nothing),
    set by their one statement: the setting holds in that transaction and not after it. The same
    for the UPDATE that gives a hit back."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no synchronous_commit")
    storage = SqlStorage(engine=engine, table=engine.rate_limit_table)
    upsert = rate_limit_storage._upsert("rate_limits", True, 2)
    give_back = rate_limit_storage._give_back("rate_limits", True, 1)
    with engine.connect() as conn:
        with conn.begin():
            ends = time.time() + 60
            rows = conn.execute(upsert, {"key0": rate_limit_storage._key("k"), "amount0": 1, "expires_at0": ends,
                                         "key1": rate_limit_storage._key("j"), "amount1": 1, "expires_at1": ends,
                                         "now": time.time()}).all()
            assert len(rows) == 2 and conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
        with conn.begin():
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
        with conn.begin():
            conn.execute(give_back, {"key0": rate_limit_storage._key("j"), "expires_at0": ends})
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
    assert storage.incr("k", 60) == 2 and storage.get("j") == 0



def test_on_postgresql_a_count_is_one_statement_outside_a_transaction_block(engine):
    """psycopg sends BEGIN and COMMIT as commands of their own: a counted hit and a given-back hit
    each run as a single statement in autocommit (one round trip, not three), and the connection
    goes back to the pool in its usual mode."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers queue on BEGIN IMMEDIATE")
    from sqlalchemy import event

    storage = SqlStorage(engine=engine, table=engine.rate_limit_table)
    modes: list[tuple[str, bool]] = []

    def watch(conn, _cursor, statement, *_):
        modes.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    event.listen(engine, "before_cursor_execute", watch)
    try:
        [(count, ends)] = storage.hit([("one-statement", 60)])
        storage.give_back([("one-statement", ends)])
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    writes = [mode for mode in modes if mode[0] != "DELETE"]  # the first hit also prunes ended windows
    assert count == 1 and writes == [("INSERT", True), ("UPDATE", True)]
    assert _count(engine, "one-statement") == 0
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection.autocommit is False

def limited_app(engine, limits: RateLimits, **storage) -> Flask:
    """One rule, two rules, and two rules of which some answers do not count."""
    app = Flask("shop")
    register_error_handlers(app)

    @app.post("/carts")
    @rate_limited(("per_address", client_address))
    def create_cart():
        return {"ok": True}, 201

    @app.post("/carts/<cart_id>/checkout")
    @rate_limited(("per_address", client_address), ("checkouts_per_cart", path_value("cart_id")))
    def checkout(cart_id):
        return {"ok": True}, 201

    @app.post("/orders/<order_id>/pay")
    @rate_limited(("per_address", client_address), ("payments_per_order", path_value("order_id")),
                  counts=lambda response: response.status_code not in (409, 429))
    def pay(order_id):
        return {"ok": True}, {"not-ready": 409, "broken": 503}.get(order_id, 201)

    @app.post("/orders/<order_id>/resend")
    @rate_limited(("per_address", client_address), ("resends_per_order", path_value("order_id")),
                  counts=lambda response: response.status_code != 303)  # a refusal counts here
    def resend(order_id):
        return {"ok": True}, 200

    install_rate_limits(app, limits, **(storage or {"engine": engine, "table": engine.rate_limit_table}))
    return app


@pytest.mark.parametrize(("path", "status", "statements", "transactions"), [
    ("/carts", 201, 1, 1),                     # one rule: one upsert (as before)
    ("/carts/c{i}/checkout", 201, 1, 1),        # two rules: one upsert of two rows (was 2 and 2)
    ("/orders/o{i}/pay", 201, 1, 1),            # counts=, counted: (was 2 SELECTs + 2 upserts, 4 and 4)
    ("/orders/not-ready/pay", 409, 2, 2),       # counts=, not counted: upsert + give back (was 2 SELECTs)
])
def test_statements_and_transactions_per_limited_request(engine, path, status, statements, transactions):
    from sqlalchemy import event

    from tillkey.testing.statements import counted, recorded_statements

    client = limited_app(engine, RateLimits(per_address="1000/minute", payments_per_order="1000/hour",
                                            checkouts_per_cart="1000/hour")).test_client()
    client.post("/carts", environ_base={"REMOTE_ADDR": "10.9.9.9"})  # the first request also prunes
    begins: list[int] = []
    event.listen(engine, "begin", lambda *_: begins.append(1))
    for i in range(3):  # a new address and cart each time: below EXACT_UP_TO every hit is written
        begins.clear()
        with recorded_statements(engine) as seen:
            answer = client.post(path.format(i=i), environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert answer.status_code == status
        assert sum(counted(seen).values()) == statements and len(begins) == transactions, seen


def _count(engine, key: str) -> int:
    return SqlStorage(engine=engine, table=engine.rate_limit_table).get(key)


def test_the_counts_are_under_flask_limiters_keys(engine):
    """The rows a deploy finds (written by Flask-Limiter before issue 11) go on counting."""
    from limits import parse

    client = limited_app(engine, RateLimits(per_address="5/minute", payments_per_order="3/hour")).test_client()
    assert client.post("/orders/ord_1/pay").status_code == 201
    assert _count(engine, parse("5/minute").key_for("shop", "127.0.0.1", "pay:pay:per_address")) == 1
    assert _count(engine, parse("3/hour").key_for("shop", "ord_1", "pay:pay:payments_per_order")) == 1


def test_what_a_refused_call_counts(engine):
    """Counted first, given back where it must not count, so that a refused call counts as it did
    with Flask-Limiter: on each limit up to the one that refused it (the shortest window first),
    not on those after; on a view with `counts`, only when `counts` takes the 429."""
    from limits import parse

    app = limited_app(engine, RateLimits(per_address="100/minute", payments_per_order="2/hour",
                                         resends_per_order="2/hour"))
    client = app.test_client()
    assert [client.post("/orders/ord_1/pay").status_code for _ in range(4)] == [201, 201, 429, 429]
    assert _count(engine, parse("2/hour").key_for("shop", "ord_1", "pay:pay:payments_per_order")) == 2
    assert _count(engine, parse("100/minute").key_for("shop", "127.0.0.1", "pay:pay:per_address")) == 2
    assert [client.post("/orders/ord_1/resend").status_code for _ in range(4)] == [200, 200, 429, 429]
    assert _count(engine, parse("2/hour").key_for("shop", "ord_1", "resend:resend:resends_per_order")) == 4
    assert _count(engine, parse("100/minute").key_for("shop", "127.0.0.1", "resend:resend:per_address")) == 4

    strict = limited_app(engine, RateLimits(per_address="1/minute", checkouts_per_cart="100/hour"))
    other = strict.test_client()
    answers = [other.post("/carts/cart_1/checkout", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code
               for _ in range(3)]
    assert answers == [201, 429, 429]
    assert _count(engine, parse("1/minute").key_for("shop", "10.1.1.1", "checkout:checkout:per_address")) == 3
    assert _count(engine, parse("100/hour").key_for("shop", "cart_1", "checkout:checkout:checkouts_per_cart")) == 1
    assert [other.post("/orders/o/resend", environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code
            for _ in range(3)] == [200, 429, 429]
    assert _count(engine, parse("1/minute").key_for("shop", "10.1.1.2", "resend:resend:per_address")) == 3
    assert _count(engine, parse("20/hour").key_for("shop", "o", "resend:resend:resends_per_order")) == 1


def test_a_server_error_and_an_answer_that_does_not_count_give_their_hits_back(engine):
    from limits import parse

    client = limited_app(engine, RateLimits(per_address="100/minute", payments_per_order="2/hour")).test_client()
    assert [client.post("/orders/broken/pay").status_code for _ in range(3)] == [503] * 3
    assert [client.post("/orders/not-ready/pay").status_code for _ in range(3)] == [409] * 3
    assert _count(engine, parse("2/hour").key_for("shop", "broken", "pay:pay:payments_per_order")) == 0
    assert _count(engine, parse("100/minute").key_for("shop", "127.0.0.1", "pay:pay:per_address")) == 0


def test_a_busy_key_gives_back_in_memory(engine):
    from sqlalchemy import event

    storage = SqlStorage(engine=engine, table=engine.rate_limit_table)
    for _ in range(rate_limit_storage.EXACT_UP_TO):
        storage.incr("address", 60)
    [(_count, ends)] = storage.hit([("address", 60)])
    writes: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: writes.append(a[2]))
    storage.give_back([("address", ends)])
    assert writes == []  # no statement: taken off the hits this process has still to write
    time.sleep(rate_limit_storage.FLUSH_EVERY)
    assert storage.incr("address", 60) == rate_limit_storage.EXACT_UP_TO + 1
    assert SqlStorage(engine=engine, table=engine.rate_limit_table).get("address") == rate_limit_storage.EXACT_UP_TO + 1


def test_a_hit_is_given_back_to_its_own_window_only(engine):
    """The window of a hit ended and another process's hit started the next one: giving back
    then takes nothing from the new window, which never held that hit."""
    one = SqlStorage(engine=engine, table=engine.rate_limit_table)
    other = SqlStorage(engine=engine, table=engine.rate_limit_table)
    [(count, ends)] = one.hit([("order-7", 1)])
    assert count == 1
    time.sleep(max(0.0, ends - time.time()) + 0.05)
    assert other.hit([("order-7", 60)])[0][0] == 1
    one.give_back([("order-7", ends)])
    assert other.get("order-7") == 1
    [(_count, new_end)] = other.hit([("order-7", 60)])
    other.give_back([("order-7", new_end)])
    assert one.get("order-7") == 1


def test_another_limits_storage_counts_and_gives_back_too(engine):
    """The sandbox counts in memory (memory://): the same rules, one call per limit."""
    app = limited_app(None, RateLimits(per_address="100/minute", payments_per_order="2/hour"),
                      storage_uri="memory://")
    client = app.test_client()
    assert [client.post("/orders/not-ready/pay").status_code for _ in range(3)] == [409] * 3
    assert [client.post("/orders/ord_1/pay").status_code for _ in range(3)] == [201, 201, 429]
    refused = client.post("/orders/ord_1/pay")
    assert refused.status_code == 429 and 3000 <= int(refused.headers["Retry-After"]) <= 3601
    assert [client.post("/carts").status_code for _ in range(2)] == [201, 201]


def test_a_hit_that_cannot_be_given_back_stays_and_the_answer_goes_out(engine, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    def gone(self, windows):
        raise OperationalError("UPDATE rate_limits", {}, Exception("server closed the connection"))

    monkeypatch.setattr(SqlStorage, "give_back", gone)
    client = limited_app(engine, RateLimits(per_address="100/minute", payments_per_order="2/hour")).test_client()
    assert client.post("/orders/not-ready/pay").status_code == 409
    assert "could not be given back" in caplog.text
