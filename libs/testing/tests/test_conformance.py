"""The checker that holds a fake and the real unit of work to one Protocol."""
from __future__ import annotations

from typing import Protocol

import pytest

from tillkey.testing.conformance import assert_conforms, problems


class Repo(Protocol):
    def get(self, key: str, lock: bool = False) -> object | None: ...
    def page(self, *, cursor: str | None) -> list: ...


class Uow(Protocol):
    things: Repo

    def commit(self) -> None: ...


class GoodRepo:
    def get(self, id, lock=False, *, extra=None):  # another positional name: callers pass it by position
        return None

    def page(self, *, cursor):
        return []


class GoodUow:
    def __init__(self, repo=None):
        self.things = repo or GoodRepo()

    def commit(self):
        pass


def test_an_implementation_with_every_member_and_compatible_signatures_conforms():
    assert problems(GoodUow(), Uow) == []
    assert_conforms(GoodUow(), Uow)


def test_a_missing_method_attribute_or_nested_method_is_named():
    class NoCommit:
        things = GoodRepo()

    class NoThings:
        def commit(self):
            pass

    class RepoWithoutGet:
        def page(self, *, cursor):
            return []

    assert problems(NoCommit(), Uow) == ["NoCommit.commit: missing"]
    assert problems(NoThings(), Uow) == ["NoThings.things: missing attribute"]
    assert problems(GoodUow(RepoWithoutGet()), Uow) == ["GoodUow.things.get: missing"]


@pytest.mark.parametrize("method, said", [
    ("def get(self): pass", "takes no parameter 1 ('key')"),
    ("def get(self, key): pass", "takes no parameter 2 ('lock')"),
    ("def get(self, key, lock=False, *, cursor): pass", "requires 'cursor', which callers of the Protocol never pass"),
])
def test_a_signature_callers_could_not_use_is_named(method, said):
    namespace: dict = {}
    exec(f"class R:\n    {method}\n    def page(self, *, cursor): pass", namespace)
    assert problems(GoodUow(namespace["R"]()), Uow) == [f"GoodUow.things.get: {said}"]


def test_keyword_catch_alls_accept_what_the_protocol_passes():
    class Loose:
        def get(self, *args, **kwargs):
            return None

        def page(self, **kwargs):
            return []

    assert problems(GoodUow(Loose()), Uow) == []


def test_assert_conforms_fails_with_every_problem():
    class Bad:
        pass

    with pytest.raises(AssertionError, match="does not implement Uow"):
        assert_conforms(Bad(), Uow)


def test_a_keyword_only_parameter_must_keep_its_name():
    class Renamed(GoodRepo):
        def page(self, *, after):
            return []

    assert problems(GoodUow(Renamed()), Uow) == ["GoodUow.things.page: takes no keyword 'cursor'"]
