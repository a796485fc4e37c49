"""PollingWorker: due jobs run on the pool, failures never stop the loop, stop() ends it."""
from __future__ import annotations

import threading
import time

from tillkey.platform.polling import PollingWorker


def run_until(worker: PollingWorker, condition, timeout: float = 10.0) -> None:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not condition():
            assert time.monotonic() < deadline, "the condition never held"
            time.sleep(0.01)
    finally:
        worker.stop()
        thread.join(timeout=5)
    assert not thread.is_alive() and worker.ready is False


def test_jobs_run_and_a_failing_job_or_claim_does_not_stop_the_loop():
    queue = ["boom", 1, 2, 3]
    claims = {"n": 0}
    done: list = []

    def claim(free):
        claims["n"] += 1
        if claims["n"] == 1:
            raise RuntimeError("database hiccup")
        taken, queue[:] = queue[:free], queue[free:]
        return taken

    def run_job(job):
        if job == "boom":
            raise ValueError("job failed")
        done.append(job)

    worker = PollingWorker("test", claim, run_job, threads=2, poll_interval=0.01)
    run_until(worker, lambda: sorted(done) == [1, 2, 3])


def test_never_more_jobs_in_flight_than_threads():
    in_flight, most = [0], [0]
    lock = threading.Lock()
    asked: list[int] = []

    def claim(free):
        asked.append(free)
        return ["job"] * free

    def run_job(_job):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1

    worker = PollingWorker("test", claim, run_job, threads=3, poll_interval=0.01)
    run_until(worker, lambda: len(asked) > 10)
    assert most[0] <= 3 and max(asked) <= 3


def test_outcomes_are_recorded_together_and_kept_while_recording_fails():
    queue = list(range(6))
    batches: list[list] = []
    failures = {"left": 2}  # the database is away for the first two tries

    def claim(free):
        taken, queue[:] = queue[:free], queue[free:]
        return taken

    def record(outcomes):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database restarting")
        batches.append(sorted(outcomes))

    worker = PollingWorker("test", claim, lambda job: job * 10, threads=3, poll_interval=0.01, record=record)
    run_until(worker, lambda: sum(len(b) for b in batches) == 6)
    assert sorted(o for b in batches for o in b) == [0, 10, 20, 30, 40, 50]  # each once, none lost
    assert len(batches) < 6  # several outcomes per transaction


def test_an_unrecorded_job_stays_in_flight_so_no_more_is_claimed_than_threads():
    asked: list[int] = []

    def claim(free):
        asked.append(free)
        return ["job"] * free

    def record(_outcomes):
        raise ConnectionError("database down")

    worker = PollingWorker("test", claim, lambda job: job, threads=2, poll_interval=0.01, record=record,
                           record_for=60)
    run_until(worker, lambda: len(asked) >= 1 and worker._in_flight == 2)  # noqa: SLF001
    time.sleep(0.2)
    assert asked == [2]  # the two sent jobs hold their places until recorded: nothing more is claimed


def test_handed_jobs_run_before_claimed_ones_and_late_ones_are_left_to_the_poll():
    order: list = []
    worker = PollingWorker("test", lambda free: [], order.append, threads=2, poll_interval=0.01)
    worker.take(["late"], start_within=-1)  # waited past its start-by: its lease may end mid-run
    worker.take(["a", "b"], start_within=30)
    run_until(worker, lambda: order == ["a", "b"] or sorted(order) == ["a", "b"])
    assert sorted(order) == ["a", "b"]  # "late" never runs here: the poll takes it when its lease ends
