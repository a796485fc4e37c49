"""Clock helpers: SQLite's naive datetimes are UTC; seconds_until spans them."""
from datetime import UTC, datetime

from tillkey.platform.clock import seconds_until

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_seconds_until_a_moment_stored_naive_or_aware_and_none_without_one():
    assert seconds_until(datetime(2026, 3, 1, 12, 0, 30), NOW) == 30.0  # naive, as SQLite returns it
    assert seconds_until(datetime(2026, 3, 1, 11, 59, tzinfo=UTC), NOW) == -60.0  # already due
    assert seconds_until(None, NOW) is None
