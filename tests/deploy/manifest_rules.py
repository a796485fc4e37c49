"""Our own rules for deploy/: what the schemas cannot see (make deploy-check; tests/deploy/test_rules.py).

The Kubernetes schemas (kubernetes-validate) and the compose specification (check-jsonschema)
check shapes. They know nothing of the operators' resources, nor of how the pieces refer to
each other. Each function takes parsed documents and returns a list of problems (empty: fine).
"""
from __future__ import annotations

SERVICES = ("orders", "payments", "fulfillment", "notifications", "webhooks")
# Its own database and API, no worker and no events (docs/dashboard.md).
DASHBOARD = "dashboard"
# Made by the operators at run time, so they never appear in a render.
OPERATOR_SECRETS = {"tillkey-broker-default-user", *(f"{s}-db-app" for s in (*SERVICES, DASHBOARD))}
SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "AMQP_URL", "DATABASE_URL")  # PASS: RABBITMQ_DEFAULT_PASS too


def _named(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def operator_resources(docs: list[dict]) -> list[str]:
    """The fields the RabbitMQ cluster operator, CloudNativePG and KEDA need, as their docs say."""
    problems = []
    deployments, auths = _named(docs, "Deployment"), _named(docs, "TriggerAuthentication")
    for name, doc in _named(docs, "RabbitmqCluster").items():
        replicas = doc.get("spec", {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 1 or replicas % 2 == 0:
            problems.append(f"RabbitmqCluster {name}: spec.replicas must be an odd number (quorum), not {replicas!r}")
    for name, doc in _named(docs, "Cluster").items():
        spec = doc.get("spec", {})
        if not isinstance(spec.get("instances"), int) or spec["instances"] < 1:
            problems.append(f"Cluster {name}: spec.instances (required) must be a positive integer")
        if not spec.get("storage", {}).get("size"):
            problems.append(f"Cluster {name}: spec.storage.size is required")
        initdb = spec.get("bootstrap", {}).get("initdb", {})
        if not initdb.get("database") or not initdb.get("owner"):
            problems.append(f"Cluster {name}: bootstrap.initdb needs both database and owner")
    for name, doc in _named(docs, "ScaledObject").items():
        spec = doc.get("spec", {})
        target = spec.get("scaleTargetRef", {}).get("name")
        if target not in deployments:
            problems.append(f"ScaledObject {name}: scaleTargetRef.name {target!r} is no Deployment here")
        if not spec.get("triggers"):
            problems.append(f"ScaledObject {name}: spec.triggers is required")
        if spec.get("minReplicaCount", 0) < 1:
            problems.append(f"ScaledObject {name}: minReplicaCount below 1 would stop the outbox relay")
        for trigger in spec.get("triggers", []):
            problems += _rabbitmq_trigger(name, trigger, auths)
    for name, doc in auths.items():
        for ref in doc.get("spec", {}).get("secretTargetRef", []):
            if not all(ref.get(k) for k in ("parameter", "name", "key")):
                problems.append(f"TriggerAuthentication {name}: secretTargetRef needs parameter, name and key")
    return problems


def _rabbitmq_trigger(owner: str, trigger: dict, auths: dict) -> list[str]:
    if trigger.get("type") != "rabbitmq":
        return [f"ScaledObject {owner}: trigger type {trigger.get('type')!r}, expected rabbitmq"]
    meta, problems = trigger.get("metadata", {}), []
    if meta.get("mode") not in ("QueueLength", "MessageRate"):
        problems.append(f"ScaledObject {owner}: rabbitmq mode must be QueueLength or MessageRate")
    if not str(meta.get("value", "")).replace(".", "", 1).isdigit():
        problems.append(f"ScaledObject {owner}: rabbitmq value must be a number in a string")
    queue = meta.get("queueName", "")
    if not (queue.endswith(".events") and queue.split(".")[0] in SERVICES):
        problems.append(f"ScaledObject {owner}: queueName {queue!r} is no service's queue (<service>.events)")
    if not meta.get("host") and not meta.get("hostFromEnv"):
        problems.append(f"ScaledObject {owner}: rabbitmq needs host or hostFromEnv")
    auth = trigger.get("authenticationRef", {}).get("name")
    if auth is not None and auth not in auths:
        problems.append(f"ScaledObject {owner}: authenticationRef {auth!r} is no TriggerAuthentication here")
    return problems


def every_service(docs: list[dict]) -> list[str]:
    """Each service's objects are in the render (API, worker, migration Job, database, Service), and
    the dashboard's (API, Job, database, Service, reached by an Ingress) without a worker."""
    problems = []
    expected = [(kind, f"{s}-{name}") for s in SERVICES for kind, name in (
        ("Deployment", "api"), ("Deployment", "worker"), ("Job", "migrate"), ("Cluster", "db"), ("Service", "api"))]
    expected += [(kind, f"{DASHBOARD}-{name}") for kind, name in (
        ("Deployment", "api"), ("Job", "migrate"), ("Cluster", "db"), ("Service", "api"))]
    for kind, name in expected:
        if name not in _named(docs, kind):
            problems.append(f"{kind} {name} is missing")
    if f"{DASHBOARD}-worker" in _named(docs, "Deployment"):
        problems.append(f"Deployment {DASHBOARD}-worker: the dashboard consumes no events, it has no worker")
    routed = {path["backend"]["service"]["name"] for ingress in _named(docs, "Ingress").values()
              for rule in ingress["spec"].get("rules", []) for path in rule["http"]["paths"]}
    if f"{DASHBOARD}-api" not in routed:
        problems.append(f"no Ingress routes to {DASHBOARD}-api")
    return problems


def _pod_specs(docs: list[dict]):
    for d in docs:
        if d.get("kind") in ("Deployment", "Job"):
            yield f"{d['kind']} {d['metadata']['name']}", d["kind"], d["spec"]["template"]


def workloads(docs: list[dict]) -> list[str]:
    """Every pod: non-root, read-only root, no privilege escalation, resources, probes, references."""
    problems = []
    configmaps, secrets = set(_named(docs, "ConfigMap")), set(_named(docs, "Secret")) | OPERATOR_SECRETS
    for label, kind, template in _pod_specs(docs):
        spec = template["spec"]
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{label}: pod securityContext.runAsNonRoot must be true")
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{label}/{c['name']}: needs no privilege escalation and a read-only root filesystem")
            if not c.get("resources", {}).get("requests") or not c.get("resources", {}).get("limits"):
                problems.append(f"{label}/{c['name']}: needs resource requests and limits")
            image = c.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                problems.append(f"{label}/{c['name']}: image {image!r} has no fixed tag")
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref and ref["configMapRef"]["name"] not in configmaps:
                    problems.append(f"{label}/{c['name']}: ConfigMap {ref['configMapRef']['name']} is not defined")
                if "secretRef" in ref and ref["secretRef"]["name"] not in secrets:
                    problems.append(f"{label}/{c['name']}: Secret {ref['secretRef']['name']} is not defined")
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    problems.append(f"{label}/{c['name']}: Secret {ref['name']} (for {env['name']}) is not defined")
        if kind == "Deployment":
            for c in spec["containers"]:
                if not c.get("readinessProbe") or not c.get("livenessProbe"):
                    problems.append(f"{label}/{c['name']}: needs readiness and liveness probes")
    return problems


def selectors(docs: list[dict]) -> list[str]:
    """Services, PodDisruptionBudgets and the Ingress point at something that exists."""
    problems = []
    pods = [t["metadata"].get("labels", {}) for _, kind, t in _pod_specs(docs) if kind == "Deployment"]
    services = _named(docs, "Service")

    def selects(selector: dict) -> bool:
        return any(selector.items() <= labels.items() for labels in pods)

    for name, doc in services.items():
        if not selects(doc["spec"].get("selector", {})):
            problems.append(f"Service {name}: its selector matches no Deployment's pods")
    for name, doc in _named(docs, "PodDisruptionBudget").items():
        if not selects(doc["spec"]["selector"].get("matchLabels", {})):
            problems.append(f"PodDisruptionBudget {name}: its selector matches no Deployment's pods")
    deployments = _named(docs, "Deployment")
    scaled = [("HorizontalPodAutoscaler", name, d["spec"]["scaleTargetRef"]["name"])
              for name, d in _named(docs, "HorizontalPodAutoscaler").items()]
    scaled += [("ScaledObject", name, d["spec"]["scaleTargetRef"].get("name"))
               for name, d in _named(docs, "ScaledObject").items()]
    for kind, name, target in scaled:
        if target not in deployments:
            problems.append(f"{kind} {name}: its target is no Deployment here")
        elif "replicas" in deployments[target]["spec"]:
            problems.append(f"Deployment {target}: sets replicas, which resets {kind} {name} on every apply")
    for name, doc in _named(docs, "Ingress").items():
        if not doc["spec"].get("tls"):
            problems.append(f"Ingress {name}: no TLS")
        for rule in doc["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                ports = {p.get("name") for p in (target or {}).get("spec", {}).get("ports", [])}
                if target is None or backend["port"].get("name") not in ports:
                    problems.append(f"Ingress {name}: {path['path']} goes to {backend['name']}:{backend['port']}, "
                                    "which does not exist")
    return problems


def compose(doc: dict) -> list[str]:
    """deploy/docker-compose.yml: every process, health-gated start, nothing public with a known secret."""
    problems, services = [], doc["services"]
    processes = [(s, m) for s in SERVICES for m in ("migrate", "api", "worker")]
    for service, mode in [*processes, (DASHBOARD, "migrate"), (DASHBOARD, "api")]:
        if f"{service}-{mode}" not in services:
            problems.append(f"compose: no {service}-{mode}")
            continue
        depends = services[f"{service}-{mode}"].get("depends_on", {})
        if mode != "migrate" and depends.get(f"{service}-migrate", {}).get("condition") != \
                "service_completed_successfully":
            problems.append(f"compose: {service}-{mode} does not wait for {service}-migrate to complete")
        # The dashboard talks to no broker; the services' processes all do.
        if mode != "migrate" and service != DASHBOARD and \
                depends.get("rabbitmq", {}).get("condition") != "service_healthy":
            problems.append(f"compose: {service}-{mode} does not wait for a healthy broker")
    proxy_waits = services.get("proxy", {}).get("depends_on", {})
    for service in (*SERVICES, DASHBOARD):
        if proxy_waits.get(f"{service}-api", {}).get("condition") != "service_healthy":
            problems.append(f"compose: the proxy does not wait for a healthy {service}-api")
    for name, svc in services.items():
        if str(svc.get("command", [""])[0]).startswith("tillkey-") and \
                svc.get("build", {}).get("dockerfile") != "deploy/Dockerfile":
            problems.append(f"compose: {name} runs our image but cannot build it from deploy/Dockerfile")
        if svc.get("restart") != "no" and "healthcheck" not in svc:
            problems.append(f"compose: {name} runs for good without a healthcheck")
        for port in svc.get("ports", []):
            if name != "proxy" and not str(port).startswith("127.0.0.1:"):
                problems.append(f"compose: {name} publishes {port} beyond this host (only the proxy may)")
        env = svc.get("environment", {})
        for key, value in (env.items() if isinstance(env, dict) else []):
            if any(word in key for word in SECRET_WORDS) and ":?" not in str(value):
                problems.append(f"compose: {name} {key} is not a required ${{…:?…}} from deploy/.env")
    return problems
