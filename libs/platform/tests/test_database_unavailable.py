"""A database that is briefly gone answers 503 problem+json with Retry-After, not 500 (issue 18)."""
import logging

from flask import Flask
from sqlalchemy import text

from tillkey.platform.db import make_engine
from tillkey.platform.problems import register_error_handlers


def _app(view) -> Flask:
    app = Flask("t")
    register_error_handlers(app)
    app.add_url_rule("/x", view_func=view)
    return app


def test_an_unreachable_postgres_is_503_with_retry_after_and_a_warning(caplog):
    # Nothing listens on port 1: the same OperationalError a restarting server gives.
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2")

    def view():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    with caplog.at_level(logging.WARNING):
        resp = _app(view).test_client().get("/x")
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == "2" and resp.json["code"] == "database_unavailable"
    [record] = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None


def test_a_bug_is_still_a_500():
    def view():
        raise RuntimeError("bug")

    resp = _app(view).test_client().get("/x")
    assert resp.status_code == 500 and resp.json["code"] == "internal_error" and "Retry-After" not in resp.headers


def test_the_database_gone_after_the_view_is_503_too():
    """An after-request hook (the rate limit counting an answered request) meeting the restart."""
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    app = _app(lambda: ("done", 201))

    @app.after_request
    def count(response):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return response

    resp = app.test_client().get("/x")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"


def test_a_bug_after_the_view_is_still_a_500():
    app = _app(lambda: ("done", 201))
    app.after_request(lambda response: 1 / 0)
    resp = app.test_client().get("/x")
    assert resp.status_code == 500 and resp.json["code"] == "internal_error"
