"""An email about one order line names the product as that order bought it, read with its recipient
(RecipientRepository.get_with_line): a line of another order, or none, falls back to the product."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tillkey.notifications.adapters import tables
from tillkey.testing.messaging import sample_envelope

from .helpers import ORDER, feed

pytestmark = pytest.mark.integration
LINE = ORDER["lines"][0]["line_id"]
OTHER_ORDER, OTHER_LINE, UNSEEN_LINE = "ord_4Jr9AsX3nQq6", "line_7Zx3WcV5bN", "line_8Qw4ErT6yU"


def _subjects(service) -> dict[str, str]:
    with service.session_factory() as session:
        rows = session.execute(select(tables.messages.c.cause, tables.messages.c.subject)).all()
    return {cause.rsplit(":", 1)[1]: subject for cause, subject in rows}


@pytest.mark.parametrize("same_batch", [False, True], ids=["order-read-by-the-email", "order-known-to-the-batch"])
def test_the_line_name_of_this_order_else_the_products_current_name(service, same_batch):
    feed(service, "merchant.registered")
    feed(service, "product.updated")  # the product is now "Pro Editor 2"; the order's line says "Pro Editor"
    other = {**ORDER["lines"][0], "line_id": OTHER_LINE, "name": "Someone else's name"}
    feed(service, "order.created", new_id=True, order_id=OTHER_ORDER, lines=[other])
    events = [sample_envelope("order.created")] + [
        sample_envelope("product.delivered", new_id=True, line_id=line) for line in (LINE, OTHER_LINE, UNSEEN_LINE)]
    if same_batch:
        service.dispatcher.handle_batch(events)
    else:
        for event in events:
            service.dispatcher.handle_batch([event])
    subjects = _subjects(service)
    assert len(subjects) == 3
    assert "Pro Editor" in subjects[LINE] and "Pro Editor 2" not in subjects[LINE]
    assert "Pro Editor 2" in subjects[OTHER_LINE]  # another order's line is not this order's
    assert "Pro Editor 2" in subjects[UNSEEN_LINE]
