"""Connection parameters and the reconnect policy shared by the relay and the consumer."""
from __future__ import annotations

import pika
from tenacity import wait_exponential_jitter

HEARTBEAT_SECONDS = 30
# Reconnect quickly at first (a broker restart takes seconds), never slower than every 30 s.
RECONNECT_WAIT = wait_exponential_jitter(initial=0.5, max=30, jitter=0.5)


def connection_parameters(amqp_url: str, name: str) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    # Heartbeats are serviced only while pika's I/O loop runs; both our loops run it continuously.
    params.heartbeat = HEARTBEAT_SECONDS
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.client_properties = {"connection_name": name}
    return params
