"""Reading a process's Prometheus `/metrics` in tests."""
from __future__ import annotations

import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> dict[tuple, float]:
    """{(sample name, sorted label pairs): value}."""
    text = requests.get(url, timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: dict, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items())


def wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)
    return result
