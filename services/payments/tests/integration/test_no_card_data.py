"""No card number is ever stored or logged by payments: it only ever sees the gateway's token."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import MetaData, select

from tillkey.testing.messaging import sample_envelope

pytestmark = pytest.mark.integration
ORDER = "ord_3Hq8ZrW2mNp5"
CARDS = ("4242424242424242", "4000000000000002", "4000000000000119")


def everything_stored(shop) -> str:
    """Every value of every table in the payments database, as text (tables reflected, none missed)."""
    meta = MetaData()
    meta.reflect(shop.service.engine)
    with shop.service.engine.connect() as conn:
        return "\n".join(repr(row) for table in meta.sorted_tables for row in conn.execute(select(table)))


def test_card_payments_leave_no_card_number_in_the_database_or_the_logs(shop, caplog):
    caplog.set_level(logging.DEBUG)
    shop.service.dispatcher(sample_envelope("order.created"))
    for number in CARDS:
        attempt = shop.pay_by_card(ORDER, number)
        final = shop.wait_status(ORDER, attempt["payment_id"], "succeeded", "failed")
        if final["status"] == "succeeded":
            break
    assert shop.order_status(ORDER) == "paid"
    stored = everything_stored(shop)
    assert "pay_" in stored and "ch_" in stored  # the dump does hold the payments
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "charge" in logged  # the logs did record the flow
    for number in CARDS:
        for text in (stored, logged):
            assert number not in text and number[-8:] not in text
