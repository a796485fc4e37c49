"""`make chaos`: the fault suite's fixtures and the tally table at the end (tests/chaos/tally.py).

The suite brings its own PostgreSQL (and RabbitMQ node when `tillkey.testing.rabbitmq_nodes` is
there) so it can restart them mid-flow without touching the shared servers other runs use.
"""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

from tests.chaos import tally as tallies
from tests.chaos.harness import ChaosPlatform
from tillkey.testing import rabbitmq_nodes
from tillkey.testing.private_postgres import PrivatePostgres


@pytest.fixture(scope="session")
def private_postgres():
    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chaos_amqp():
    """(amqp_url, the RabbitNodes behind it): one RabbitMQ node of the suite's own, so the broker
    scenario can stop and start it; a module may override this (test_broker_cluster.py)."""
    if not rabbitmq_nodes.available():
        pytest.fail("make chaos starts a RabbitMQ node of its own: rabbitmq-server is not installed here")
    with rabbitmq_nodes.RabbitNodes(1, clustered=False, prefix="tillkey-chaos") as nodes:
        yield nodes.amqp_url, nodes


@pytest.fixture(scope="module")
def chaos(chaos_amqp, private_postgres, tmp_path_factory, request):
    """The platform one scenario module runs on; a module may set CHAOS_PLATFORM = {...} (keyword
    arguments of ChaosPlatform: extra_env, worker_replicas, web_concurrency)."""
    options = getattr(request.module, "CHAOS_PLATFORM", {})
    plat = ChaosPlatform(chaos_amqp[0], private_postgres.url, tmp_path_factory.mktemp("chaos"), **options)
    try:
        yield plat.start()
    except Exception:
        print(plat.platform.logs())
        raise
    finally:
        plat.stop()


@pytest.fixture
def chaos_tally(request):
    """One row of the table: the scenario fills it, it is recorded whether the test passed or not."""
    row = tallies.Tally(scenario=request.node.name.removeprefix("test_"))
    started = time.monotonic()
    yield row
    row.seconds = time.monotonic() - started
    tallies.record(row)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    plat = item.funcargs.get("chaos") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and plat is not None:
        report.sections.append(("platform logs", plat.platform.logs()))


def pytest_terminal_summary(terminalreporter, config):
    rows = tallies.recorded()
    if not rows:
        return
    out = config.rootpath / "artifacts" / "chaos" / "tally.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
    terminalreporter.section("chaos tally")
    terminalreporter.write_line(tallies.table(rows))
    for row in rows:
        for note in row.notes[:20]:
            terminalreporter.write_line(f"  {row.scenario}: {note}")
    terminalreporter.write_line(f"every note: {out}")


def pytest_sessionfinish(session, exitstatus):
    # Any failure counted fails the run, even in a scenario that did not assert on its tally.
    if any(row.failures for row in tallies.recorded()) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
