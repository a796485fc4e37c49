"""Readying a contract's Schema once, so that each message pays only for its own validation.

Every message a worker takes or publishes goes through a contract (docs/architecture.md §7.8), and
marshmallow redoes three things per message that depend on the contract alone:

- each field builds a new `validate.And` of its validators on every value (`Field._validate_all` is a
  property). `prepare` builds it once per field; the same `And`, so the same errors.
- `Schema._deserialize` makes a closure, a kwargs dict and a partial-collection test per field per
  load, for options (`partial`, `data_key`, dotted attributes) no contract uses. `prepare`
  also gives each schema the same loop without them, calling the same `Field.deserialize`.
- `dump(load(data))` dumps what load already gave in its canonical form when every field loads to
  what it dumps. `cleaner` decides that once per contract, from the fields' kinds, and then
  returns the bare `load`.

Marshmallow still validates every value; only repeated set-up and a no-op copy go.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from marshmallow.error_store import ErrorStore

# Field classes (exactly these, not subclasses: a subclass may load or dump its own way) whose
# load output dumps to itself: String and Email load to str, Integer to int, Boolean to bool, and
# List, Dict and Nested to a fresh list or dict of their inner fields' load output.
_LOADED_AS_DUMPED = frozenset({fields.String, fields.Email, fields.Integer, fields.Boolean,
                               fields.List, fields.Dict, fields.Nested})


def _no_validators(value: Any) -> None:
    """What marshmallow's empty `And()` does to a value: nothing."""


def prepare(schema: Schema) -> Schema:
    """Give each field of `schema` (nested ones too) its validator chain built once, not per value,
    and each schema the lean field loop (`_lean_deserialize`)."""
    for field in _fields(schema):
        # An instance attribute hides Field._validate, which builds the chain anew on every call.
        field.__dict__["_validate"] = _validator_chain(field)
    for each in _schema_tree(schema):
        if all(name == field.name and "." not in name and not field.attribute and field.data_key is None
               for name, field in each.load_fields.items()):
            each.__dict__["_deserialize"] = _lean_deserialize(each)
    return schema


def _validator_chain(field: fields.Field) -> Callable[[Any], Any]:
    """What `Field._validate` calls: `And(*validators)`, or the one validator alone. A marshmallow
    Validator raises `ValidationError(message)`, which `And` re-raises as `[message]`: the same messages."""
    if not field.validators:
        return _no_validators
    if len(field.validators) == 1 and isinstance(field.validators[0], validate.Validator):
        return field.validators[0]
    return field._validate_all  # noqa: SLF001


def _lean_deserialize(schema: Schema) -> Callable[..., Any]:
    """`schema._deserialize` for one plain mapping (not `many`, no `partial`, unknown keys excluded):
    marshmallow's loop less what serves other options, so the same values and the same errors.
    Anything else goes to marshmallow's own."""
    marshmallows = type(schema)._deserialize.__get__(schema)  # noqa: SLF001
    named_fields = tuple(schema.load_fields.items())
    dict_class, type_error, index_errors = schema.dict_class, schema.error_messages["type"], schema.opts.index_errors

    def deserialize(data: Any, *, error_store: ErrorStore, many: bool = False, partial: Any = None,
                    unknown: str = EXCLUDE, index: int | None = None) -> Any:
        if many or partial is not None or unknown != EXCLUDE:
            return marshmallows(data, error_store=error_store, many=many, partial=partial, unknown=unknown,
                                index=index)
        index = index if index_errors else None
        loaded = dict_class()
        if not isinstance(data, Mapping):
            error_store.store_error([type_error], index=index)
            return loaded
        for name, field in named_fields:
            try:
                value = field.deserialize(data.get(name, fields.missing_), name, data)
            except ValidationError as error:
                error_store.store_error(error.messages, name, index=index)
                # A Nested field's error carries what did load (marshmallow keeps it too).
                value = error.valid_data or fields.missing_
            if value is not fields.missing_:
                loaded[name] = value
        return loaded

    return deserialize


def load_is_canonical(schema: Schema) -> bool:
    """True if `schema.dump(schema.load(data)) == schema.load(data)` for every `data` load accepts,
    key order included: no hooks, no renamed or one-way fields, and only fields that load to what they dump."""
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE:  # noqa: SLF001
        return False
    if set(schema.load_fields) != set(schema.dump_fields):
        return False
    for name, field in schema.fields.items():
        # A key load left out (not required, no load_default) would make dump look up
        # `getattr(dict, name)`; a dotted name would be split into a path by both.
        if "." in name or hasattr(dict, name) or field.attribute or field.data_key:
            return False
        if not _loads_as_dumped(field):
            return False
    return True


def cleaner(schema: Schema) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The function giving `data`'s canonical form under `schema` (ValidationError if off-contract)."""
    if load_is_canonical(schema):
        return schema.load
    return lambda data: schema.dump(schema.load(data))


def _loads_as_dumped(field: fields.Field) -> bool:
    if type(field) not in _LOADED_AS_DUMPED:
        return False
    if field.dump_default is not fields.missing_ or field.load_only or field.dump_only:
        return False
    if isinstance(field, fields.Integer):
        return not field.as_string
    if isinstance(field, fields.Boolean):
        # Custom truthy/falsy sets could dump a loaded bool to something else.
        return field.truthy is fields.Boolean.truthy and field.falsy is fields.Boolean.falsy
    if isinstance(field, fields.List):
        return _loads_as_dumped(field.inner)
    if isinstance(field, fields.Dict):
        return all(inner is None or _loads_as_dumped(inner) for inner in (field.key_field, field.value_field))
    if isinstance(field, fields.Nested):
        # `unknown` on the field overrides the nested schema's EXCLUDE: kept keys would not dump.
        plain = not field.many and field.only is None and not field.exclude and field.unknown is None
        return plain and load_is_canonical(field.schema)
    return True  # String, Email


def _schema_tree(schema: Schema) -> Iterator[Schema]:
    yield schema
    for field in _fields(schema):
        if isinstance(field, fields.Nested):
            yield field.schema


def _fields(schema: Schema) -> Iterator[fields.Field]:
    for field in schema.fields.values():
        yield from _field_tree(field)


def _field_tree(field: fields.Field) -> Iterator[fields.Field]:
    yield field
    if isinstance(field, fields.List):
        yield from _field_tree(field.inner)
    elif isinstance(field, fields.Dict):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                yield from _field_tree(inner)
    elif isinstance(field, fields.Nested):
        yield from _fields(field.schema)
