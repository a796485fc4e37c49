"""Prepared contracts (prepared.py) answer exactly as plain marshmallow did: `dump(load(data))` on a
freshly built Schema, for every sample and for thousands of samples made wrong one value at a time."""
import json

import pytest
from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, validate

from tillkey.contracts import InvalidMessage, event_types, load_sample, make_event, parse_message, schema_for
from tillkey.contracts.envelope import EnvelopeSchema
from tillkey.contracts.prepared import cleaner, load_is_canonical, prepare
from tillkey.contracts.registry import _schemas, cleaner_for

TYPES = event_types()
ids = [f"{t}.v{v}" for t, v in TYPES]

# What a wrong producer might put in a value's place (and `DELETE`: no value at all).
DELETE = object()
WRONG_VALUES = (DELETE, None, -1, 0, 1001, 1.5, True, "", "x", "ord_", "2026-01-01T00:00:00Z", [], ["x"], {}, {"x": 1})


def as_plain_marshmallow(schema_class: type[Schema], data):
    """The canonical data as the contracts made it before prepared.py: a fresh Schema, dump(load())."""
    return schema_class().dump(schema_class().load(data))


def plain_parse(body: str):
    """parse_message before prepared.py, as (envelope dict, data) or the InvalidMessage text."""
    raw = json.loads(body)
    try:
        env = EnvelopeSchema().load(raw)
    except ValidationError as exc:
        return f"bad envelope: {exc.messages}"
    schema_class = _schemas().get((env["type"], env["version"]))
    if schema_class is None:
        return str(KeyError(f"no contract for event {env['type']!r} version {env['version']}"))
    try:
        return {k: v for k, v in env.items() if k != "data"}, as_plain_marshmallow(schema_class, env["data"])
    except ValidationError as exc:
        return f"{env['type']} v{env['version']}: {exc.messages}"


def outcome(body: str):
    """parse_message's answer in plain_parse's shape."""
    try:
        parsed = parse_message(body)
    except InvalidMessage as exc:
        return str(exc)
    env = parsed.to_dict()
    return {k: v for k, v in env.items() if k != "data"}, env["data"]


def mutations(value, path=()):
    """(path, wrong value) for every place in `value`, nested dicts and lists included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from ((path + (key,), wrong) for wrong in WRONG_VALUES)
            yield from mutations(inner, path + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from ((path + (i,), wrong) for wrong in WRONG_VALUES if wrong is not DELETE)
            yield from mutations(inner, path + (i,))


def mutated(sample: dict, path: tuple, wrong) -> dict:
    copy = json.loads(json.dumps(sample))
    *parents, last = path
    target = copy
    for key in parents:
        target = target[key]
    if wrong is DELETE:
        del target[last]
    else:
        target[last] = wrong
    return copy


@pytest.mark.parametrize("type_version", TYPES, ids=ids)
def test_every_contract_loads_straight_to_its_canonical_form(type_version):
    schema = schema_for(*type_version)
    data = load_sample(*type_version)["data"]
    assert load_is_canonical(schema)
    assert cleaner_for(*type_version) == schema.load   # no dump per message
    loaded = schema.load(data)
    # Same values and the same key order (the JSON text written without sort_keys).
    assert json.dumps(loaded) == json.dumps(schema.dump(loaded)) == json.dumps(as_plain_marshmallow(type(schema), data))


@pytest.mark.parametrize("type_version", TYPES, ids=ids)
def test_parse_message_answers_as_plain_marshmallow_for_every_wrong_value(type_version):
    sample = load_sample(*type_version)
    sample["data"]["added_by_a_newer_producer"] = {"x": 1}
    sample["added_to_the_envelope"] = 1
    cases = [sample] + [mutated(sample, path, wrong) for path, wrong in mutations(sample)]
    refused = 0
    for case in cases:
        body = json.dumps(case)
        expected = plain_parse(body)
        assert outcome(body) == expected, body
        if isinstance(expected, str):
            refused += 1
        else:   # the bytes other services store and sign
            assert json.dumps(outcome(body)[1]) == json.dumps(expected[1])
    assert len(cases) // 3 < refused < len(cases)   # the wrong values did reach the validators


@pytest.mark.parametrize("type_version", TYPES, ids=ids)
def test_make_event_answers_as_plain_marshmallow_for_every_wrong_value(type_version):
    data = load_sample(*type_version)["data"]
    schema_class = _schemas()[type_version]
    for path, wrong in [((), None), *mutations(data)]:
        case = mutated(data, path, wrong) if path else data
        try:
            expected = json.dumps(as_plain_marshmallow(schema_class, case))
        except ValidationError as exc:
            with pytest.raises(InvalidMessage) as refused:
                make_event(*type_version[:1], case, "test", version=type_version[1])
            assert str(refused.value) == f"{type_version[0]} v{type_version[1]}: {exc.messages}"
        else:
            env = make_event(type_version[0], case, "test", version=type_version[1])
            assert json.dumps(env.data) == expected


def test_bad_envelopes_get_the_same_errors():
    base = load_sample("order.paid")
    for key in base:
        for wrong in WRONG_VALUES:
            body = json.dumps(mutated(base, (key,), wrong))
            assert outcome(body) == plain_parse(body), body


class Stamped(Schema):
    class Meta:
        unknown = EXCLUDE

    at = fields.DateTime(required=True)


def _schema(**declared) -> Schema:
    return Schema.from_dict(declared)()


@pytest.mark.parametrize("schema", [
    Stamped(),                                                       # loads a datetime, dumps text
    _schema(n=fields.Integer(as_string=True)),                       # loads an int, dumps text
    _schema(n=fields.Integer(data_key="N")),
    _schema(n=fields.Integer(load_only=True)),
    _schema(n=fields.Float()),
    _schema(flag=fields.Boolean(truthy={"yes"})),
    _schema(inner=fields.Nested(Stamped)),
    _schema(inner=fields.List(fields.Nested(Stamped))),
    _schema(inner=fields.Dict(values=fields.DateTime())),
    _schema(inner=fields.Nested(Schema.from_dict({"a": fields.String()}), unknown=INCLUDE)),
    _schema(items=fields.String()),                                  # a dict's attribute: dump reads a method
], ids=repr)
def test_a_schema_whose_load_is_not_what_it_dumps_keeps_the_dump(schema):
    schema.unknown = EXCLUDE  # from_dict schemas raise on unknown keys; that alone would decide
    assert not load_is_canonical(schema)
    assert cleaner(schema) != schema.load


def test_a_post_load_hook_keeps_the_dump():
    class Hooked(Schema):
        class Meta:
            unknown = EXCLUDE

        n = fields.Integer()

        @post_load
        def double(self, data, **kwargs):
            return {"n": data["n"] * 2}

    assert not load_is_canonical(Hooked())
    assert cleaner(Hooked())({"n": 2}) == {"n": 4}


def test_the_kept_dump_still_gives_the_canonical_text():
    assert cleaner(Stamped())({"at": "2026-11-27T10:00:00.000Z"}) == {"at": "2026-11-27T10:00:00+00:00"}


def test_prepared_validators_give_marshmallows_messages_and_build_nothing_per_value(monkeypatch):
    declared = {"n": fields.Integer(validate=[validate.Range(min=1), validate.OneOf([2, 3])]),
                "s": fields.String(validate=validate.Length(max=2)), "free": fields.String(),
                "items": fields.List(fields.Email())}
    plain, prepared = Schema.from_dict(declared)(), prepare(Schema.from_dict(declared)())
    bad = {"n": 0, "s": "long", "free": "x", "items": ["ada@example.com", "nope"]}
    with pytest.raises(ValidationError) as expected:
        plain.load(bad)
    monkeypatch.setattr(validate.And, "__init__", lambda *a, **k: pytest.fail("And built per value"))
    with pytest.raises(ValidationError) as got:
        prepared.load(bad)
    assert got.value.messages == expected.value.messages
    good = {"n": 2, "s": "ok", "items": ["ada@example.com"]}
    assert prepared.load(good) == good


def test_every_contract_schema_and_its_nested_ones_take_the_lean_loop():
    order = schema_for("order.created")
    for schema in (order, order.fields["customer"].schema, order.fields["lines"].inner.schema,
                   *(schema_for(*tv) for tv in TYPES)):
        assert "_deserialize" in vars(schema), schema


@pytest.mark.parametrize("options", [{"many": True}, {"partial": True}, {"partial": ("lines",)},
                                     {"unknown": INCLUDE}], ids=repr)
def test_options_the_lean_loop_leaves_out_go_to_marshmallows(options):
    data = load_sample("order.created")["data"]
    del data["lines"]
    data["later"] = 1
    body = [data, {"order_id": 1}] if options.get("many") else data
    plain, prepared = _schemas()[("order.created", 1)](), schema_for("order.created")

    def answer(schema):
        try:
            return schema.load(body, **options)
        except ValidationError as exc:
            return exc.messages

    assert answer(prepared) == answer(plain)
