"""RabbitNodes starts a node of its own, stops and starts it, and leaves nothing behind."""
import os
import socket

import pika
import pytest

from tillkey.testing.rabbitmq_nodes import RabbitNodes, available

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not available(), reason="RabbitMQ server scripts not installed")]


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_one_node_serves_stops_starts_and_is_torn_down():
    with RabbitNodes(1) as nodes:
        node = nodes.nodes[0]
        assert node.amqp_port != 5672 and nodes.amqp_url == node.url
        conn = pika.BlockingConnection(pika.URLParameters(node.url))
        conn.channel().queue_declare("kept", durable=True, arguments={"x-queue-type": "quorum"})
        conn.close()
        nodes.stop(0)
        assert not _listens(node.amqp_port)
        nodes.start(0)
        conn = pika.BlockingConnection(pika.URLParameters(node.url))
        # Its data directory survived the restart: the durable queue is still there.
        conn.channel().queue_declare("kept", passive=True)
        conn.close()
        pid, root = node.pid(), nodes.root
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not root.exists()
