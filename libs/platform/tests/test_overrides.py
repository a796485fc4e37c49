"""A misspelled bootstrap override is refused, not silently ignored."""
from __future__ import annotations

from typing import TypedDict

import pytest

from tillkey.platform.overrides import refuse_unknown


class Overrides(TypedDict, total=False):
    clock: object
    engine: object


def test_declared_overrides_pass_and_an_unknown_one_is_named():
    refuse_unknown({}, Overrides)
    refuse_unknown({"clock": 1, "engine": 2}, Overrides)
    with pytest.raises(TypeError, match=r"unknown override clok; Overrides declares clock, engine"):
        refuse_unknown({"clok": 1}, Overrides)
