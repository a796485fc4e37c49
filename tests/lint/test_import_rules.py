"""The import rules of `make lint` bite: each contract of pyproject.toml fails on a deliberate violation.

The contracts are read from pyproject.toml as they are, renamed from `tillkey` to a fixture package
(`tkfixture`, made in a temporary directory with the five services' layers) and run by import-linter
against it: the clean fixture passes every contract, and each case adds one forbidden import to one
module, which must break exactly the contract that forbids it. (`ignore_imports` are left out: they
name the real code's known exceptions, which the fixture does not have.)
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = ("domain", "service_layer", "adapters", "entrypoints")
MODULES = ("config", "bootstrap")


def _settings() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _contracts() -> list[dict]:
    return _settings()["contracts"]


# Every service of the independence contract gets the same rooms in the fixture.
SERVICES = tuple(m.split(".")[1] for c in _contracts() if c["type"] == "independence" for m in c["modules"])


def _rename(value):
    if isinstance(value, str):
        return value.replace("tillkey.", "tkfixture.") if value.startswith("tillkey.") else value
    if isinstance(value, list):
        return [_rename(v) for v in value]
    return value


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fixture_config() -> str:
    lines = ['[tool.importlinter]', 'root_packages = ["tkfixture"]']
    lines += [f"{key} = {_toml_value(value)}" for key, value in _settings().items()
              if key not in ("root_packages", "contracts")]
    lines.append("")
    for contract in _contracts():
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            if key == "ignore_imports":
                continue
            lines.append(f"{key} = {_toml_value(_rename(value))}")
        lines.append("")
    return "\n".join(lines)


def _make_fixture(root: Path) -> None:
    package = root / "tkfixture"
    for path in [package, package / "platform", package / "messaging"]:
        path.mkdir(parents=True, exist_ok=True)
        (path / "__init__.py").write_text("")
    # A library module over SQLAlchemy, and one that names pika only for the type checker.
    (package / "platform" / "db.py").write_text("import sqlalchemy\n")
    (package / "messaging" / "handling.py").write_text("from typing import TYPE_CHECKING\n"
                                                       "if TYPE_CHECKING:\n    import pika\n")
    for service in SERVICES:
        base = package / service
        base.mkdir()
        (base / "__init__.py").write_text("")
        for layer in LAYERS:
            (base / layer).mkdir()
            (base / layer / "__init__.py").write_text("")
            (base / layer / "code.py").write_text("")
        for module in MODULES:
            (base / f"{module}.py").write_text("")
        # the allowed direction, so that the clean fixture is not trivially empty
        (base / "service_layer" / "code.py").write_text(f"from tkfixture.{service}.domain import code\n"
                                                        "from tkfixture.messaging import handling\n")
        (base / "adapters" / "code.py").write_text("import sqlalchemy\n"
                                                   f"from tkfixture.{service}.service_layer import code\n")
        (base / "entrypoints" / "code.py").write_text("import flask\n"
                                                      f"from tkfixture.{service} import bootstrap\n")
        (base / "bootstrap.py").write_text(f"from tkfixture.{service} import config\n"
                                           f"from tkfixture.{service}.adapters import code\n")
    sandbox = package / "payments" / "sandbox"
    sandbox.mkdir()
    (sandbox / "__init__.py").write_text("")


def _lint(root: Path) -> subprocess.CompletedProcess:
    (root / "importlinter.toml").write_text(_fixture_config())
    return subprocess.run([str(LINT_IMPORTS), "--config", "importlinter.toml", "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
                          capture_output=True, text=True, timeout=60)


def _broken(output: str) -> set[str]:
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return {line.rsplit(" BROKEN", 1)[0].strip() for line in plain.splitlines() if line.rstrip().endswith(" BROKEN")}


@pytest.fixture
def fixture_root(tmp_path):
    _make_fixture(tmp_path)
    return tmp_path


def test_the_clean_fixture_keeps_every_contract(fixture_root):
    done = _lint(fixture_root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in done.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("orders/domain/code.py", "from tkfixture.payments.domain import code", "Services never import each other"),
    ("orders/domain/code.py", "import flask", "Domain imports no framework"),
    ("payments/domain/code.py", "from sqlalchemy import select", "Domain imports no framework"),
    ("fulfillment/domain/code.py", "import marshmallow", "Domain imports no framework"),
    ("notifications/domain/code.py", "import pika", "Domain imports no framework"),
    ("webhooks/domain/code.py", "import requests", "Domain imports no framework"),
    ("webhooks/domain/code.py", "import jinja2",
     "Domain imports no jinja2, adapter, entry point, composition root or sandbox"),
    ("payments/domain/code.py", "from tkfixture.payments import sandbox",
     "Domain imports no jinja2, adapter, entry point, composition root or sandbox"),
    ("orders/domain/code.py", "from tkfixture.orders.service_layer import code", "Layers point inward"),
    ("orders/service_layer/code.py", "from tkfixture.orders.adapters import code", "Layers point inward"),
    ("orders/service_layer/code.py", "import sqlalchemy",
     "Service layer imports no SQLAlchemy, Flask, pika or requests"),
    ("payments/service_layer/code.py", "from flask import g",
     "Service layer imports no SQLAlchemy, Flask, pika or requests"),
    ("fulfillment/service_layer/code.py", "import pika",
     "Service layer imports no SQLAlchemy, Flask, pika or requests"),
    ("webhooks/service_layer/code.py", "import requests",
     "Service layer imports no SQLAlchemy, Flask, pika or requests"),
    # through a library module: what runs is what counts
    ("payments/service_layer/code.py", "from tkfixture.platform import db",
     "Service layer imports no SQLAlchemy, Flask, pika or requests"),
    ("notifications/config.py", "from tkfixture.notifications.adapters import code",
     "Config imports no adapter, entry point or composition root"),
    ("orders/config.py", "from tkfixture.orders import bootstrap",
     "Config imports no adapter, entry point or composition root"),
])
def test_each_violation_breaks_its_contract(fixture_root, module, line, contract):
    path = fixture_root / "tkfixture" / module
    path.write_text(path.read_text() + line + "\n")
    done = _lint(fixture_root)
    assert done.returncode != 0, done.stdout
    assert contract in _broken(done.stdout), done.stdout


def test_every_contract_has_a_violation_case():
    cases = {c for *_, c in test_each_violation_breaks_its_contract.pytestmark[0].args[1]}
    assert {c["name"] for c in _contracts()} <= cases


def test_the_rules_name_each_known_exception_with_its_issue():
    text = (ROOT / "pyproject.toml").read_text()
    for contract in _contracts():
        for ignored in contract.get("ignore_imports", []):
            before = text[:text.index(f'"{ignored}"')].rsplit("\n", 2)[-2]
            assert "issue 15" in before, f"{ignored}: say which issue removes it, on the line before"


def test_pure_modules_do_not_pull_marshmallow_in():
    """The lazy tillkey.contracts: a domain that uses plain-data contract modules stays pure at run time."""
    code = ("import sys\n"
            "import tillkey.contracts.personal_data, tillkey.contracts.currencies\n"
            + "".join(f"import tillkey.{s}.domain\n" for s in SERVICES) +
            "import pkgutil, importlib\n"
            + "".join(f"[importlib.import_module(m.name) for m in pkgutil.walk_packages(tillkey.{s}.domain.__path__, "
                      f"'tillkey.{s}.domain.')]\n" for s in SERVICES) +
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('marshmallow', 'flask', 'sqlalchemy', 'pika', 'requests', 'jinja2'))\n"
            "assert not bad, bad\n"
            "from tillkey.contracts import Envelope, signing\n"
            "assert 'marshmallow' in sys.modules and signing.SECRET_PREFIX == 'whsec_'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_handler_table_imports_the_messaging_library_without_pika_or_sqlalchemy():
    """The lazy tillkey.messaging: what a service layer declares handlers with and raises is pure."""
    code = ("import sys\n"
            "from tillkey.messaging import InboxHandler, PermanentError, RetryLater, prefetching\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'pika', 'marshmallow'))\n"
            "assert not bad, bad\n"
            "from tillkey.messaging import Consumer, SqlAlchemyUnitOfWork\n"
            "assert 'pika' in sys.modules and 'sqlalchemy' in sys.modules\n"
            "from tillkey.messaging.consumer import RetryLater as Same\n"
            "assert Same is RetryLater\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_service_layers_run_without_frameworks():
    """What the static contract says, at run time: importing every module of every service layer loads
    no SQLAlchemy, Flask, pika, requests or jinja2 (a library module they use must stay pure too)."""
    code = ("import sys, importlib, pkgutil\n"
            + "".join(f"import tillkey.{s}.service_layer\n" for s in SERVICES) +
            "".join(f"[importlib.import_module(m.name) for m in pkgutil.walk_packages("
                    f"tillkey.{s}.service_layer.__path__, 'tillkey.{s}.service_layer.')]\n" for s in SERVICES) +
            "bad = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'flask', 'pika', 'requests', 'jinja2'})\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
