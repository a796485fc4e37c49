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
    """The counter's transaction commits with synchronous_commit off (a lost count costs nothing),
    set by its one statement: the setting holds in that transaction and not after it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no synchronous_commit")
    storage = SqlStorage(engine=engine, table=engine.rate_limit_table)
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(storage._upsert, {"key": rate_limit_storage._key("k"), "amount": 1, "now": time.time(),
                                           "expires_at": time.time() + 60}).one()
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
        with conn.begin():
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    assert storage.incr("k", 60) == 2
