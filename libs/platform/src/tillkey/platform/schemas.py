"""Strict JSON fields for every request schema: a value is the type the OpenAPI document says, or 422.

marshmallow's `Boolean(truthy={True}, falsy={False})` still lets `1` and `0` through (`1 in {True}`
is true in Python), and its `Integer(strict=True)` takes `true` as 1 (`bool` is an `Integral`) yet
refuses 2.0, which JSON Schema (so the document) calls an integer. A merchant generating a client
from /openapi.json reads `boolean` and `integer`; anything else is a guess we do not make.
"""
from __future__ import annotations

from marshmallow import fields, validate


class Boolean(fields.Boolean):
    """JSON `true` or `false`, nothing else (no 1/0, no "yes")."""

    default_error_messages = {"invalid": "Not a boolean (use true or false)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class Integer(fields.Integer):
    """A JSON integer: no booleans, no fractions, no numeric strings."""

    default_error_messages = {"invalid": "Not an integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _validated(self, value):
        # JSON Schema calls 2.0 an integer (a number with no fraction), and so does the document: it
        # is taken as 2. Booleans, strings and fractions are not integers.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is True or value is False or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


# -- validators the OpenAPI document states exactly (issue 18) ---------------------------------------
# Written as patterns and enumerations, not functions: apispec copies them into /openapi.json, so a
# client generated from the document refuses and accepts exactly what the API does. Patterns use
# the syntax Python's `re` and ECMAScript share.

# At least one character that is neither white space nor a control character. `\s` differs between
# engines (Python's takes U+001C-U+001F and U+0085, ECMAScript's U+FEFF): the class names them, so a
# client checking the document's pattern and this check agree on every string (a generated client
# once sent "\u001f", which the document allowed and this refused).
_BLANK = r"[\s\x00-\x1f\x7f\x85\ufeff]"
NOT_BLANK = validate.Regexp(rf"^{_BLANK}*[^{_BLANK[1:-1]}]", error="Must not be blank.")


def one_of(choices, error: str) -> validate.OneOf:
    """An enumeration in the document (sorted: a stable document)."""
    return validate.OneOf(sorted(choices), error=error)


def url(*, schemes: tuple[str, ...] = ("http", "https"), dotted_host: bool = False, error: str | None = None,
        **kw) -> fields.String:
    """An absolute URL: scheme, a host of letters, digits, '-' and '.', an optional port, then any
    printable characters but spaces. `dotted_host`: a name with a top-level domain (public sites)."""
    host = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}" if dotted_host else r"[A-Za-z0-9.-]+"
    pattern = rf"^(?:{'|'.join(schemes)})://{host}(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?$"
    message = error or f"Not a valid URL (like {schemes[-1]}://example.com/page)."
    return fields.String(validate=[validate.Length(max=2048), validate.Regexp(pattern, error=message)], **kw)
