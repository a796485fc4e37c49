"""A product's license source and pool, through the fulfillment API with the merchant's key."""
from __future__ import annotations

import csv
import io

from tillkey.dashboard.service_layer.errors import NotFound, Rejected
from tillkey.dashboard.service_layer.ids import checked
from tillkey.dashboard.service_layer.ports import PlatformApi

MAX_KEYS_PER_CALL = 1000       # what fulfillment takes in one call: more are sent in several
MAX_KEYS_PER_UPLOAD = 20_000


def pool_of(api: PlatformApi, key: str, product_id: str) -> dict:
    """{source, stats}: stats is None unless the product delivers from a pool."""
    try:
        source = api.call("fulfillment", "GET", f"/v1/products/{checked(product_id)}/license-source", key)
    except NotFound:
        source = {"configured": False}
    stats = None
    if source.get("method") == "pool":
        stats = api.call("fulfillment", "GET", f"/v1/products/{checked(product_id)}/licenses/stats", key)
    return {"source": source, "stats": stats}


def use_pool(api: PlatformApi, key: str, product_id: str, low_stock_threshold: str) -> dict:
    text = (low_stock_threshold or "").strip() or "0"
    if not text.isdigit() or int(text) > 1_000_000:
        raise Rejected("The pool was not set.", {"low_stock_threshold": ["A whole number from 0 to 1000000."]})
    return api.call("fulfillment", "PUT", f"/v1/products/{checked(product_id)}/license-source", key,
                    body={"method": "pool", "low_stock_threshold": int(text)})


def read_keys(pasted: str, csv_bytes: bytes | None) -> list[str]:
    """Pasted keys (one a line) and a CSV's first column; blank lines and a `key`/`license` header
    are skipped."""
    keys = [line.strip() for line in (pasted or "").splitlines() if line.strip()]
    if csv_bytes:
        try:
            text = csv_bytes.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Rejected("The file is not UTF-8 text.", {"file": ["A CSV file in UTF-8."]}) from None
        for number, row in enumerate(csv.reader(io.StringIO(text))):
            first = row[0].strip() if row else ""
            if first and not (number == 0 and first.lower() in ("key", "keys", "license", "license_key")):
                keys.append(first)
    if not keys:
        raise Rejected("No keys were given.", {"keys": ["Paste keys, one a line, or choose a CSV file."]})
    if len(keys) > MAX_KEYS_PER_UPLOAD:
        raise Rejected("Too many keys at once.", {"keys": [f"At most {MAX_KEYS_PER_UPLOAD} keys per upload."]})
    return keys


def add_keys(api: PlatformApi, key: str, product_id: str, keys: list[str]) -> dict:
    """{added, duplicates, available} over every call."""
    total = {"added": 0, "duplicates": 0, "available": 0}
    for start in range(0, len(keys), MAX_KEYS_PER_CALL):
        answer = api.call("fulfillment", "POST", f"/v1/products/{checked(product_id)}/licenses", key,
                          body={"keys": keys[start:start + MAX_KEYS_PER_CALL]})
        total["added"] += answer.get("added", 0)
        total["duplicates"] += answer.get("duplicates", 0)
        total["available"] = answer.get("available", total["available"])
    return total
