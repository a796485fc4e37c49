"""Every example in docs/integration.md is executed here.

The doc marks each example with `<!-- example: KIND … -->` right before it; every fenced block of the
file must carry a mark (a new example without a runner fails `test_every_example_is_marked`). Kinds:

- `request SERVICE` + `response`: the request runs, in order, against the real Flask app of that
  service (in-process, each on a fresh SQLite database; orders and fulfillment also listen on loopback,
  since fulfillment asks orders who owns a product and the license client calls fulfillment). The answer
  must have the documented status, headers (`…` matches anything) and the same JSON shape; codes,
  titles, names, prices and other fixed fields must be equal. `{api_key}`, `{product_id}` … come from
  the answers before. `response same`: the answer equals the previous one exactly (an idempotent replay).
- `webhook`: the payload is exactly what the webhooks service builds for that type's golden sample.
- `python-verify`, `node-verify`: the merchant's verification programs, run against webhooks signed as
  the webhooks service signs them (a good one is accepted, a tampered one refused).
- `license-call`, `license-answer`: the signed call is what fulfillment sends, the signature is what the
  `standardwebhooks` library computes, and fulfillment delivers the documented answer.
- `token-claims`, `license-client`, `test-cards`: the token's claims, the example client, the sandbox cards.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from tillkey.contracts import PUBLIC_EVENT_TYPES, load_sample, signing
from tillkey.platform.runner import migrate

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/integration.md").read_text()
SECRET, ADMIN = "docs-platform-secret", "docs-admin-token"
PUBLIC_URL = "https://shop.example.com"
MERCHANT_URL = "https://merchant.example.com"   # the merchant's servers in the examples
UNREACHABLE = "http://127.0.0.1:9"              # ... here: loopback, nothing listens (discard port)

MARK = re.compile(r"<!-- example: ([^>]*?) -->\n(```(\w*)\n(.*?)\n```|(\|.*?)\n\n)", re.S)
FENCE = re.compile(r"^```", re.M)


def examples(kind: str | None = None) -> list[tuple[list[str], str, str]]:
    """(mark words, fence language, text) of each marked example, in document order."""
    found = []
    for m in MARK.finditer(DOC):
        words = m.group(1).split()
        if kind is None or words[0] == kind:
            found.append((words, m.group(3) or "table", m.group(4) if m.group(4) is not None else m.group(5)))
    return found


def test_every_example_is_marked():
    fences = len(FENCE.findall(DOC)) // 2
    marked = [e for e in examples() if e[1] != "table"]
    assert fences == len(marked), "a fenced block of docs/integration.md has no <!-- example: … --> mark"
    runners = {"request", "response", "webhook", "python-verify", "node-verify", "license-call", "license-answer",
               "token-claims", "license-client", "test-cards"}
    assert {words[0] for words, _, _ in examples()} <= runners


# -- the platform, in-process ---------------------------------------------------------------------
def _serve(app) -> str:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _serve.servers.append(server)
    return f"http://127.0.0.1:{server.server_port}"


_serve.servers = []


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    from tillkey.fulfillment.config import Settings as FulfillmentSettings
    from tillkey.fulfillment.entrypoints.app import create_app as fulfillment_app
    from tillkey.fulfillment.entrypoints.cli import MIGRATIONS_HOME as FULFILLMENT_MIGRATIONS
    from tillkey.orders.config import Settings as OrdersSettings
    from tillkey.orders.entrypoints.app import create_app as orders_app
    from tillkey.orders.entrypoints.cli import MIGRATIONS_HOME as ORDERS_MIGRATIONS
    from tillkey.webhooks.config import Settings as WebhooksSettings
    from tillkey.webhooks.entrypoints.app import create_app as webhooks_app
    from tillkey.webhooks.entrypoints.cli import MIGRATIONS_HOME as WEBHOOKS_MIGRATIONS

    tmp = tmp_path_factory.mktemp("platform")
    urls = {name: f"sqlite:///{tmp / name}.db" for name in ("orders", "webhooks", "fulfillment")}
    for name, home in (("orders", ORDERS_MIGRATIONS), ("webhooks", WEBHOOKS_MIGRATIONS),
                       ("fulfillment", FULFILLMENT_MIGRATIONS)):
        migrate(home, urls[name])
    apps = {"orders": orders_app(OrdersSettings(database_url=urls["orders"], platform_secret=SECRET, admin_token=ADMIN,
                                                orders_public_url=PUBLIC_URL, payments_public_url=PUBLIC_URL))}
    orders_url = _serve(apps["orders"])
    apps["webhooks"] = webhooks_app(WebhooksSettings(database_url=urls["webhooks"], platform_secret=SECRET,
                                                     admin_token=ADMIN, allow_private_urls=True))
    apps["fulfillment"] = fulfillment_app(FulfillmentSettings(
        database_url=urls["fulfillment"], platform_secret=SECRET, admin_token=ADMIN, allow_private_urls=True,
        orders_internal_url=orders_url))
    state = SimpleNamespace(clients={k: a.test_client() for k, a in apps.items()},
                            fulfillment_url=_serve(apps["fulfillment"]), context={"ADMIN_TOKEN": ADMIN}, answers={})
    yield state
    for server in _serve.servers:
        server.shutdown()
    _serve.servers.clear()
    for app in apps.values():
        for ext in app.extensions.values():
            if hasattr(ext, "engine"):
                ext.engine.dispose()


def parse_http(text: str) -> tuple[str, dict[str, str], str]:
    head, _, body = text.partition("\n\n")
    first, *lines = head.split("\n")
    return first, dict(line.split(": ", 1) for line in lines), body.strip()


def fill(text: str, context: dict) -> str:
    text = re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), text)
    return text.replace(MERCHANT_URL, UNREACHABLE)


EXACT = {"code", "status", "title", "detail", "type", "errors", "name", "prices", "default_currency", "active",
         "events", "description", "enabled", "method", "configured", "quantity", "unit_price", "discount",
         "total", "subtotal", "currency", "prefix", "activation_limit", "valid_days", "revoke_on_refund"}


def same_shape(doc, actual, path="") -> None:
    if isinstance(doc, dict):
        assert isinstance(actual, dict) and set(doc) == set(actual), (path, sorted(doc), sorted(actual or {}))
        for key in doc:
            if key in EXACT:
                assert doc[key] == actual[key], (f"{path}.{key}", doc[key], actual[key])
            else:
                same_shape(doc[key], actual[key], f"{path}.{key}")
    elif isinstance(doc, list):
        assert isinstance(actual, list) and len(doc) == len(actual), (path, doc, actual)
        for i, (d, a) in enumerate(zip(doc, actual, strict=True)):
            same_shape(d, a, f"{path}[{i}]")
    else:
        assert type(doc) is type(actual), (path, doc, actual)


def _header_pattern(value: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in value.split("…")) + "$")


@pytest.fixture(scope="module")
def walkthrough(platform):
    """Every request of the doc, in order, each answer checked (a failure here errors its users)."""
    _walk(platform)
    return platform


def test_requests_and_their_answers(walkthrough):
    assert walkthrough.answers["generated_source"]["method"] == "generated"
    assert walkthrough.answers["webhook_secret"].startswith("whsec_")


def _walk(platform) -> None:
    flow = [e for e in examples() if e[0][0] in ("request", "response")]
    assert flow, "no request examples found"
    previous = None
    pending = None
    for words, _, text in flow + [(["request"], "", "")]:
        if words[0] == "request" and pending is not None:   # a request without a documented answer: 2xx
            assert 200 <= pending.status_code < 300, (pending.status_code, pending.get_data(as_text=True))
            _remember(platform, pending)
            pending = None
        if not text:
            break
        if words[0] == "request":
            first, headers, body = parse_http(fill(text, platform.context))
            method, target = first.split(" ", 1)
            client = platform.clients[words[1]]
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            kwargs = {"data": body, "content_type": "application/json"} if body else {}
            pending = client.open(target, method=method, headers=headers, **kwargs)
            continue
        answer, pending = pending, None
        first, headers, body = parse_http(text)
        assert answer.status_code == int(first.split()[1]), (first, answer.get_data(as_text=True))
        for name, value in headers.items():
            assert _header_pattern(value).match(answer.headers.get(name, "")), (name, value, answer.headers.get(name))
        if body:
            same_shape(json.loads(body), answer.json)
        if words[1:] == ["same"]:
            assert answer.json == previous.json
        _remember(platform, answer)
        previous = answer


def _remember(platform, answer) -> None:
    if 200 <= answer.status_code < 300 and answer.is_json and isinstance(answer.json, dict):
        for key, value in answer.json.items():
            if isinstance(value, str) and (key.endswith("_id") or key in ("api_key", "secret", "public_key")):
                platform.context[key] = value
        if "public_key" in answer.json:
            platform.answers["generated_source"] = answer.json
        if answer.json.get("secret", "").startswith("whsec_") and "endpoint_id" in answer.json:
            platform.answers["webhook_secret"] = answer.json["secret"]


# -- webhooks --------------------------------------------------------------------------------------
def documented_webhooks() -> list[dict]:
    return [json.loads(text) for _, _, text in examples("webhook")]


def test_every_public_event_type_has_an_example_that_is_exactly_what_webhooks_sends():
    from tillkey.webhooks.domain import payload

    custom = load_sample("order.created")["data"]["custom"]
    seen = set()
    for doc in documented_webhooks():
        sample = load_sample(doc["type"])
        scoped = doc["type"] not in payload.NOT_ORDER_SCOPED
        data = payload.public_data(doc["type"], sample["data"], custom if scoped else None)
        expected = json.loads(payload.body(sample["id"], doc["type"], sample["occurred_at"], doc["sequence"], data))
        assert doc == expected
        assert (doc["sequence"] is None) == (not scoped)
        seen.add(doc["type"])
    assert seen == set(PUBLIC_EVENT_TYPES)


def signed(secret: str, event: dict, tamper: bool = False) -> tuple[bytes, dict[str, str]]:
    """A webhook as the webhooks service sends it (compact JSON, Standard Webhooks headers)."""
    body = json.dumps(event, separators=(",", ":"))
    headers = signing.headers([secret], event["id"], int(time.time()), body)
    if tamper:
        body = body.replace('"sequence":', '"sequence":1', 1)
    return body.encode(), headers


def test_the_python_verification_example(walkthrough, monkeypatch):
    (_, _, code), = examples("python-verify")
    secret = walkthrough.answers["webhook_secret"]     # the endpoint's, from the doc's POST /v1/webhook-endpoints
    monkeypatch.setenv("TILLKEY_WEBHOOK_SECRET", secret)
    namespace: dict = {"__name__": "merchant_app"}
    exec(compile(code, "docs/integration.md (python-verify)", "exec"), namespace)
    client = namespace["app"].test_client()
    for event in documented_webhooks():
        body, headers = signed(secret, event)
        assert client.post("/tillkey/webhooks", data=body, headers=headers).status_code == 204
        assert event["id"] in namespace["seen_event_ids"]
        assert client.post("/tillkey/webhooks", data=body, headers=headers).status_code == 204   # a retry
        tampered, headers = signed(secret, event, tamper=True)
        assert client.post("/tillkey/webhooks", data=tampered, headers=headers).status_code == 400
    body, headers = signed(signing.new_secret(), documented_webhooks()[0])       # another endpoint's secret
    assert client.post("/tillkey/webhooks", data=body, headers=headers).status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: bytes, headers: dict) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory):
    """`standardwebhooks` from the npm registry, installed into a directory of the test's own."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node or npm is not installed")
    where = tmp_path_factory.mktemp("node")
    (where / "package.json").write_text('{"name": "tillkey-docs-example", "private": true}')
    try:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "standardwebhooks@1"], cwd=where,
                       check=True, capture_output=True, timeout=45)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"npm could not install standardwebhooks (registry unreachable?): {exc}")
    return where


def test_the_node_verification_example(node_modules):
    (_, _, code), = examples("node-verify")
    (node_modules / "server.js").write_text(code)
    secret, port = signing.new_secret(), _free_port()
    proc = subprocess.Popen(["node", "server.js"], cwd=node_modules, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TILLKEY_WEBHOOK_SECRET": secret, "PORT": str(port)}, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        for event in documented_webhooks():
            body, headers = signed(secret, event)
            assert _post(url, body, {**headers, "content-type": "application/json"}) == 204
            tampered, headers = signed(secret, event, tamper=True)
            assert _post(url, tampered, {**headers, "content-type": "application/json"}) == 400
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert "product.delivered 4" in out


# -- the license web service -----------------------------------------------------------------------
def test_the_signed_license_call_is_what_fulfillment_sends():
    from standardwebhooks import Webhook

    from tillkey.fulfillment.adapters.license_service import USER_AGENT
    from tillkey.fulfillment.service_layer.web_service import Call, request_body

    (_, _, text), = examples("license-call")
    first, headers, body = parse_http(text)
    secret = re.search(r"signed here with the secret `(whsec_[^`]+)`", DOC).group(1)
    data = load_sample("order.created")["data"]
    line = data["lines"][0]
    order = SimpleNamespace(order_id=data["order_id"],
                            customer={k: data["customer"][k] for k in ("email", "first_name", "last_name", "country")})
    sent = request_body(order, SimpleNamespace(line_id=line["line_id"], product_id=line["product_id"],
                                               quantity=line["quantity"]))
    assert body == sent
    stamp = int(headers["webhook-timestamp"])
    call = Call(line["line_id"], f"{MERCHANT_URL}/licenses", secret, sent)
    assert call.headers(datetime.fromtimestamp(stamp, UTC)) == {
        k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert headers["webhook-signature"] == Webhook(secret).sign(line["line_id"], datetime.fromtimestamp(stamp, UTC),
                                                                 body)
    assert first == "POST /licenses HTTP/1.1" and headers["Host"] == "merchant.example.com"
    assert headers["User-Agent"] == USER_AGENT and headers["Content-Type"] == "application/json"


def test_the_documented_answer_is_delivered():
    from tillkey.fulfillment.domain.license_calls import CallResult, Verdict, judge

    (_, _, text), = examples("license-answer")
    quantity = load_sample("order.created")["data"]["lines"][0]["quantity"]
    outcome = judge(CallResult(status=200, body=text.encode()), quantity)
    assert outcome.verdict is Verdict.DELIVER and list(outcome.licenses) == json.loads(text)["licenses"]


# -- license keys ------------------------------------------------------------------------------------
def test_the_token_claims_are_the_ones_signed():
    from tillkey.fulfillment.domain.licensing import token_claims

    (_, _, text), = examples("token-claims")
    doc = json.loads(text.replace("…", ""))
    key = SimpleNamespace(product_id="prod_1", key_id="lk_1", activation_limit=2,
                          issued_at=datetime(2026, 11, 28, 21, tzinfo=UTC),
                          expires_at=datetime(2027, 11, 28, 21, tzinfo=UTC))
    claims = token_claims(key, "EDPRO-7K2QD-M9XWR-4TBNC-HZ3PA-V61EJ")
    assert set(doc) == set(claims) and doc["iss"] == claims["iss"]
    assert (doc["iat"], doc["exp"]) == (claims["iat"], claims["exp"])


def test_the_example_license_client_against_fulfillment(walkthrough):
    """The doc's product has a generated source by now; the doc's key was never sold: refused (exit 1)."""
    source = walkthrough.answers["generated_source"]
    (_, _, text), = examples("license-client")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "product.pem").write_text(source["public_key"])
        command = " ".join(text.replace("\\\n", " ").split())
        command = command.replace("https://shop.example.com", walkthrough.fulfillment_url)
        args = command.split()
        assert args[:2] == ["python", "docs/examples/license_client.py"]
        done = subprocess.run([sys.executable, str(ROOT / args[1]), *args[2:]], cwd=tmp, capture_output=True,
                              text=True, timeout=30)
    assert done.returncode == 1, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["licensed"] is False and answer["how"] == "online"


# -- test cards ------------------------------------------------------------------------------------
def test_the_test_cards_are_the_sandboxs():
    from tillkey.payments.sandbox.cards import BEHAVIOURS, TEST_CARDS

    (_, _, table), = examples("test-cards")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\d{16})` \| (.*) \|$", table, re.M)}
    assert set(rows) == set(TEST_CARDS)
    for number, what in rows.items():
        behaviour = BEHAVIOURS[TEST_CARDS[number]]
        if behaviour.failure_code:
            assert f"`{behaviour.failure_code}`" in what
        else:
            assert "succeeds" in what
        assert ("5xx to the first two tries" in what) == (behaviour.unavailable_tries == 2)
        assert ("refunds of it fail" in what) == behaviour.refund_fails


def test_base64_secret_in_the_doc_is_a_valid_whsec():
    secret = re.search(r"signed here with the secret `(whsec_[^`]+)`", DOC).group(1)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
