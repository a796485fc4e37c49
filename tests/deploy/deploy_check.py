"""`make deploy-check`: deploy/ validated offline, the way CI does it (docs/deploy.md).

- the compose files against the compose specification (check-jsonschema's bundled schema), then
  our rules (manifest_rules.compose);
- each Kubernetes overlay rendered with kustomize (`kubectl kustomize`, kubectl from PyPI), the
  render validated against the Kubernetes schemas (kubernetes-validate, strict: unknown fields
  fail), then our rules for the operators' resources and the references between objects;
- first of all, a manifest known to be broken must be refused by each validator, so a validator
  that quietly accepts everything cannot pass for a green check.

An overlay without its secrets.env (never committed) is rendered from a copy with placeholder
values. Exit status 0 only when every check held; each problem is printed.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
import manifest_rules  # noqa: E402 — beside this script, which runs as a file

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes the manifests are meant for
OVERLAYS = ("dev", "production")
BROKEN_DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "broken"},
                     "spec": {"replicas": "two", "selector": {}, "template": {"spec": {"containerz": []}}}}
BROKEN_COMPOSE = {"services": {"api": {"image": "x", "depends_on": {"db": {"condition": "service_done"}}}}}


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)


def validators_refuse_broken_input(work: Path) -> list[str]:
    (work / "broken.yaml").write_text(yaml.safe_dump(BROKEN_DEPLOYMENT))
    (work / "broken-compose.yml").write_text(yaml.safe_dump(BROKEN_COMPOSE))
    problems = []
    if run([BIN / "kubernetes-validate", "--strict", "--quiet", "-k", KUBERNETES_VERSION,
            work / "broken.yaml"]).returncode == 0:
        problems.append("kubernetes-validate accepted a broken Deployment")
    if run([BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec",
            work / "broken-compose.yml"]).returncode == 0:
        problems.append("check-jsonschema accepted a broken compose file")
    return problems


def check_compose() -> list[str]:
    files = [ROOT / "deploy/docker-compose.yml", ROOT / "deploy/compose/dev-broker.yml"]
    schema = run([BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", *files])
    problems = [] if schema.returncode == 0 else [f"compose schema: {schema.stdout}{schema.stderr}"]
    return problems + manifest_rules.compose(yaml.safe_load(files[0].read_text()))


def render(overlay: str, work: Path) -> tuple[list[dict], Path, list[str]]:
    tree = work / overlay / "kubernetes"
    shutil.copytree(ROOT / "deploy/kubernetes", tree)
    secrets = tree / "overlays" / overlay / "secrets.env"
    if not secrets.exists():  # CI: placeholders of the documented shape
        example = (tree / "overlays" / overlay / "secrets.env.example").read_text().splitlines()
        secrets.write_text("\n".join(f"{line.split('=')[0]}=placeholder" for line in example
                                     if "=" in line and not line.startswith("#")) + "\n")
    built = run([BIN / "kubectl", "kustomize", tree / "overlays" / overlay])
    if built.returncode != 0:
        return [], secrets, [f"{overlay}: kustomize failed: {built.stderr.strip()}"]
    out = work / f"{overlay}.yaml"
    out.write_text(built.stdout)
    return [d for d in yaml.safe_load_all(built.stdout) if d], out, []


def check_overlay(overlay: str, work: Path) -> tuple[int, list[str]]:
    docs, rendered, problems = render(overlay, work)
    if problems:
        return 0, problems
    schema = run([BIN / "kubernetes-validate", "--strict", "--quiet", "--no-warn", "-k", KUBERNETES_VERSION,
                  rendered])
    if schema.returncode != 0:
        problems.append(f"{overlay}: Kubernetes schemas: {schema.stdout}{schema.stderr}")
    for rule in (manifest_rules.operator_resources, manifest_rules.workloads, manifest_rules.selectors,
                 manifest_rules.every_service):
        problems += [f"{overlay}: {p}" for p in rule(docs)]
    return len(docs), problems


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tillkey-deploy-check-") as tmp:
        work = Path(tmp)
        problems = validators_refuse_broken_input(work)
        problems += check_compose()
        print(f"deploy-check: compose files checked ({time.monotonic() - started:.1f} s)", flush=True)
        for overlay in OVERLAYS:
            count, found = check_overlay(overlay, work)
            problems += found
            print(f"deploy-check: overlay {overlay}: {count} objects rendered and checked "
                  f"({time.monotonic() - started:.1f} s)", flush=True)
    for problem in problems:
        print(f"deploy-check: {problem}", file=sys.stderr)
    print(f"deploy-check: {'FAILED, ' + str(len(problems)) + ' problems' if problems else 'everything holds'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
