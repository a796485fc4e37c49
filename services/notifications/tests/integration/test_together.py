"""order.created's recipient and lines in one statement on PostgreSQL (adapters/together.py): the
lines go in only with a new recipient, and the rows are the ones the two statements wrote."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tillkey.contracts import load_sample
from tillkey.notifications.adapters import tables
from tillkey.notifications.adapters.together import MOST_CHILDREN_TOGETHER
from tillkey.testing.messaging import sample_envelope
from tillkey.testing.statements import counted, recorded_statements

pytestmark = pytest.mark.integration
ORDER = load_sample("order.created")["data"]


def _lines(count: int, prefix: str = "line_") -> list[dict]:
    return [{**ORDER["lines"][0], "line_id": f"{prefix}{n:010d}", "name": f"Tool {n}", "quantity": n + 1}
            for n in range(count)]


def _rows(service, table):
    with service.session_factory() as session:
        return session.execute(select(table).order_by(*table.primary_key.columns)).all()


@pytest.mark.parametrize("count", [1, 3, MOST_CHILDREN_TOGETHER + 1])
def test_a_new_order_stores_its_recipient_and_every_line(service, count):
    lines = _lines(count)
    with recorded_statements(service.engine) as seen:
        service.dispatcher.handle_batch([sample_envelope("order.created", lines=lines)])
    together = service.engine.dialect.name == "postgresql" and count <= MOST_CHILDREN_TOGETHER
    expected = ({"WITH order_recipients": 1} if together
                else {"INSERT order_recipients": 1, "INSERT order_lines": 1})
    assert {k: v for k, v in counted(seen).items() if "order_" in k} == expected
    [recipient] = _rows(service, tables.order_recipients)
    assert (recipient.order_id, recipient.merchant_id, recipient.email, recipient.first_name, recipient.locale) == (
        ORDER["order_id"], ORDER["merchant_id"], ORDER["customer"]["email"], ORDER["customer"]["first_name"],
        ORDER["customer"]["locale"])
    assert [tuple(row) for row in _rows(service, tables.order_lines)] == [
        (line["line_id"], ORDER["order_id"], line["product_id"], line["name"], line["quantity"]) for line in lines]


def test_a_known_order_said_again_with_other_lines_writes_no_line(service):
    service.dispatcher.handle_batch([sample_envelope("order.created", lines=_lines(2))])
    service.dispatcher.handle_batch([sample_envelope("order.created", new_id=True,
                                                     lines=_lines(2, prefix="line_other"))])
    assert [row.line_id for row in _rows(service, tables.order_lines)] == [line["line_id"] for line in _lines(2)]
    assert len(_rows(service, tables.order_recipients)) == 1
