"""The README's configuration table against the code, so the two cannot drift apart again.

Every variable the code reads is in the table, and every default the table gives is the code's.
The code's default of a variable is found by asking each Settings class: what changes when only
this variable is set? The field that changes holds the default (so nothing here repeats a default).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tillkey.dashboard.config import Settings as DashboardSettings
from tillkey.devtools.topology import DEFAULT_PORTS
from tillkey.fulfillment.config import Settings as FulfillmentSettings
from tillkey.notifications.config import Settings as NotificationsSettings
from tillkey.orders.config import Settings as OrdersSettings
from tillkey.payments.config import Settings as PaymentsSettings
from tillkey.payments.sandbox.settings import SandboxSettings
from tillkey.platform.config import ConfigError, parse_duration, parse_schedule
from tillkey.platform.service_settings import ServiceSettings
from tillkey.webhooks.config import Settings as WebhooksSettings

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = (OrdersSettings, PaymentsSettings, FulfillmentSettings, NotificationsSettings, WebhooksSettings,
            SandboxSettings, DashboardSettings)
# Values that each kind of setting accepts: the first one a class takes for a variable is used.
PROBES = ("7", "7s", "true", "https://probe.example", "sqlite:///probe.db", "7s,8s")
# `env.str("NAME", …)`, `environ.get("NAME")`, `env["NAME"]`, `public_url(env, "NAME", …)` … with the
# default when it is a literal.
READ = re.compile(r"""(?:(?:env|environ)(?:\.(?:str|int|bool|duration|schedule|get)\(|\[)|public_url\(env,)\s*"""
                  r"""["']([A-Z][A-Z0-9_]+)["']"""
                  r"""(?:\s*,\s*["']([^"']*)["'])?""")
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|$")


def readme_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Configuration"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return {m.group(1): m.group(2).strip("`") for line in section.splitlines() if (m := ROW.match(line))}


def code_reads() -> dict[str, str | None]:
    """Variable → its default where the code gives it as a literal (else None)."""
    found: dict[str, str | None] = {}
    for source in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        for name, default in READ.findall(source.read_text()):
            found.setdefault(name, default or None)
    # The test servers' variables are named in a table in libs/testing (servers.resolve).
    for source in ROOT.glob("libs/testing/src/**/*.py"):
        for name in re.findall(r"""["'](TEST_[A-Z_]+)["']""", source.read_text()):
            found.setdefault(name, None)
    # ServiceSettings reads <SERVICE>_DATABASE_URL and <SERVICE>_PORT, named after each service.
    for cls in SETTINGS:
        if issubclass(cls, ServiceSettings):
            found.setdefault(f"{cls.SERVICE.upper()}_DATABASE_URL", None)
            found.setdefault(f"{cls.SERVICE.upper()}_PORT", None)
    # make run reads a port per process of its table: {NAME}_PORT.
    for name, port in DEFAULT_PORTS.items():
        found.setdefault(f"{name.upper()}_PORT", str(port))
    return found


def settings_default(cls, name: str):
    """The default of the field `name` sets in `cls`, or a sentinel when `cls` does not read it."""
    base = cls.from_env({})
    for probe in PROBES:
        try:
            changed = cls.from_env({name: probe})
        except (ConfigError, ValueError):
            continue
        for f in dataclasses.fields(cls):
            if getattr(changed, f.name) != getattr(base, f.name):
                return getattr(base, f.name)
    return NOT_READ


NOT_READ = object()


def same(readme: str, code) -> bool:
    if readme.endswith("…"):                       # a value too long (or too secret-looking) to print
        return str(code).startswith(readme.split("`")[-1].rstrip("…"))
    if readme == "(empty)":
        return code == ""
    if isinstance(code, bool):
        return readme == str(code).lower()
    if isinstance(code, tuple):
        return parse_schedule(readme) == code
    if isinstance(code, float):
        return parse_duration(readme) == code
    if isinstance(code, Path):
        return Path(readme.removeprefix("sqlite:///")) == code
    return readme == str(code)


def test_every_variable_the_code_reads_is_in_the_readme():
    missing = sorted(set(code_reads()) - set(readme_table()))
    assert missing == [], f"add these to README.md's configuration table: {missing}"


def test_the_readme_lists_no_variable_the_code_does_not_read():
    assert sorted(set(readme_table()) - set(code_reads())) == []


@pytest.mark.parametrize("name", sorted(readme_table()))
def test_each_readme_default_is_the_codes(name):
    readme = readme_table()[name]
    table = readme_table()
    if readme in table:                              # "defaults to another variable": ORDERS_PUBLIC_URL
        readme = table[readme]
    defaults = [d for cls in SETTINGS if (d := settings_default(cls, name)) is not NOT_READ]
    literal = code_reads().get(name)
    if literal is not None and not defaults:
        defaults = [literal]
    if not defaults:
        assert readme.startswith("(") or " " in readme, f"{name}: the code has no default; say so ({readme!r})"
        return
    wrong = [d for d in defaults if not same(readme, d)]
    assert not wrong, f"{name}: README says {readme!r}, the code's default is {wrong[0]!r}"


def test_the_readme_lists_the_sandbox_test_cards():
    from tillkey.payments.sandbox.cards import TEST_CARD_NOTES

    text = (ROOT / "README.md").read_text()
    assert all(number in text for number in TEST_CARD_NOTES)
