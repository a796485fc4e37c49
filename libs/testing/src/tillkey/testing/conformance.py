"""Does an object really implement a service's ports? (docs/architecture.md 10, rule 3)

A unit test's fake unit of work and the SQLAlchemy one must offer the same repositories and
methods, or the fast tests prove things about an interface production does not have. mypy checks a
fake only where it is passed as the Protocol; `assert_conforms` checks every member the Protocol
declares, recursively into members typed with another Protocol (a unit of work's repositories):

    with real_uow_factory() as uow:
        assert_conforms(uow, ports.UnitOfWork)
    assert_conforms(FakeUnitOfWork(), ports.UnitOfWork)

A method conforms when a caller written against the Protocol can call it: as many positional
parameters (their names may differ), the same keyword-only ones; it may take more, if they have
defaults.
"""
from __future__ import annotations

import inspect
import typing
from typing import Any

_IGNORED = {"__init__", "__init_subclass__", "__subclasshook__", "__class_getitem__", "__protocol_attrs__",
            "__non_callable_proto_members__", "__parameters__", "__orig_bases__", "__abstractmethods__",
            "__annotations__", "__dict__", "__doc__", "__module__", "__qualname__", "__weakref__",
            "__slots__", "__static_attributes__", "__firstlineno__", "_is_protocol", "_is_runtime_protocol"}
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def is_protocol(cls: object) -> bool:
    return isinstance(cls, type) and bool(getattr(cls, "_is_protocol", False))


def members(protocol: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(methods by name, attributes by name with their annotation) the Protocol declares, its
    Protocol bases included."""
    methods: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for base in reversed(protocol.__mro__):
        if base in (object, typing.Protocol, typing.Generic) or not is_protocol(base):
            continue
        hints = typing.get_type_hints(base)
        for name in base.__dict__.get("__annotations__", {}):
            attributes[name] = hints.get(name)
        for name, value in base.__dict__.items():
            if name in _IGNORED or name in attributes:
                continue
            if callable(value) or isinstance(value, property | staticmethod | classmethod):
                methods[name] = value
    return methods, attributes


def problems(impl: object, protocol: type, path: str = "") -> list[str]:
    """What `impl` (an object, or a class when the Protocol declares no attributes) lacks of
    `protocol`, one line each; empty when it conforms."""
    where = path or (impl.__name__ if isinstance(impl, type) else type(impl).__name__)
    found: list[str] = []
    methods, attributes = members(protocol)
    for name, declared in methods.items():
        actual = getattr(impl, name, None)
        if actual is None:
            found.append(f"{where}.{name}: missing")
            continue
        if isinstance(declared, property):
            continue
        mismatch = _signature_mismatch(declared, actual)
        if mismatch:
            found.append(f"{where}.{name}: {mismatch}")
    for name, annotation in attributes.items():
        if not hasattr(impl, name):
            found.append(f"{where}.{name}: missing attribute")
            continue
        if is_protocol(annotation):
            found.extend(problems(getattr(impl, name), annotation, f"{where}.{name}"))
    return found


def assert_conforms(impl: object, protocol: type) -> None:
    found = problems(impl, protocol)
    assert not found, f"does not implement {protocol.__name__}:\n  " + "\n  ".join(found)


def _signature_mismatch(declared: Any, actual: Any) -> str | None:
    try:
        wanted = _parameters(declared)
        offered = _parameters(actual)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
        return None
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in offered)
    takes_any_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in offered)
    by_name = {p.name: p for p in offered}
    positional = [p for p in offered if p.kind in _POSITIONAL]
    for index, p in enumerate(wanted):
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            if not any(o.kind is p.kind for o in offered):
                return f"takes no {'*' if p.kind is inspect.Parameter.VAR_POSITIONAL else '**'}{p.name}"
            continue
        if p.kind in _POSITIONAL:
            # Names of positional parameters may differ (a generic fake's `add(self, obj)`): the
            # handlers pass them by position.
            if index < len(positional) or takes_any_positional:
                continue
            return f"takes no parameter {index + 1} ({p.name!r})"
        if p.name not in by_name and not takes_any_keyword:  # keyword-only
            return f"takes no keyword {p.name!r}"
    passed_by_position = sum(1 for p in wanted if p.kind in _POSITIONAL)
    passed_by_keyword = {p.name for p in wanted if p.kind is inspect.Parameter.KEYWORD_ONLY}
    for index, p in enumerate(positional):
        if p.default is inspect.Parameter.empty and index >= passed_by_position:
            return f"requires {p.name!r}, which callers of the Protocol never pass"
    for p in offered:
        if (p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
                and p.name not in passed_by_keyword):
            return f"requires {p.name!r}, which callers of the Protocol never pass"
    return None


def _parameters(function: Any) -> list[inspect.Parameter]:
    """Its parameters as a caller sees them: without `self` of an unbound method."""
    params = list(inspect.signature(function).parameters.values())
    if inspect.isfunction(function) and params and params[0].name in ("self", "cls"):
        params = params[1:]
    return params
