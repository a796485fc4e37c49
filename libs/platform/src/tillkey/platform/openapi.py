"""What apispec cannot see, put into the document: every constraint the validation enforces (issue 18).

apispec reads marshmallow's own validators (Length, Range, OneOf, Regexp, Equal) but not a
validator written as a function, a Dict's key rules, or a Dict's size. Validators here carry the
JSON Schema they enforce (`documented`), and the converter writes it. OpenAPI 3.1: its schemas are
JSON Schema, so a map's key rule (`propertyNames`) can be said exactly.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import fields

OPENAPI_VERSION = "3.1.0"
# Rules of every call, said once rather than on every field (tillkey.platform.inputs enforces them).
DOCUMENT_RULES = ("Bodies are JSON objects (`Content-Type: application/json`, at most 1 MiB). No text anywhere "
                  "(body, query, path) may contain U+0000 or an unpaired surrogate (I-JSON, RFC 7493): such "
                  "requests get 422. Errors are `application/problem+json` (RFC 9457) with a `code`.")


_Validator = TypeVar("_Validator", bound=Callable[..., Any])


def documented(validator: _Validator, **json_schema: Any) -> _Validator:
    """Attach the JSON Schema a validator enforces (a function or a validator object)."""
    # setattr: any callable may carry the attribute, and no type says "a callable with `openapi`".
    setattr(validator, "openapi", {**getattr(validator, "openapi", {}), **json_schema})  # noqa: B010
    return validator


def _validators_say(converter, field: fields.Field, ret: dict, **_kw) -> dict:
    extra: dict[str, Any] = {}
    for validator in field.validators:
        extra.update(getattr(validator, "openapi", {}))
    extra.update(getattr(field, "openapi", {}))
    return extra


def _maps_say(converter, field: fields.Field, ret: dict, **_kw) -> dict:
    if not isinstance(field, fields.Dict):
        return {}
    # apispec writes a Dict's Length as a string length; for a map it is a number of keys.
    for length, properties in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
        if length in ret:
            ret[properties] = ret.pop(length)
    if field.key_field is not None:
        keys = converter.field2property(field.key_field)
        keys.pop("type", None)
        if keys:
            return {"propertyNames": keys}
    return {}


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        # A rule across fields (`@validates_schema`) is stated by the schema's `Meta.openapi`.
        jsonschema = super().schema2jsonschema(schema)
        jsonschema.update(getattr(getattr(schema, "Meta", None), "openapi", {}))
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        if self.converter is None:  # MarshmallowPlugin.init_spec has just set it
            raise RuntimeError("MarshmallowPlugin.init_spec set no converter")
        self.converter.add_attribute_function(_validators_say)
        self.converter.add_attribute_function(_maps_say)


def marshmallow_plugin() -> MarshmallowPlugin:
    return _Plugin()
