"""Every package declares what its code imports (issue 12: psycopg was only the test library's).

An editable install of everything together hides a missing declaration: the module is there
because some other package brought it. An operator installing one service's wheel would not
have it. So each package's imports are compared with its own pyproject's dependencies (and what
those bring with them is not counted: declare what you import).
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")])


def imported_modules(src: Path) -> set[str]:
    found = set()
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "tillkey"}


def declared(package: Path) -> set[str]:
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    requirements = [*project.get("dependencies", []),
                    *(r for extra in project.get("optional-dependencies", {}).values() for r in extra)]
    return {normalize(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


@cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()  # module → distributions of this environment; slow, so once


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_imported_distribution_is_declared_by_the_package_itself(package):
    providers = _providers()
    missing = {}
    for module in imported_modules(package / "src"):
        distributions = {normalize(d) for d in providers.get(module, [module])}
        if not distributions & declared(package):
            missing[module] = sorted(distributions)
    assert missing == {}, f"{package.relative_to(ROOT)} imports these without declaring them: {missing}"
