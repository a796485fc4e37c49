"""Strict JSON fields for every request schema: a value is the type the OpenAPI document says, or 422.

marshmallow's `Boolean(truthy={True}, falsy={False})` still lets `1` and `0` through (`1 in {True}`
is true in Python), and its `Integer(strict=True)` takes `true` as 1 (`bool` is an `Integral`). A
merchant generating a client from /openapi.json reads `boolean` and `integer`; anything else is a
guess we do not make.
"""
from __future__ import annotations

from marshmallow import fields


class Boolean(fields.Boolean):
    """JSON `true` or `false`, nothing else (no 1/0, no "yes")."""

    default_error_messages = {"invalid": "Not a boolean (use true or false)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class Integer(fields.Integer):
    """A JSON integer: no booleans, no floats (not even 2.0), no numeric strings."""

    default_error_messages = {"invalid": "Not an integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _validated(self, value):
        if value is True or value is False or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)
