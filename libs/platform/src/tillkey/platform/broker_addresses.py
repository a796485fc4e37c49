"""`AMQP_URL` may name several nodes of one RabbitMQ cluster: full URLs separated by commas.

    AMQP_URL=amqp://u:p@rabbit-1:5672/%2F,amqp://u:p@rabbit-2:5672/%2F,amqp://u:p@rabbit-3:5672/%2F

Every connection (relay, consumer, dead-letter sweeps, admin commands, health checks) gets one
pika parameter set per address, and pika tries them in the order given until one takes the
connection (docs/deploy.md). A single URL is read exactly as before.

Only a comma followed by `amqp://` or `amqps://` starts the next address, so a comma inside one URL
(a password, a query option) stays where it is.
"""
from __future__ import annotations

import re

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
