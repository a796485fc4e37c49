"""Prometheus metrics of every process (docs/observability.md lists them).

Two kinds, chosen by cost:
- counters and histograms bumped on the hot paths (each HTTP request, each consumed message, each
  relay batch): a label lookup and an in-memory add, about a microsecond; nothing touches the
  database or the broker for them;
- gauges that need a query (outbox backlog, queue depths, pool stock…) are `ScrapeCollector`s:
  they run when Prometheus scrapes (every 15–30 s), never per request or message.

Under gunicorn an API is several processes: `serve_api` sets PROMETHEUS_MULTIPROC_DIR before the
workers import this module, so prometheus_client keeps each value in a per-process mmap file and
`/metrics` (whichever worker answers) sums them. A worker process is one process: plain registry.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Base unit seconds; from 5 ms (a cached read) to 10 s (a request stuck behind a lock).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

http_requests = Counter("tillkey_http_requests", "HTTP requests answered, by route template, method and status",
                        ["service", "route", "method", "status"])
http_duration = Histogram("tillkey_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["service", "route", "method"], buckets=LATENCY_BUCKETS)
messages = Counter("tillkey_messages", "Consumed messages by outcome: handled, retried, dead_lettered",
                   ["service", "event_type", "outcome"])
handler_duration = Histogram("tillkey_message_handler_duration_seconds",
                             "Time one handler spent on one message (its transaction's commit excluded in a batch)",
                             ["service", "event_type", "handler"], buckets=LATENCY_BUCKETS)
outbox_published = Counter("tillkey_outbox_published", "Events the relay published (broker confirmed)", ["service"])
outbox_refused = Counter("tillkey_outbox_refused", "Events the broker refused or could not route (retried later)",
                         ["service"])
webhook_attempts = Counter("tillkey_webhook_attempts", "Webhook delivery attempts by outcome: success, retry, gone",
                           ["outcome"])
emails = Counter("tillkey_emails_sent", "Emails handed to the mail server, by outcome: sent, deferred, rejected",
                 ["outcome"])


class ScrapeCollector:
    """A gauge family computed when scraped. `read()` returns {label values tuple: value}."""

    def __init__(self, name: str, documentation: str, labels: list[str], read: Callable[[], dict]):
        self.name, self.documentation, self.labels, self._read = name, documentation, labels, read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            values = self._read()
        except Exception as exc:  # noqa: BLE001 — a scrape must answer even when the database is down
            log.warning("metric %s unavailable: %r", self.name, exc)
            return
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, value in values.items():
            family.add_metric(list(labels), value)
        yield family


class _Scrape:
    """What one scrape reads: this process's (or, under gunicorn, every worker's) values plus the
    collectors computed now."""

    def __init__(self, extra: Iterable, multiprocess: bool):
        self._extra, self._multiprocess = extra, multiprocess

    def collect(self):
        if self._multiprocess:
            from prometheus_client import CollectorRegistry, multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        for collector in self._extra:
            yield from collector.collect()


def exposition(extra: Iterable = (), *, multiprocess: bool | None = None) -> bytes:
    """The text a `/metrics` answers. `multiprocess` (default: PROMETHEUS_MULTIPROC_DIR is set) sums
    every gunicorn worker's files; a worker process passes False: it is one process, whatever the
    environment says."""
    if multiprocess is None:
        multiprocess = bool(os.environ.get(MULTIPROC_ENV))
    return generate_latest(_Scrape(extra, multiprocess))


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory before gunicorn starts: files of a previous run would add old counts."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))

