"""A key whose request is still running: 409 at once on SQLite and PostgreSQL, then the one answer."""
import threading
import time

import pytest
from sqlalchemy import MetaData

from tillkey.platform.app import create_base_app
from tillkey.platform.db import make_engine, make_session_factory
from tillkey.platform.idempotency import define_idempotency_table, idempotent

pytestmark = pytest.mark.integration


@pytest.fixture
def app(database_url):
    metadata = MetaData()
    table = define_idempotency_table(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    app = create_base_app("t", engine=engine, session_factory=make_session_factory(engine), amqp_url="amqp://",
                          platform_secret="s", admin_token="a", idempotency_table=table)
    app.release, app.calls = threading.Event(), []

    @app.post("/things")
    @idempotent
    def create():
        app.calls.append(1)
        app.release.wait(10)
        return {"thing": len(app.calls)}, 201

    yield app
    engine.dispose()


def test_the_same_key_meanwhile_gets_409_at_once_then_the_first_answer(app):
    first: dict = {}
    worker = threading.Thread(target=lambda: first.update(
        resp=app.test_client().post("/things", headers={"Idempotency-Key": "k"})))
    worker.start()
    while not app.calls:
        time.sleep(0.01)
    started = time.monotonic()
    meanwhile = app.test_client().post("/things", headers={"Idempotency-Key": "k"})
    assert meanwhile.status_code == 409 and meanwhile.json["code"] == "idempotency_in_progress"
    assert meanwhile.headers["Retry-After"] == "1" and time.monotonic() - started < 1
    app.release.set()
    worker.join(10)
    assert first["resp"].status_code == 201
    again = app.test_client().post("/things", headers={"Idempotency-Key": "k"})
    assert again.json == first["resp"].json and again.headers["Idempotent-Replayed"] == "true"
    assert app.calls == [1]
