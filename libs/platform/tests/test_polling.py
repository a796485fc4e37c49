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


class Schedule:
    """A table of jobs with due times (monotonic seconds), as a worker's claim and next_due see it."""

    def __init__(self):
        self.due: dict[str, float] = {}
        self.claims = 0
        self.lock = threading.Lock()

    def add(self, job: str, in_seconds: float) -> None:
        with self.lock:
            self.due[job] = time.monotonic() + in_seconds

    def claim(self, free: int) -> list:
        with self.lock:
            self.claims += 1
            now = time.monotonic()
            taken = [job for job, at in self.due.items() if at <= now][:free]
            for job in taken:
                del self.due[job]
            return taken

    def next_due(self) -> float | None:
        with self.lock:
            return min(self.due.values()) - time.monotonic() if self.due else None


def start(worker: PollingWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def stop(worker: PollingWorker, thread: threading.Thread) -> None:
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive(), "stop() did not end a worker sleeping until its next job"


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_an_idle_worker_with_next_due_does_not_claim_every_poll_interval():
    schedule = Schedule()
    worker = PollingWorker("test", schedule.claim, lambda job: None, poll_interval=0.02, idle_poll=30.0,
                           next_due=schedule.next_due)
    thread = start(worker)
    try:
        wait_for(lambda: schedule.claims >= 1)
        time.sleep(0.5)  # 25 poll intervals: a worker without next_due claims ~25 times
        assert schedule.claims == 1
    finally:
        stop(worker, thread)


def test_an_idle_worker_claims_when_the_next_job_falls_due_and_when_woken():
    schedule = Schedule()
    done: list[str] = []
    worker = PollingWorker("test", schedule.claim, done.append, poll_interval=0.02, idle_poll=30.0,
                           next_due=schedule.next_due)
    schedule.add("retry", 0.3)
    thread = start(worker)
    try:
        wait_for(lambda: done == ["retry"], timeout=5.0)  # not after idle_poll (30 s)
        schedule.add("new", 0.0)  # written by this process's consumer, which wakes the worker
        worker.wake()
        wait_for(lambda: done == ["retry", "new"], timeout=5.0)
    finally:
        stop(worker, thread)


def test_when_next_due_fails_the_worker_polls_as_without_it():
    schedule = Schedule()

    def broken():
        raise RuntimeError("database away")

    worker = PollingWorker("test", schedule.claim, lambda job: None, poll_interval=0.02, idle_poll=30.0,
                           next_due=broken)
    thread = start(worker)
    try:
        wait_for(lambda: schedule.claims >= 5, timeout=5.0)
    finally:
        stop(worker, thread)


def test_a_wake_up_that_finds_nothing_does_not_ask_next_due_again():
    schedule = Schedule()
    asked = []

    def next_due():
        asked.append(1)
        return schedule.next_due()

    worker = PollingWorker("test", schedule.claim, lambda job: None, poll_interval=0.02, idle_poll=30.0,
                           next_due=next_due)
    thread = start(worker)
    try:
        wait_for(lambda: asked)
        for _ in range(5):  # a consumer's batches whose jobs were handed over: each wakes the worker
            claims = schedule.claims
            worker.wake()
            wait_for(lambda claims=claims: schedule.claims > claims)
        assert len(asked) == 1
    finally:
        stop(worker, thread)


def test_no_more_than_per_key_jobs_of_one_key_run_at_once_claimed_or_handed():
    running: dict[str, int] = {}
    most: dict[str, int] = {}
    lock = threading.Lock()
    told: list[dict] = []
    queue = [("slow", i) for i in range(6)] + [("fast", i) for i in range(3)]
    done: list = []

    def claim(free, busy):
        told.append(dict(busy))
        with lock:
            taken = []
            for job in list(queue):
                if len(taken) < free and busy.get(job[0], 0) + sum(t[0] == job[0] for t in taken) < 2:
                    taken.append(job)
                    queue.remove(job)
        return taken

    def run_job(job):
        with lock:
            running[job[0]] = running.get(job[0], 0) + 1
            most[job[0]] = max(most.get(job[0], 0), running[job[0]])
        time.sleep(0.03 if job[0] == "slow" else 0.001)
        with lock:
            running[job[0]] -= 1
        done.append(job)

    worker = PollingWorker("test", claim, run_job, threads=4, poll_interval=0.01, key=lambda job: job[0], per_key=2)
    worker.take([("slow", "h1"), ("slow", "h2"), ("slow", "h3")], start_within=30)  # the third must wait
    run_until(worker, lambda: len(done) == 12)
    assert most["slow"] <= 2 and most["fast"] <= 2
    assert any(b.get("slow") == 2 for b in told)  # the claim is told which keys are at their cap
    assert worker._busy == {} and worker._in_flight == 0  # noqa: SLF001 — every place given back


def test_one_outcome_that_cannot_be_recorded_holds_up_none_of_the_others():
    recorded: list = []

    def record(outcomes):
        if 3 in outcomes:
            raise ValueError("a value the table refuses")  # the database is up: not worth waiting for
        recorded.extend(outcomes)

    worker = PollingWorker("test", lambda free: [], lambda job: job, threads=5, record=record, record_for=60)
    worker._finished = [(time.monotonic(), job, job) for job in range(5)]  # noqa: SLF001 — five sent together
    worker._in_flight = 5  # noqa: SLF001
    assert worker._record_finished() == 1  # noqa: SLF001 — one kept for the next turn
    assert sorted(recorded) == [0, 1, 2, 4] and worker._in_flight == 1  # noqa: SLF001


def test_outcomes_are_kept_whole_while_the_database_is_away():
    from sqlalchemy.exc import OperationalError

    calls: list = []

    def record(outcomes):
        calls.append(list(outcomes))
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    worker = PollingWorker("test", lambda free: [], lambda job: job, threads=5, record=record, record_for=60)
    worker._finished = [(time.monotonic(), job, job) for job in range(3)]  # noqa: SLF001
    worker._in_flight = 3  # noqa: SLF001
    assert worker._record_finished() == 3  # noqa: SLF001
    assert calls == [[0, 1, 2]]  # no one-by-one tries against a database that is not there


def test_a_finished_job_waits_a_moment_for_those_still_running_and_they_are_recorded_together():
    """Two jobs claimed together, one done at once and one a little later: with a linger they go in
    one `record` call; without one the first is recorded alone."""
    for linger, expected in ((2.0, [[1, 2]]), (0.0, [[1], [2]])):
        queue, batches = [1, 2], []
        second_may_finish = threading.Event()

        def claim(free, queue=queue):
            taken, queue[:] = queue[:free], queue[free:]
            return taken

        def run(job, gate=second_may_finish):
            if job == 2:
                gate.wait(5)
            return job

        def record(outcomes, batches=batches, gate=second_may_finish):
            batches.append(sorted(outcomes))
            gate.set()  # without a linger the first is recorded alone; then the second may finish

        worker = PollingWorker("test", claim, run, threads=2, poll_interval=0.01, record=record,
                               record_linger=linger)
        # With a linger the second finishes while the first waits; without one, only once the
        # first was recorded (record opens the gate).
        timer = threading.Timer(0.2, second_may_finish.set)
        if linger:
            timer.start()
        run_until(worker, lambda batches=batches: sum(len(b) for b in batches) == 2)
        timer.cancel()
        assert batches == expected, linger
