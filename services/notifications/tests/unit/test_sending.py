"""The mail sender's use cases over the fake unit of work: claim leases, record what the server said."""
from __future__ import annotations

from datetime import timedelta

from tillkey.notifications.domain.messages import FAILED, QUEUED, SENT, Message
from tillkey.notifications.service_layer import sending, views
from tillkey.notifications.service_layer.handlers import HANDLERS
from tillkey.platform.clock import FixedClock

from .conftest import FakeUnitOfWork, make_deps


def queued(uow: FakeUnitOfWork, message_id: str, at) -> Message:
    message = Message(message_id=message_id, cause=f"c:{message_id}", template="payment_confirmation", locale="en",
                      to="ada@example.com", subject="s", text_body="t", html_body="<p>h</p>", order_id="ord_1",
                      merchant_id="mer_1", created_at=at, next_attempt_at=at)
    uow.messages.add(message)
    return message


def run(command, uow, deps):
    return HANDLERS[type(command)](command, uow, deps)


def test_a_claim_leases_the_due_emails_and_the_sender_may_sleep_until_the_lease_ends():
    clock = FixedClock()
    uow, deps = FakeUnitOfWork(), make_deps(clock)
    queued(uow, "msg_1", clock.now())
    queued(uow, "msg_2", clock.now() + timedelta(minutes=5))
    [email] = run(sending.ClaimDueEmails(10, timedelta(seconds=60)), uow, deps)
    assert (email.message_id, email.to, uow.commits) == ("msg_1", "ada@example.com", 1)
    assert run(sending.ClaimDueEmails(10, timedelta(seconds=60)), uow, deps) == []  # leased: not claimed again
    assert run(sending.GetSecondsUntilDue(), uow, deps) == 60.0


def test_recorded_outcomes_mark_sent_postpone_and_give_up():
    clock = FixedClock()
    uow, deps = FakeUnitOfWork(), make_deps(clock)
    sent, deferred, rejected = (queued(uow, f"msg_{n}", clock.now()) for n in (1, 2, 3))
    run(sending.RecordOutcomes([sending.Outcome("msg_1"), sending.Outcome("msg_2", "451 busy"),
                                sending.Outcome("msg_3", "550 no such user", permanent=True),
                                sending.Outcome("msg_unknown")], (60.0,), timedelta(days=1)), uow, deps)
    assert (sent.status, sent.sent_at) == (SENT, clock.now())
    assert (deferred.status, deferred.next_attempt_at) == (QUEUED, clock.now() + timedelta(seconds=60))
    assert rejected.status == FAILED and uow.commits == 1


def test_failed_emails_are_listed_without_address_and_queued_again_due_now():
    clock = FixedClock()
    uow, deps = FakeUnitOfWork(), make_deps(clock)
    for n in (1, 2):
        queued(uow, f"msg_{n}", clock.now()).attempt_failed("550 no such user", clock.now(), permanent=True,
                                                            schedule=(60.0,), give_up_after=timedelta(days=1))
    [listed, _] = run(views.ListFailedEmails(), uow, deps)
    assert listed["last_error"] == "550 no such user" and "ada@example.com" not in listed.values()
    clock.advance(minutes=5)
    assert run(sending.RequeueFailedEmails(("msg_1",)), uow, deps) == 1
    assert (uow.messages.get("msg_1").status, uow.messages.get("msg_1").next_attempt_at) == (QUEUED, clock.now())
    assert run(sending.RequeueFailedEmails(every=True), uow, deps) == 1 and uow.commits == 2
