"""A fake unit of work for handler unit tests: no database, records commits and emitted events."""
from __future__ import annotations

from tillkey.contracts import Envelope, make_event
from tillkey.platform.clock import FixedClock


class FakeUnitOfWork:
    """Subclass it with the service's repository methods. Events are validated against their contract."""

    def __init__(self, cause: Envelope | None = None, clock=None):
        self.cause = cause
        self.clock = clock or FixedClock()
        self.emitted: list[Envelope] = []
        self.added: list[object] = []
        self.commits = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass

    def add(self, obj) -> None:
        self.added.append(obj)

    def sending_lease(self):
        return None  # no worker in this process: created jobs wait for its poll

    def hand_off(self, job) -> None:
        raise AssertionError("nothing is handed off without a sending lease")

    def emit(self, type: str, data: dict, version: int = 1) -> Envelope:
        env = make_event(type, data, "test", version=version)  # raises InvalidMessage off-contract
        self.emitted.append(env)
        return env

    def emitted_types(self) -> list[str]:
        return [e.type for e in self.emitted]
