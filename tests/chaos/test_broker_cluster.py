"""The platform on a 3-node RabbitMQ cluster of the suite's own (AMQP_URL lists the three nodes):
the node that leads the services' queues is stopped in the middle of ~30 full orders and stays
down. Every queue is a quorum queue with a replica on each node, so the two others elect new
leaders and keep every message; the relays and consumers reconnect to a surviving address. The
tally must read 0 lost, 0 duplicated (docs/deploy.md, "Several broker addresses")."""
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


def test_broker_leader_node_stopped(chaos, chaos_tally, cluster):
    leaders = Counter(cluster.queue_leaders()[q] for q in SERVICE_QUEUES)
    stopped = []

    def fault():
        # The node leading most of the services' queues (all of them: they were declared through
        # the first address); it stays down for the rest of the flow.
        node = cluster.index_of(leaders.most_common(1)[0][0])
        cluster.stop(node)
        stopped.append(cluster.nodes[node].name)

    chaos.scenario(chaos_tally, fault, orders=30)
    chaos_tally.notes.append(f"stopped {stopped[0]}, which led {leaders[stopped[0]]} of {len(SERVICE_QUEUES)} "
                             f"service queues")

    # The services are still there and consume again, each queue led by a surviving node.
    died = [name for name, proc in chaos.platform.procs.items() if proc.poll() is not None]
    chaos_tally.count("lost", [f"{name} exited after the node stopped" for name in died])
    survivor = cluster.running()[0]
    after = cluster.queue_leaders()
    consumers = _consumers(cluster, survivor)
    for queue in SERVICE_QUEUES:
        if after.get(queue) in (None, "", stopped[0]):
            chaos_tally.count("lost", [f"{queue} has no leader on a surviving node ({after.get(queue)!r})"])
        if consumers.get(queue, 0) < 1:
            chaos_tally.count("undelivered", [f"{queue} has no consumer after the failover"])
    chaos_tally.check()


def _consumers(cluster: RabbitNodes, index: int) -> dict[str, int]:
    # list_queues' `consumers` column reads 0 for quorum queues on 3.10: count list_consumers' rows.
    out = cluster.ctl(index, "list_consumers", "--quiet", "--no-table-headers", "queue_name", "channel_pid").stdout
    return Counter(line.split("\t")[0] for line in out.splitlines() if line.strip())
