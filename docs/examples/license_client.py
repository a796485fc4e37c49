"""An application that checks its Tillkey license: offline with the product's public key, online to
activate this machine (docs/integration.md, "License keys").

Needs Python 3.11+ and `cryptography` (pip install cryptography); the HTTP calls use the standard
library. Build your product's public key (the `public_key` of its license source) into your
application; the customer types the key; the license token comes from the order's deliveries or
from an activation, and is kept next to the application.

    python license_client.py --server https://shop.example.com --public-key product.pem \
        --key EDPRO-... --state license.json start          # what the application does at start
    python license_client.py ... verify                      # offline only: is the cached token good?
    python license_client.py ... activate [--instance-name N] [--fingerprint F]
    python license_client.py ... validate                    # online: valid, expired, revoked, not_found
    python license_client.py ... deactivate                  # release this machine's activation

Each command prints one JSON object and exits 0 when the answer is good for the application, 1 when
the license says no, 2 when the server could not be asked.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import platform
import re
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEADER = b"v4.public."


# -- offline: PASETO v4.public, verified with the product's Ed25519 public key ----------------------
def _pae(*pieces: bytes) -> bytes:
    out = len(pieces).to_bytes(8, "little")
    for piece in pieces:
        out += len(piece).to_bytes(8, "little") + piece
    return out


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalize(key: str) -> str:
    return re.sub(r"\s+", "", key).upper()


def verify_token(token: str, public_key: Ed25519PublicKey, key: str, product_id: str | None = None) -> dict:
    """The token's claims if it is ours, for this key (and product), and not expired; ValueError otherwise."""
    if not token.startswith(HEADER.decode()):
        raise ValueError("not a v4.public token")
    body_and_footer = token[len(HEADER):].split(".")
    if len(body_and_footer) > 2:
        raise ValueError("malformed token")
    body = _unb64url(body_and_footer[0])
    footer = _unb64url(body_and_footer[1]) if len(body_and_footer) == 2 else b""
    message, signature = body[:-64], body[-64:]
    try:
        public_key.verify(signature, _pae(HEADER, message, footer, b""))
    except InvalidSignature:
        raise ValueError("the token was not signed by this product's key") from None
    claims = json.loads(message)
    if claims.get("key_sha256") != hashlib.sha256(normalize(key).encode()).hexdigest():
        raise ValueError("the token belongs to another license key")
    if product_id and claims.get("product_id") != product_id:
        raise ValueError("the token is for another product")
    if claims.get("exp") and datetime.fromisoformat(claims["exp"]) <= datetime.now(UTC):
        raise ValueError(f"the license expired on {claims['exp']}")
    return claims


# -- online: the public license API (the key is the credential) ----------------------------------
def call(server: str, action: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.rstrip('/')}/v1/licenses/{action}", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 404, 409, 429: answers with a problem+json body
        return exc.code, json.loads(exc.read() or b"{}")


def machine_fingerprint() -> str:
    """Stable for this machine and not the machine's identity itself: a hash of its MAC and name."""
    return hashlib.sha256(f"{uuid.getnode()}:{platform.node()}".encode()).hexdigest()


# -- the application's side: a small state file holds the token and this machine's activation ------
class License:
    def __init__(self, args):
        self.args = args
        pem = Path(args.public_key).read_bytes()
        self.public_key = serialization.load_pem_public_key(pem)
        self.state_path = Path(args.state)
        self.state = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}

    def save(self, **changes) -> None:
        self.state.update(changes)
        self.state_path.write_text(json.dumps(self.state, indent=2))

    def verify(self) -> tuple[int, dict]:
        token = self.args.token or self.state.get("license_token")
        if not token:
            return 1, {"verified": False, "error": "no license token yet: activate online first"}
        try:
            claims = verify_token(token, self.public_key, self.args.key, self.args.product_id)
        except ValueError as exc:
            return 1, {"verified": False, "error": str(exc)}
        if self.args.token:
            self.save(license_token=token)
        return 0, {"verified": True, "claims": claims}

    def activate(self) -> tuple[int, dict]:
        status, body = call(self.args.server, "activate", {
            "key": self.args.key, "instance_name": self.args.instance_name or platform.node() or "this machine",
            "fingerprint": self.args.fingerprint or machine_fingerprint()})
        if status != 200:
            return (2 if status >= 500 else 1), {"activated": False, "status": status, "code": body.get("code"),
                                                 "detail": body.get("detail")}
        token = body["license"]["license_token"]
        verify_token(token, self.public_key, self.args.key, self.args.product_id)  # never trust a token unchecked
        self.save(license_token=token, activation_id=body["activation_id"])
        return 0, {"activated": True, "activation_id": body["activation_id"], "new": body["new"],
                   "activations": body["license"]["activations"],
                   "activation_limit": body["license"]["activation_limit"]}

    def validate(self) -> tuple[int, dict]:
        body = {"key": self.args.key}
        if self.state.get("activation_id"):
            body["instance_id"] = self.state["activation_id"]
        status, answer = call(self.args.server, "validate", body)
        if status != 200:
            return 2, {"status": None, "http_status": status, "code": answer.get("code")}
        return (0 if answer["status"] == "valid" else 1), {"status": answer["status"],
                                                          "activated": answer["activated"]}

    def deactivate(self) -> tuple[int, dict]:
        activation_id = self.args.instance_id or self.state.get("activation_id")
        if not activation_id:
            return 1, {"deactivated": False, "error": "this machine has no activation"}
        status, body = call(self.args.server, "deactivate", {"key": self.args.key, "instance_id": activation_id})
        if status != 200:
            return 1, {"deactivated": False, "status": status, "code": body.get("code")}
        if activation_id == self.state.get("activation_id"):
            self.save(activation_id=None)
        return 0, {"deactivated": True, "activation_id": activation_id}

    def start(self) -> tuple[int, dict]:
        """At every start: the cached token, offline; online only for the first activation."""
        code, answer = self.verify()
        if code == 0 and self.state.get("activation_id"):
            return 0, {"licensed": True, "how": "offline", **answer}
        code, answer = self.activate()
        return code, {"licensed": code == 0, "how": "online", **answer}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("start", "verify", "activate", "validate", "deactivate"))
    parser.add_argument("--server", required=True, help="the shop's public address (the Tillkey entry)")
    parser.add_argument("--public-key", required=True, help="the product's public key, a PEM file")
    parser.add_argument("--key", required=True, help="the license key the customer received")
    parser.add_argument("--state", default="license.json", help="where the token and activation are kept")
    parser.add_argument("--token", help="a license token to verify (and keep), e.g. from the order page")
    parser.add_argument("--product-id", help="refuse tokens of any other product")
    parser.add_argument("--instance-name")
    parser.add_argument("--fingerprint")
    parser.add_argument("--instance-id", help="deactivate: an activation other than this machine's")
    args = parser.parse_args(argv)
    try:
        code, answer = getattr(License(args), args.command)()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        code, answer = 2, {"error": f"the license server could not be asked: {exc}"}
    print(json.dumps(answer))
    return code


if __name__ == "__main__":
    sys.exit(main())
