"""Our deploy rules catch what they are for, and the committed deploy/ files pass them."""
from __future__ import annotations

import copy
import re
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
    del flawed["services"]["dashboard-migrate"]
    flawed["services"]["proxy"]["depends_on"].pop("dashboard-api")
    problems = "\n".join(rules.compose(flawed))
    for expected in ("no webhooks-worker", "orders-api does not wait for orders-migrate",
                     "rabbitmq publishes 5672:5672", "payments-api PLATFORM_SECRET", "mailpit runs for good",
                     "orders-worker runs our image but cannot build it", "no dashboard-migrate",
                     "proxy does not wait for a healthy dashboard-api"):
        assert expected in problems


def test_a_deployment_under_an_autoscaler_leaves_the_replica_count_to_it():
    api = deployment()
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "orders-api"},
           "spec": {"scaleTargetRef": {"name": "orders-api"}}}
    assert rules.selectors([api, hpa]) == []
    api["spec"]["replicas"] = 2
    assert "resets HorizontalPodAutoscaler orders-api" in rules.selectors([api, hpa])[0]


def test_every_database_is_made_with_its_own_password_before_its_migrations():
    """compose/postgres-init.sh (run by `databases` on every start) makes one role and database per
    service: a service missing there would meet no database on a fresh volume nor on an old one."""
    script = (ROOT / "deploy/compose/postgres-init.sh").read_text()
    made = set(re.search(r"for service in ([a-z ]+); do", script).group(1).split())
    services = COMPOSE["services"]
    expected = {*rules.SERVICES, rules.DASHBOARD}
    assert made == expected
    assert {k.removesuffix("_DB_PASSWORD").lower() for k in services["databases"]["environment"]
            if k.endswith("_DB_PASSWORD")} == expected
    for service in expected:
        migrate = services[f"{service}-migrate"]
        assert migrate["depends_on"] == {"databases": {"condition": "service_completed_successfully"}}
        assert f"@postgres:5432/{service}" in migrate["environment"][f"{service.upper()}_DATABASE_URL"]


def test_a_render_without_a_services_objects_or_with_a_dashboard_worker_is_refused():
    def named(kind, name):
        return {"kind": kind, "metadata": {"name": name}}
    objects = [named(kind, f"{s}-{n}") for s in (*rules.SERVICES, rules.DASHBOARD) for kind, n in (
        ("Deployment", "api"), ("Deployment", "worker"), ("Job", "migrate"), ("Cluster", "db"), ("Service", "api"))]
    ingress = {**named("Ingress", "tillkey-dashboard"), "spec": {"rules": [{"http": {"paths": [
        {"path": "/", "backend": {"service": {"name": "dashboard-api", "port": {"name": "http"}}}}]}}]}}
    sound = [o for o in objects if o["metadata"]["name"] != "dashboard-worker"] + [ingress]
    assert rules.every_service(sound) == []
    flawed = [o for o in objects if o["metadata"]["name"] not in ("dashboard-migrate", "webhooks-db")]
    problems = "\n".join(rules.every_service(flawed))
    for expected in ("Job dashboard-migrate is missing", "Cluster webhooks-db is missing",
                     "dashboard-worker: the dashboard consumes no events", "no Ingress routes to dashboard-api"):
        assert expected in problems



def test_the_dashboard_is_given_and_may_reach_every_api_it_calls():
    """Compose's environment, the Kubernetes ConfigMap and the network policy name each API the
    dashboard's settings read (tillkey.dashboard.config.API_DEFAULTS): one it is not given it would
    look for on 127.0.0.1, one it may not reach would time out."""
    from tillkey.dashboard.config import API_DEFAULTS
    env = COMPOSE["services"]["dashboard-api"]["environment"]
    assert {k for k in env if k.endswith("_API_URL")} == {f"{s.upper()}_API_URL" for s in API_DEFAULTS}
    for service in API_DEFAULTS:
        assert env[f"{service.upper()}_API_URL"].startswith(f"http://{service}-api:")
    base = yaml.safe_load((ROOT / "deploy/kubernetes/base/kustomization.yaml").read_text())
    literals = dict(line.split("=", 1) for line in base["configMapGenerator"][0]["literals"])
    assert {k: v for k, v in literals.items() if k.endswith("_API_URL")} == {
        f"{s.upper()}_API_URL": f"http://{s}-api" for s in API_DEFAULTS}
    policies = {d["metadata"]["name"]: d for d in yaml.safe_load_all(
        (ROOT / "deploy/kubernetes/base/network-policies.yaml").read_text()) if d}
    (services,) = [e["values"] for e in policies["apis-from-dashboard"]["spec"]["podSelector"]["matchExpressions"]
                   if e["key"] == "tillkey.io/service"]
    assert set(services) == set(API_DEFAULTS)
