"""Our deploy rules catch what they are for, and the committed deploy/ files pass them."""
from __future__ import annotations

import copy
from pathlib import Path

import manifest_rules as rules
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())


def deployment(name="orders-api", **container) -> dict:
    c = {"name": "api", "image": "registry.example.com/tillkey:1.0",
         "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
         "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}},
         "readinessProbe": {"httpGet": {"path": "/readyz"}}, "livenessProbe": {"httpGet": {"path": "/healthz"}},
         **container}
    return {"kind": "Deployment", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"securityContext": {"runAsNonRoot": True}, "containers": [c]}}}}


def scaled_object(**spec) -> dict:
    trigger = {"type": "rabbitmq", "authenticationRef": {"name": "tillkey-broker"},
               "metadata": {"mode": "QueueLength", "value": "500", "queueName": "orders.events",
                            "host": "amqp://tillkey-broker.tillkey.svc:5672/"}}
    return {"kind": "ScaledObject", "metadata": {"name": "orders-worker"},
            "spec": {"scaleTargetRef": {"name": "orders-worker"}, "minReplicaCount": 1, "triggers": [trigger],
                     **spec}}


AUTH = {"kind": "TriggerAuthentication", "metadata": {"name": "tillkey-broker"},
        "spec": {"secretTargetRef": [{"parameter": "username", "name": "s", "key": "username"}]}}


def test_a_sound_scaled_object_passes_and_each_flaw_is_named():
    docs = [deployment("orders-worker"), AUTH]
    assert rules.operator_resources([*docs, scaled_object()]) == []
    flawed = scaled_object(scaleTargetRef={"name": "nope"}, minReplicaCount=0)
    flawed["spec"]["triggers"][0]["metadata"].update(queueName="orders", mode="Depth")
    problems = "\n".join(rules.operator_resources([*docs, flawed]))
    for expected in ("is no Deployment", "outbox relay", "no service's queue", "QueueLength or MessageRate"):
        assert expected in problems


@pytest.mark.parametrize(("spec", "expected"), [
    ({"storage": {"size": "1Gi"}, "bootstrap": {"initdb": {"database": "orders", "owner": "orders"}}},
     "spec.instances"),
    ({"instances": 1, "bootstrap": {"initdb": {"database": "orders", "owner": "orders"}}}, "storage.size"),
    ({"instances": 1, "storage": {"size": "1Gi"}, "bootstrap": {"initdb": {"database": "orders"}}}, "owner"),
])
def test_a_cloudnativepg_cluster_needs_instances_storage_and_an_owner(spec, expected):
    problems = rules.operator_resources([{"kind": "Cluster", "metadata": {"name": "orders-db"}, "spec": spec}])
    assert len(problems) == 1 and expected in problems[0]


def test_a_rabbitmq_cluster_of_an_even_size_is_refused():
    broker = {"kind": "RabbitmqCluster", "metadata": {"name": "b"}, "spec": {"replicas": 2}}
    assert "odd" in rules.operator_resources([broker])[0]


def test_pods_must_be_locked_down_and_refer_only_to_what_exists():
    assert rules.workloads([deployment(env=[{"name": "ORDERS_DATABASE_URL", "valueFrom": {
        "secretKeyRef": {"name": "orders-db-app", "key": "uri"}}}])]) == []
    loose = deployment(image="tillkey", securityContext={}, livenessProbe=None,
                       envFrom=[{"secretRef": {"name": "tillkey-secrets"}}])
    problems = "\n".join(rules.workloads([loose]))
    for expected in ("read-only root filesystem", "no fixed tag", "Secret tillkey-secrets", "liveness"):
        assert expected in problems


def test_an_ingress_path_to_a_missing_service_or_without_tls_is_refused():
    ingress = {"kind": "Ingress", "metadata": {"name": "tillkey"}, "spec": {"rules": [{"http": {"paths": [
        {"path": "/", "backend": {"service": {"name": "orders-api", "port": {"name": "http"}}}}]}}]}}
    problems = "\n".join(rules.selectors([deployment(), ingress]))
    assert "no TLS" in problems and "does not exist" in problems


def test_the_committed_compose_file_passes_and_each_flaw_is_named():
    assert rules.compose(COMPOSE) == []
    flawed = copy.deepcopy(COMPOSE)
    del flawed["services"]["webhooks-worker"]
    flawed["services"]["orders-api"]["depends_on"].pop("orders-migrate")
    flawed["services"]["rabbitmq"]["ports"] = ["5672:5672"]
    flawed["services"]["payments-api"]["environment"] = {"PLATFORM_SECRET": "change-me"}
    del flawed["services"]["mailpit"]["healthcheck"]
    del flawed["services"]["orders-worker"]["build"]
    problems = "\n".join(rules.compose(flawed))
    for expected in ("no webhooks-worker", "orders-api does not wait for orders-migrate",
                     "rabbitmq publishes 5672:5672", "payments-api PLATFORM_SECRET", "mailpit runs for good",
                     "orders-worker runs our image but cannot build it"):
        assert expected in problems


def test_a_deployment_under_an_autoscaler_leaves_the_replica_count_to_it():
    api = deployment()
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "orders-api"},
           "spec": {"scaleTargetRef": {"name": "orders-api"}}}
    assert rules.selectors([api, hpa]) == []
    api["spec"]["replicas"] = 2
    assert "resets HorizontalPodAutoscaler orders-api" in rules.selectors([api, hpa])[0]
