"""The shared HTTP edge refuses input no database can hold, and malformed JSON, as problems (never 500).

Found by fuzzing the running platform on PostgreSQL: a NUL in a path id, query, form or JSON
field and an unpaired surrogate in JSON reached the database (500), and a deeply nested JSON body
escaped `get_json(silent=True)` as RecursionError (500).
"""
import pytest
from flask import request
from marshmallow import Schema, fields

from tillkey.platform.api import endpoint
from tillkey.platform.app import create_base_app
from tillkey.platform.inputs import unstorable_fields

SEEN: list = []


class ThingIn(Schema):
    name = fields.String(required=True)
    tags = fields.List(fields.String(), load_default=list)
    meta = fields.Dict(load_default=dict)


class ThingQuery(Schema):
    q = fields.String(load_default=None)


@pytest.fixture
def client():
    app = create_base_app("edge", engine=None, session_factory=None, amqp_url="amqp://unused",
                          platform_secret="s", admin_token="a")

    @app.post("/things/<thing_id>")
    @endpoint(body=ThingIn, query=ThingQuery, status=201)
    def create(thing_id, body, query):
        SEEN.append((thing_id, body, query))
        return {"ok": True}

    @app.post("/form/<thing_id>")
    def form(thing_id):
        SEEN.append(dict(request.form))
        return {"ok": True}

    SEEN.clear()
    return app.test_client()


def _problem(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json" and resp.json["code"] == code
    assert SEEN == []   # the view never ran: nothing can have changed
    return resp.json


def test_a_good_request_still_passes(client):
    resp = client.post("/things/t1?q=x", json={"name": "Ünïcode 😀", "tags": ["a"], "meta": {"k": "v"}})
    assert resp.status_code == 201 and SEEN == [("t1", {"name": "Ünïcode 😀", "tags": ["a"], "meta": {"k": "v"}},
                                                 {"q": "x"})]


def test_nul_in_a_path_id_is_not_found(client):
    _problem(client.post("/things/a%00b", json={"name": "x"}), 404, "not_found")


@pytest.mark.parametrize("query", ["q=a%00b", "q=ok&q=%00"])
def test_nul_in_the_query_is_a_validation_error(client, query):
    body = _problem(client.post(f"/things/t1?{query}", json={"name": "x"}), 422, "validation_error")
    assert list(body["errors"]) == ["q"]


def test_nul_in_a_form_field_is_a_validation_error(client):
    body = _problem(client.post("/form/t1", data={"first_name": "Ada\x00"}), 422, "validation_error")
    assert list(body["errors"]) == ["first_name"]


@pytest.mark.parametrize("raw, field", [
    ('{"name": "a\\u0000b"}', "name"),
    ('{"name": "\\ud800"}', "name"),                       # valid JSON, not encodable as UTF-8
    ('{"name": "x", "tags": ["ok", "\\udfff"]}', "tags.1"),
    ('{"name": "x", "meta": {"\\u0000": "v"}}', "meta"),
])
def test_unstorable_json_strings_are_validation_errors_naming_the_field(client, raw, field):
    resp = client.post("/things/t1", data=raw, content_type="application/json")
    body = _problem(resp, 422, "validation_error")
    assert list(body["errors"]) == [field]


def test_very_deep_json_is_invalid_json(client):
    resp = client.post("/things/t1", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    _problem(resp, 400, "invalid_json")


@pytest.mark.parametrize("raw", ["null", "[1]", "5", '"x"'])
def test_json_that_is_not_an_object_is_a_validation_error(client, raw):
    _problem(client.post("/things/t1", data=raw, content_type="application/json"), 422, "validation_error")


def test_the_check_walks_deep_structures_without_recursion():
    deep: list = ["\x00"]
    for _ in range(5000):
        deep = [deep]
    assert list(unstorable_fields({"a": deep})) == ["a" + ".0" * 5001]


def test_the_form_check_leaves_the_raw_body_readable(client):
    app = client.application

    @app.post("/raw")
    def raw():
        return {"raw": request.get_data(cache=False).decode()}

    assert client.post("/raw", data={"a": "1", "b": "2"}).json == {"raw": "a=1&b=2"}
