"""`AMQP_URL` may name several nodes of one RabbitMQ cluster: full URLs separated by commas.

    AMQP_URL=amqp://u:p@rabbit-1:5672/%2F,amqp://u:p@rabbit-2:5672/%2F,amqp://u:p@rabbit-3:5672/%2F

Every connection (relay, consumer, dead-letter sweeps, admin commands, health checks) gets one
pika parameter set per address, and pika tries them in the order given until one takes the
connection (docs/deploy.md). A single URL is read exactly as before.

Only a comma followed by `amqp://` or `amqps://` starts the next address, so a comma inside one URL
(a password, a query option) stays where it is.

pika's pass over the addresses ends at the first whose host name does not resolve, without trying
the ones after it (pika 1.3: `BlockingConnection([unresolvable, good])` raises `socket.gaierror`).
A node's name that stops resolving while the node is down is ordinary (a Kubernetes pod's own DNS
record), so `open_blocking_connection` goes on after it and the relay starts each reconnect attempt
one address further (`rotated`).
"""
from __future__ import annotations

import re
import socket

import pika

_NEXT_ADDRESS = re.compile(r"\s*,\s*(?=amqps?://)", re.IGNORECASE)


def broker_urls(amqp_url: str) -> list[str]:
    urls = [url for url in _NEXT_ADDRESS.split(amqp_url.strip(" ,\t\n")) if url]
    if not urls:
        raise ValueError("AMQP_URL names no broker")
    return urls


def broker_parameters(amqp_url: str) -> list[pika.URLParameters]:
    """One pika parameter set per address, in the order given (pika's connection workflow tries
    each in turn and takes the number of passes and the pause between them from the last one)."""
    return [pika.URLParameters(url) for url in broker_urls(amqp_url)]


def open_blocking_connection(parameters: list[pika.URLParameters]) -> pika.BlockingConnection:
    """A connection to the first address that takes it, past names that do not resolve."""
    for start in range(len(parameters)):
        try:
            return pika.BlockingConnection(parameters[start:])
        except socket.gaierror:
            if start == len(parameters) - 1:
                raise
    raise ValueError("no broker address to connect to")


def rotated(parameters: list, by: int) -> list:
    """`parameters` starting at the `by`-th (modulo their number): each reconnect attempt of a
    long-lived loop begins one address further than the one before."""
    k = by % len(parameters) if parameters else 0
    return parameters[k:] + parameters[:k]
