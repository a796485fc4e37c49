"""The wait between a loop's rounds while work keeps coming (tillkey.messaging.linger); the consumer
and relay tests drive it through a real broker (test_consumer_linger.py, test_relay_wakeup.py)."""
from __future__ import annotations

from tillkey.messaging.linger import Linger


def test_the_wait_grows_after_busy_after_rounds_in_a_row_and_starts_short_again_after_a_reset():
    linger = Linger(short=0.01, busy=0.5, busy_after=3)
    assert [linger.after_busy_round() for _ in range(4)] == [0.01, 0.01, 0.5, 0.5]
    linger.reset()
    assert linger.after_busy_round() == 0.01


def test_a_busy_wait_shorter_than_the_short_one_is_the_short_one():
    assert Linger(short=0.05, busy=0.01, busy_after=1).after_busy_round() == 0.05
