"""The message's life: claim and lease, retry schedule, giving up, erasure; the Message-ID."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tillkey.notifications.domain.messages import FAILED, QUEUED, SENT, Message, cause_key, message_id_header

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SCHEDULE = (10.0, 60.0, 600.0)
GIVE_UP = timedelta(days=5)


def message(**kw) -> Message:
    base = dict(message_id="msg_1", cause=cause_key("payment_confirmation", "pay_1"), template="payment_confirmation",
                locale="en", to="ada@example.com", subject="s", text_body="t", html_body="<p>h</p>",
                order_id="ord_1", merchant_id="mer_1", created_at=T0, next_attempt_at=T0)
    return Message(**{**base, **kw})


def fail(m: Message, at: datetime, permanent: bool = False) -> None:
    m.attempt_failed("451 try later", at, permanent=permanent, schedule=SCHEDULE, give_up_after=GIVE_UP)


def test_message_id_depends_on_the_cause_only():
    a = message_id_header(cause_key("license_delivery", "ord_1", "line_1"))
    assert a == message_id_header("license_delivery:ord_1:line_1")
    assert a != message_id_header(cause_key("license_delivery", "ord_1", "line_2"))
    assert a.startswith("<") and a.endswith("@tillkey>") and len(a) == len("<@tillkey>") + 32
    assert message().message_id_header == message_id_header("payment_confirmation:pay_1")


def test_claim_counts_the_attempt_and_leases_the_row():
    m = message()
    m.claim(T0, timedelta(minutes=5))
    assert (m.attempts, m.next_attempt_at, m.status) == (1, T0 + timedelta(minutes=5), QUEUED)


def test_failures_follow_the_schedule_whose_last_step_repeats():
    m = message()
    waits = []
    for n in range(5):
        now = T0 + timedelta(hours=n)
        m.claim(now, timedelta(minutes=5))
        fail(m, now)
        waits.append((m.next_attempt_at - now).total_seconds())
    assert waits == [10.0, 60.0, 600.0, 600.0, 600.0]
    assert m.status == QUEUED and m.last_error == "451 try later"


def test_gives_up_only_after_the_window_and_never_schedules_past_it():
    m = message()
    m.claim(T0 + GIVE_UP - timedelta(seconds=5), timedelta(minutes=5))
    fail(m, T0 + GIVE_UP - timedelta(seconds=5))
    assert m.status == QUEUED and m.next_attempt_at == T0 + GIVE_UP  # one last try at the edge
    fail(m, T0 + GIVE_UP)
    assert (m.status, m.next_attempt_at) == (FAILED, None)


def test_a_permanent_refusal_fails_at_once():
    m = message()
    m.claim(T0, timedelta(minutes=5))
    fail(m, T0, permanent=True)
    assert (m.status, m.next_attempt_at) == (FAILED, None)


def test_naive_created_at_from_sqlite_is_utc():
    m = message(created_at=T0.replace(tzinfo=None))
    m.claim(T0, timedelta(minutes=5))
    fail(m, T0 + GIVE_UP)
    assert m.status == FAILED


def test_sent_is_final_and_a_late_failure_record_does_not_undo_it():
    m = message()
    m.claim(T0, timedelta(minutes=5))
    m.mark_sent(T0 + timedelta(seconds=1))
    fail(m, T0 + timedelta(seconds=2))
    assert (m.status, m.sent_at, m.next_attempt_at) == (SENT, T0 + timedelta(seconds=1), None)


def test_erasure_drops_address_and_bodies_and_cancels_an_unsent_email():
    queued, sent = message(), message(message_id="msg_2", status=SENT, sent_at=T0)
    for m in (queued, sent):
        m.erase()
        assert (m.to, m.text_body, m.html_body) == (None, None, None)
        assert m.subject == "s"  # kept: subjects carry no personal data
    assert (queued.status, queued.next_attempt_at) == (FAILED, None)
    assert "erased" in queued.last_error
    assert sent.status == SENT
