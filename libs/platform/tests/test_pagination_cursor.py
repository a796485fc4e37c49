"""Cursors are opaque to callers: anything we did not hand out is "not a cursor", never a 500."""
import base64
import json
import re
from datetime import UTC, datetime

import pytest

from tillkey.platform.pagination import (
    CURSOR_PATTERN,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    PageQuery,
    decode_cursor,
    encode_cursor,
    paginate,
)


def _cursor(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_a_cursor_we_made_round_trips_in_utc():
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, "prod_1")) == (at, "prod_1")
    created, _ = decode_cursor(_cursor(["2026-03-01T14:30:00+02:00", "prod_1"]))
    assert created == at and created.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("cursor", [
    _cursor(["2026-01-01T00:00:00+00:00", "ord_\u0000"]),     # PostgreSQL refused the query: 500
    _cursor(["0001-01-01T00:00:00+14:00", "x"]),             # before year 1 in UTC: OverflowError
    _cursor(["9999-12-31T23:59:59+00:00", "x"])[:-2] + "!!",
    base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode(),   # RecursionError in the parser
    _cursor({"a": 1, "b": 2}), _cursor([1, 2]), _cursor(["2026-01-01", "x", 3]), "x", "",
])
def test_anything_else_is_not_a_cursor(cursor):
    assert decode_cursor(cursor) is None
    if not cursor:
        assert PageQuery().load({"cursor": cursor})["cursor"] == ""  # the first page, as the document says
    elif re.fullmatch(CURSOR_PATTERN, cursor) is None or len(cursor) > MAX_CURSOR_LENGTH:
        assert "cursor" in PageQuery().validate({"cursor": cursor})  # not even the documented form
    else:
        # The documented form, but not one this API handed out: refused when used, still a 422.
        assert PageQuery().validate({"cursor": cursor}) == {}
        with pytest.raises(InvalidCursor) as refused:
            paginate(None, None, None, None, 10, cursor)
        assert refused.value.status == 422 and "cursor" in refused.value.errors
