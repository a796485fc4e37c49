"""A composition root's overrides: the parts a test swaps (the clock, the engine, a gateway).

Each service's `bootstrap(settings, **overrides)` declares the overrides it takes as a TypedDict
(`total=False`) and types `**overrides` with it (`Unpack`), so a type checker sees a misspelled or
ill-typed key; `refuse_unknown` refuses one at run time too. A silently ignored misspelling would
leave the test running against the real part while it believes it swapped it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from sqlalchemy.engine import Engine

from tillkey.platform.clock import Clock


class CommonOverrides(TypedDict, total=False):
    """What every composition root lets a test swap; a service's `Overrides` extends it."""

    engine: Engine
    clock: Clock
    uow_factory: Callable[..., Any]


def refuse_unknown(overrides: Mapping[str, Any], declared: Any) -> None:
    """TypeError naming any key of `overrides` that the TypedDict `declared` does not declare."""
    known = declared.__required_keys__ | declared.__optional_keys__
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown override{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                        f"{declared.__qualname__} declares {', '.join(sorted(known))}")
