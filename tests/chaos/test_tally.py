"""The counting itself, on made-up webhooks: a tally that could never fail would prove nothing.
(Not a scenario: it records no row.)"""
from __future__ import annotations

from tests.chaos.effects import _webhook_findings
from tests.chaos.tally import Tally, table


def _hook(order, kind, seq, webhook_id):
    return {"type": kind, "sequence": seq, "data": {"order_id": order}, "_webhook_id": webhook_id}


def test_redelivery_duplicate_gap_and_arrival_order_are_told_apart():
    webhooks = {
        "ord_ok": [_hook("ord_ok", t, i + 1, f"e{i}") for i, t in enumerate(
            ("order.created", "payment.succeeded", "product.delivered", "order.delivered"))],
        # the same webhook-id twice: a redelivery, allowed
        "ord_again": [_hook("ord_again", "order.created", 1, "a1"), _hook("ord_again", "order.created", 1, "a1")],
        # two different order.delivered events: a duplicated effect
        "ord_twice": [_hook("ord_twice", "order.created", 1, "t1"), _hook("ord_twice", "order.delivered", 2, "t2"),
                      _hook("ord_twice", "order.delivered", 3, "t3")],
        # sequence 3 never arrived: lost
        "ord_gap": [_hook("ord_gap", "order.created", 1, "g1"), _hook("ord_gap", "payment.succeeded", 2, "g2"),
                    _hook("ord_gap", "order.delivered", 4, "g4")],
        # numbered as webhooks took them in: noted only
        "ord_late": [_hook("ord_late", "order.created", 1, "l1"), _hook("ord_late", "order.delivered", 2, "l2"),
                     _hook("ord_late", "product.delivered", 3, "l3")],
    }
    redelivered, duplicated, gaps, disorder = _webhook_findings(webhooks)
    assert [r.split()[0] for r in redelivered] == ["ord_again"]
    assert [d.split(":")[0] for d in duplicated] == ["ord_twice"]
    assert [g.split(":")[0] for g in gaps] == ["ord_gap"]
    assert [d.split(":")[0] for d in disorder] == ["ord_late"]


def test_any_failure_column_fails_the_row_and_the_table_says_so():
    row = Tally("x")
    row.count("redelivered", 3)
    row.check()  # redeliveries are not failures
    row.count("lost", ["ord_1: email license_delivery never sent"], "email")
    assert row.failures == 1 and "email: ord_1" in row.notes[0]
    try:
        row.check()
    except AssertionError as exc:
        assert "lost=1" in str(exc)
    else:
        raise AssertionError("a lost effect passed")
    assert table([row]).endswith("1 failure(s) counted: THE RUN FAILS")
