"""Shared steps of the notifications integration tests: feed events in-process, drain the sender."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tillkey.contracts import load_sample
from tillkey.notifications.bootstrap import build_mail_sender
from tillkey.testing.messaging import sample_envelope

ORDER = load_sample("order.created")["data"]
ORDER_ID, MERCHANT = ORDER["order_id"], ORDER["merchant_id"]
EXTRA_LINE = {"line_id": "line_2Hb8Nd", "product_id": "prod_9Hb2Kd", "name": "Handbook & Guide", "quantity": 1,
              "unit_price": 1000, "discount": 0, "total": 1000, "delivery_status": "pending"}


def feed(service, type: str, *, new_id: bool = False, **data) -> None:
    """Hand an event to the worker's dispatcher as the consumer would (inbox included)."""
    service.dispatcher(sample_envelope(type, new_id=new_id, **data))


def known_customer(service, locale: str = "en", **order) -> None:
    feed(service, "merchant.registered")
    customer = {**ORDER["customer"], "locale": locale}
    feed(service, "order.created", customer=customer, lines=[*ORDER["lines"], EXTRA_LINE], **order)


def drain_sender(service) -> int:
    """Run the sender until nothing is due; how many polls found work."""
    sender, polls = build_mail_sender(service), 0
    while sender.run_once():
        polls += 1
    return polls


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url.replace("&amp;", "&")).query)["token"][0]
