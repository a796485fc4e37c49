"""Rows ↔ domain objects, for hot paths that read and write with Core statements instead of
loading and flushing through the ORM (docs/architecture.md 7.8).

A service's `adapters/rows.py` names its tables' columns; these are the moves every one of them
makes: read a row into its domain class, take an object's column values, keep what was read to
compare with at commit, and find what changed — so a locked aggregate is written back as one
UPDATE of the columns that changed.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Table

Values = dict[str, Any]
# A row as RowMapping (Result.mappings()): keyed by column names, or by Column objects where a join repeats a name.
RowValues = Mapping[Any, Any]
T = TypeVar("T")


def column_names(table: Table, *, without: Iterable[str] = ()) -> tuple[str, ...]:
    """The table's columns, each an attribute of the same name on its domain class (as the
    service's start_mappers maps them)."""
    skipped = set(without)
    return tuple(c.name for c in table.c if c.name not in skipped)


def values_of(obj: object, names: Iterable[str]) -> Values:
    return {name: getattr(obj, name) for name in names}


def from_row(cls: type[T], row: RowValues, names: Iterable[str]) -> T:
    return cls(**{name: row[name] for name in names})


def kept(values: Values) -> Values:
    """Column values to compare with at commit. JSON values are copied: a change made in place (a
    list appended to, a dict updated) must still show as a change."""
    return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}


def changed(before: Values, after: Values) -> Values:
    """The columns whose values differ: what the UPDATE at commit sets, and only those."""
    return {k: v for k, v in after.items() if before[k] != v}
