"""The other rules of `make lint` bite too: ruff's families and mypy, with the repository's own settings."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("code", "rule"), [
    ("try:\n    pass\nexcept Exception:\n    pass\n", "BLE001"),
    ("def parseThing():\n    pass\n", "N802"),
    ("class A:\n    _x = 1\n\n\nprint(A()._x)\n", "SLF001"),
    ("import os, sys\n", "E401"),
])
def test_ruff_refuses_what_its_families_forbid(tmp_path, code, rule):
    # Under src/ of a lib: the per-file exemptions for tests do not apply there.
    path = tmp_path / "libs" / "platform" / "src" / "bad.py"
    path.parent.mkdir(parents=True)
    path.write_text('"""A fixture."""\n' + code)
    done = subprocess.run([str(BIN / "ruff"), "check", "--config", str(ROOT / "pyproject.toml"),
                           "--output-format", "concise", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and rule in done.stdout, done.stdout + done.stderr


def test_mypy_refuses_a_type_error_with_the_repository_settings(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def twice(n: int) -> int:\n    return n * 2\n\n\ntwice('x')\n")
    done = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"),
                           "--cache-dir", str(tmp_path / "cache"), str(path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1 and "[arg-type]" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("layer", ["domain", "service_layer"])
def test_mypy_is_strict_on_every_domain_and_service_layer(tmp_path, layer):
    """An untyped function and a bare generic pass in an adapter but fail in a domain or service layer."""
    def write(part: str) -> Path:
        package = tmp_path / "tillkey" / "fixturesvc" / part
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "rules.py").write_text("def price(amount):\n    return amount\n\n\n"
                                          "def totals() -> dict:\n    return {}\n")
        return package / "rules.py"

    strict, lax = write(layer), write("adapters")
    done = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"),
                           "--cache-dir", str(tmp_path / "cache"), str(strict), str(lax)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert all(f"/{layer}/rules.py" in line for line in errors), done.stdout
    assert any("[no-untyped-def]" in line for line in errors) and any("[type-arg]" in line for line in errors), \
        done.stdout
