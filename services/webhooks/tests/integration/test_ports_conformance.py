"""The unit tests' fake unit of work and the real one implement the same ports (docs/architecture.md
10, rule 3): a handler tested on the fake finds the same repositories and methods in production.
SQLite and PostgreSQL (the `service` fixture runs on both)."""
from tillkey.testing.conformance import assert_conforms
from tillkey.webhooks.service_layer import ports

from ..unit.conftest import FakeUnitOfWork


def test_the_real_unit_of_work_implements_the_port(service):
    with service.uow_factory() as uow:
        assert_conforms(uow, ports.UnitOfWork)


def test_the_fake_unit_of_work_implements_the_same_port():
    assert_conforms(FakeUnitOfWork(), ports.UnitOfWork)
