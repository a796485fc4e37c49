"""One mapping from a domain refusal to its problem+json answer, for every service."""
from __future__ import annotations

import pytest
from flask import Flask

from tillkey.contracts import errors
from tillkey.platform.problems import ApiError, refusals_as_problems, refused


class NotReady(errors.Conflict):
    code, retry_after = "order_not_ready", 1


@pytest.mark.parametrize("refusal, status, code", [
    (errors.NotFound("No such order."), 404, "not_found"),
    (errors.Forbidden("Only support may cancel."), 403, "forbidden"),
    (errors.Conflict("The cart is checked out.", "cart_checked_out"), 409, "cart_checked_out"),
    (errors.Gone("The product was withdrawn."), 410, "gone"),
    (errors.Invalid("No price in JPY.", field="currency"), 422, "validation_error"),
    (errors.TooSoon("Sent a moment ago.", retry_after=60), 429, "too_many_requests"),
    (errors.Unavailable("The catalog is down."), 503, "unavailable"),
    (NotReady("The order is on its way."), 409, "order_not_ready"),
])
def test_each_kind_answers_its_status_and_code(refusal, status, code):
    answer = refused(refusal)
    assert (answer.status, answer.code, answer.detail) == (status, code, refusal.detail)


def test_fields_go_with_a_422_only_and_retry_after_where_waiting_helps():
    assert refused(errors.Invalid("No price in JPY.", field="currency")).errors == {"currency": ["No price in JPY."]}
    assert refused(errors.Invalid("Bad.", errors={"a.b": ["x"], "c": ["y"]})).errors == {"a.b": ["x"], "c": ["y"]}
    assert refused(errors.NotFound("No such order.", field="order_id")).errors is None
    assert refused(errors.TooSoon("Wait.", retry_after=60)).headers == {"Retry-After": "60"}
    assert refused(NotReady("Soon.")).headers == {"Retry-After": "1"}
    assert refused(errors.Unavailable("Down.")).headers == {"Retry-After": "5"}
    assert refused(errors.Conflict("No.")).headers == {}


def test_a_refusal_inside_the_block_becomes_an_api_error_and_anything_else_passes_through():
    with Flask(__name__).app_context():
        with pytest.raises(ApiError) as raised, refusals_as_problems():
            raise errors.Conflict("The cart is checked out.")
        assert raised.value.status == 409
        with pytest.raises(KeyError), refusals_as_problems():
            raise KeyError("a bug stays a bug (a 500 logged with its trace)")
