"""The platform on a 3-node RabbitMQ cluster of the suite's own (AMQP_URL lists the three nodes):
the node that leads the services' queues is stopped (`rabbitmqctl stop`) or killed (SIGKILL, a
crash) in the middle of ~30 full orders and stays down. Every queue is a quorum queue with a
replica on each node, so the two others elect new leaders and keep every message; the relays and
consumers reconnect to a surviving address. The tally must read 0 lost, 0 duplicated
(docs/deploy.md, "The broker: several addresses, quorum queues")."""
from __future__ import annotations

from collections import Counter

import pytest

from tillkey.devtools.topology import SERVICES
from tillkey.testing.rabbitmq_nodes import RabbitNodes, available

pytestmark = [pytest.mark.chaos,
              pytest.mark.skipif(not available(), reason="RabbitMQ server scripts not installed")]
SERVICE_QUEUES = [f"{s}.events" for s in SERVICES]


@pytest.fixture(scope="module")
def cluster():
    with RabbitNodes(3, prefix="tillkey-chaos") as nodes:
        yield nodes


@pytest.fixture(scope="module")
def chaos_amqp(cluster):
    """This module's platform talks to the cluster, not to the suite's single broker."""
    return cluster.amqp_url, cluster


# A crash first: then the services are still connected to the node that leads every queue (the
# first address), so one fault hits both. The graceful stop comes second, on a cluster whose leaders
# and connections the crash has moved (the notes say where the consumers were).
@pytest.mark.parametrize("how", ["kill", "stop"])
def test_broker_leader_node(chaos, chaos_tally, cluster, how):
    for index in range(len(cluster.nodes)):  # the scenario before left one down
        if index not in cluster.running():
            cluster.start(index)
    leaders = Counter(cluster.queue_leaders()[q] for q in SERVICE_QUEUES)
    consumers_on = Counter(node for _queue, node in _consumers(cluster, cluster.running()[0]))
    stopped = []

    def fault():
        # The node leading most of the services' queues (at first all of them: they were declared
        # through the first address); it stays down for the rest of the flow.
        node = cluster.index_of(leaders.most_common(1)[0][0])
        cluster.stop(node, kill=how == "kill")
        stopped.append(cluster.nodes[node].name)

    chaos.scenario(chaos_tally, fault, orders=30)
    chaos_tally.notes.append(f"{how}: {stopped[0]}, which led {leaders[stopped[0]]} of {len(SERVICE_QUEUES)} "
                             f"service queues and held {consumers_on[stopped[0]]} of {sum(consumers_on.values())} "
                             f"consumers")

    # The services are still there and consume again, each queue led by a surviving node.
    died = [name for name, proc in chaos.platform.procs.items() if proc.poll() is not None]
    chaos_tally.count("lost", [f"{name} exited after the node stopped" for name in died])
    survivor = cluster.running()[0]
    after = cluster.queue_leaders()
    consumers = Counter(queue for queue, _node in _consumers(cluster, survivor))
    for queue in SERVICE_QUEUES:
        if after.get(queue) in (None, "", stopped[0]):
            chaos_tally.count("lost", [f"{queue} has no leader on a surviving node ({after.get(queue)!r})"])
        if consumers.get(queue, 0) < 1:
            chaos_tally.count("undelivered", [f"{queue} has no consumer after the failover"])
    chaos_tally.check()


def _consumers(cluster: RabbitNodes, index: int) -> list[tuple[str, str]]:
    """(queue, node its consumer is connected to) for each consumer (list_queues' `consumers` column
    reads 0 for quorum queues on 3.10). A channel pid prints as <node@host.1.2.3>."""
    out = cluster.ctl(index, "list_consumers", "--quiet", "--no-table-headers", "queue_name", "channel_pid").stdout
    rows = (line.split("\t") for line in out.splitlines() if line.strip())
    return [(queue, pid.strip("<>").rsplit(".", 3)[0]) for queue, pid, *_ in rows]
