"""Strict JSON fields: only the type the OpenAPI document names passes (issue 18)."""
import pytest
from marshmallow import Schema, ValidationError

from tillkey.platform import schemas as strict


class Body(Schema):
    flag = strict.Boolean()
    count = strict.Integer()


@pytest.mark.parametrize("value", [1, 0, 1.0, "true", "1", "yes", None])
def test_boolean_refuses_anything_but_true_and_false(value):
    with pytest.raises(ValidationError) as err:
        Body().load({"flag": value})
    assert "flag" in err.value.messages


@pytest.mark.parametrize("value", [True, False, 2.5, float("inf"), "2", None])
def test_integer_refuses_booleans_floats_and_strings(value):
    with pytest.raises(ValidationError) as err:
        Body().load({"count": value})
    assert "count" in err.value.messages


def test_the_right_types_pass_and_document_as_such():
    assert Body().load({"flag": False, "count": 0}) == {"flag": False, "count": 0}
    assert Body().load({"flag": True, "count": 10**12}) == {"flag": True, "count": 10**12}
    loaded = Body().load({"count": 2.0})["count"]  # JSON Schema's integer: no fraction
    assert loaded == 2 and isinstance(loaded, int)
    from apispec.ext.marshmallow.field_converter import FieldConverterMixin
    converter = FieldConverterMixin()
    converter.init_attribute_functions()
    assert converter.field2property(strict.Boolean())["type"] == "boolean"
    assert converter.field2property(strict.Integer())["type"] == "integer"


@pytest.mark.parametrize("value, blank", [
    ("a", False), (" a", False), ("\u00a0b", False), ("\x1fa", False),
    ("", True), ("  \t", True), ("\x1f", True), ("\x1c\x1d", True), ("\x85", True), ("\ufeff", True), ("\x00", True),
])
def test_not_blank_refuses_white_space_and_control_characters_alike_in_python_and_the_document(value, blank):
    # Python's \s takes U+001C-U+001F and U+0085, ECMAScript's U+FEFF: the pattern names them all, so
    # a client checking the document's pattern agrees with the API (schemathesis once sent "\u001f").
    if blank:
        with pytest.raises(ValidationError, match="Must not be blank"):
            strict.NOT_BLANK(value)
    else:
        assert strict.NOT_BLANK(value) == value
