"""The server's generation queue on its own: batching, limits, failure isolation, cancellation, shutdown."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from ramotion.server.limits import ServerLimits
from ramotion.server.queue import GenerationQueue, JobsCancelled, QueueClosed, QueueFull


class Recorder:
    """A generate function that records its batches; optionally waits for a gate, or fails on a word."""

    def __init__(self, gate: threading.Event | None = None, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate, self.fail_on = gate, fail_on

    def __call__(self, prompts, seconds, seeds, w_reg, w_cfg, cancelled=None):  # noqa: ANN001, ANN204
        if self.gate is not None:
            assert self.gate.wait(10)
        self.batches.append(list(prompts))
        if self.fail_on is not None and self.fail_on in prompts:
            raise ValueError(f"bad prompt {self.fail_on!r}")
        return [(p, s, seed, w_reg, w_cfg) for p, s, seed in zip(prompts, seconds, seeds)]


def _started(gen: Recorder, **kwargs) -> GenerationQueue:  # noqa: ANN003
    q = GenerationQueue(gen, **{"max_in_flight": 8, "max_batch_samples": 4, "batch_window_s": 0.05, **kwargs})
    q.start()
    return q


def test_compatible_jobs_share_a_batch_up_to_its_size() -> None:
    gate = threading.Event()
    gen = Recorder(gate)
    q = _started(gen, batch_window_s=0.0)
    first = q.submit("warm", 1.0, [0], None, 1.5)  # holds the worker at the gate
    while q.queued:
        time.sleep(0.005)
    jobs = [q.submit(f"p{i}", 1.0 + i, [10 * i, 10 * i + 1], None, 1.5) for i in range(3)]  # 6 samples
    other = q.submit("other", 2.0, [7], 5.0, 1.5)  # different guidance: its own batch
    gate.set()
    results = [j.future.result(10) for j in jobs]
    assert first.future.result(10) == [("warm", 1.0, 0, None, 1.5)]
    assert other.future.result(10) == [("other", 2.0, 7, 5.0, 1.5)]
    q.stop()
    assert results[1] == [("p1", 2.0, 10, None, 1.5), ("p1", 2.0, 11, None, 1.5)]
    assert gen.batches[0] == ["warm"]
    assert gen.batches[1] == ["p0", "p0", "p1", "p1"]  # 4 samples: the batch limit
    assert sorted(map(tuple, gen.batches[2:])) == sorted([("p2", "p2"), ("other",)])
    assert q.stats.jobs_done == 5 and q.stats.largest_batch == 4 and q.in_flight == 0


def test_in_flight_limit_and_recovery() -> None:
    gate = threading.Event()
    q = _started(Recorder(gate), max_in_flight=3)
    jobs = [q.submit("a", 1.0, [i], None, 1.5) for i in range(3)]
    with pytest.raises(QueueFull, match="limit is 3"):
        q.submit("b", 1.0, [9], None, 1.5)
    gate.set()
    concurrent.futures.wait([j.future for j in jobs], timeout=10)
    assert q.in_flight == 0
    assert q.submit("b", 1.0, [9], None, 1.5).future.result(10)[0][0] == "b"
    q.stop()


def test_a_failing_request_fails_alone() -> None:
    gate = threading.Event()
    gen = Recorder(gate, fail_on="bad")
    q = _started(gen, batch_window_s=0.0)
    hold = q.submit("hold", 1.0, [0], None, 1.5)
    while q.queued:
        time.sleep(0.005)
    good, bad, good2 = (q.submit(p, 1.0, [1], None, 1.5) for p in ("good", "bad", "good2"))
    gate.set()
    assert hold.future.result(10)
    assert good.future.result(10)[0][0] == "good" and good2.future.result(10)[0][0] == "good2"
    with pytest.raises(ValueError, match="bad prompt 'bad'"):
        bad.future.result(10)
    q.stop()
    assert ["good", "bad", "good2"] in gen.batches  # tried together first, then one by one
    assert q.stats.jobs_failed == 1 and q.stats.jobs_done == 3 and q.in_flight == 0


def test_cancelled_jobs_are_skipped() -> None:
    gate = threading.Event()
    gen = Recorder(gate)
    q = _started(gen, batch_window_s=0.0)
    q.submit("hold", 1.0, [0], None, 1.5)
    while q.queued:
        time.sleep(0.005)
    gone = q.submit("gone", 1.0, [1], None, 1.5)
    assert gone.future.cancel()  # its client disconnected
    kept = q.submit("kept", 1.0, [2], None, 1.5)
    gate.set()
    assert kept.future.result(10)[0][0] == "kept"
    q.stop()
    assert all("gone" not in b for b in gen.batches) and q.in_flight == 0


class Stepper:
    """A fake generate function of `steps` denoising steps that checks `cancelled()` after each, like
    the pipeline. After `pause_after` steps it signals `paused` and waits for `resume`, so a test
    can cancel jobs while a batch is known to be running."""

    def __init__(self, steps: int = 20, pause_after: int = 3) -> None:
        self.steps, self.pause_after = steps, pause_after
        self.paused, self.resume = threading.Event(), threading.Event()
        self.calls: list[list[str]] = []
        self.steps_run = 0

    def __call__(self, prompts, seconds, seeds, w_reg, w_cfg, cancelled=None):  # noqa: ANN001, ANN204
        self.calls.append(list(prompts))
        for k in range(self.steps):
            self.steps_run += 1
            if k + 1 == self.pause_after:
                self.paused.set()
                assert self.resume.wait(10), "the test never resumed the batch"
            if cancelled is not None and cancelled():
                raise JobsCancelled(f"cancelled after step {k + 1}")
        return [p for p in prompts]


def test_a_cancelled_queued_job_is_never_started_and_frees_its_slot_at_once() -> None:
    gate = threading.Event()
    gen = Recorder(gate)
    q = _started(gen, batch_window_s=0.0, max_in_flight=2)
    hold = q.submit("hold", 1.0, [0], None, 1.5)
    while q.queued:
        time.sleep(0.005)
    gone = q.submit("gone", 1.0, [1], None, 1.5)
    with pytest.raises(QueueFull):
        q.submit("third", 1.0, [2], None, 1.5)
    assert q.cancel(gone)  # its client disconnected
    assert q.in_flight == 1 and q.queued == 0 and gone.future.cancelled()  # at once, while the worker is busy
    kept = q.submit("kept", 1.0, [2], None, 1.5)  # the freed slot takes a new request
    gate.set()
    assert hold.future.result(10) and kept.future.result(10)[0][0] == "kept"
    q.stop()
    assert gen.batches == [["hold"], ["kept"]]  # "gone" never reached the generate function
    assert q.stats.jobs_cancelled == 1 and q.stats.jobs_done == 2 and q.in_flight == 0
    assert not q.cancel(kept)  # already answered: nothing to cancel


def test_a_running_batch_whose_jobs_are_all_cancelled_stops_at_the_next_step() -> None:
    gen = Stepper(steps=20, pause_after=3)
    q = GenerationQueue(gen, max_in_flight=8, max_batch_samples=4, batch_window_s=0.2)
    a = q.submit("a", 1.0, [0], None, 1.5)
    b = q.submit("b", 1.0, [1, 2], None, 1.5)
    q.start()  # both are queued before the worker looks: one batch
    assert gen.paused.wait(10)
    assert q.cancel(a) and q.cancel(b)
    assert q.in_flight == 2  # still the worker's until the batch stops
    gen.resume.set()
    deadline = time.monotonic() + 10
    while q.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    q.stop()
    assert gen.calls == [["a", "b", "b"]]
    assert gen.steps_run == 3 < gen.steps  # the check after step 3 stopped it: no step ran for nobody
    assert q.in_flight == 0 and q.stats.jobs_cancelled == 2 and q.stats.jobs_done == 0 and q.stats.jobs_failed == 0
    assert q.stats.batches == 0  # no batch was retried one job at a time either


def test_a_batch_with_a_live_job_finishes_for_it() -> None:
    gen = Stepper(steps=20, pause_after=3)
    q = GenerationQueue(gen, max_in_flight=8, max_batch_samples=4, batch_window_s=0.2)
    gone = q.submit("gone", 1.0, [0], None, 1.5)
    live = q.submit("live", 1.0, [1], None, 1.5)
    q.start()
    assert gen.paused.wait(10)
    assert q.cancel(gone)
    gen.resume.set()
    assert live.future.result(10) == ["live"]
    q.stop()
    assert gen.steps_run == 20 and gen.calls == [["gone", "live"]]
    assert gone.future.cancelled() and q.stats.jobs_cancelled == 1 and q.stats.jobs_done == 1 and q.in_flight == 0


def test_jobs_cancelled_while_a_batch_gathers_are_dropped_before_it_runs() -> None:
    gen = Stepper(steps=2, pause_after=0)
    q = GenerationQueue(gen, max_in_flight=8, max_batch_samples=4, batch_window_s=0.3)
    q.start()
    first = q.submit("first", 1.0, [0], None, 1.5)
    while q.queued:  # the worker took it and waits out the batch window
        time.sleep(0.005)
    assert q.cancel(first)
    second = q.submit("second", 1.0, [1], None, 1.5)
    assert second.future.result(10) == ["second"]
    q.stop()
    assert gen.calls == [["second"]] and q.stats.jobs_cancelled == 1 and q.in_flight == 0


def test_stop_fails_queued_jobs_and_refuses_new_ones() -> None:
    gate = threading.Event()
    q = _started(Recorder(gate), batch_window_s=0.0)
    running = q.submit("run", 1.0, [0], None, 1.5)
    while q.queued:
        time.sleep(0.005)
    waiting = q.submit("wait", 1.0, [1], 2.0, 1.5)
    threading.Timer(0.1, gate.set).start()
    q.stop()
    assert running.future.result(1)  # the running batch finishes
    with pytest.raises(QueueClosed):
        waiting.future.result(1)
    with pytest.raises(QueueClosed):
        q.submit("late", 1.0, [2], None, 1.5)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_samples .* cannot exceed max_batch_samples"):
        ServerLimits(max_samples=8, max_batch_samples=4)
    with pytest.raises(ValueError, match="max_in_flight must be a positive whole number"):
        ServerLimits(max_in_flight=0)
    with pytest.raises(ValueError, match="max_seconds must be a number above min_seconds"):
        ServerLimits(max_seconds=0.2)
    for bad in (0, -1.0, float("inf"), True):
        with pytest.raises(ValueError, match="body_timeout_s must be a finite number of seconds above 0"):
            ServerLimits(body_timeout_s=bad)
    assert ServerLimits(max_seconds=20).effective_max_seconds(9.8) == 9.8
    assert ServerLimits(max_seconds=3).effective_max_seconds(9.8) == 3
    # Batching pays on an accelerator, and on a CPU too (benchmarks/server_load.py, docs/performance.md).
    assert ServerLimits(max_samples=4).batch_samples_for("cuda") == 16
    assert ServerLimits(max_samples=4).batch_samples_for("cpu") == 8
    assert ServerLimits(max_samples=12).batch_samples_for("cpu") == 12
    assert ServerLimits(max_samples=4, max_batch_samples=8).batch_samples_for("cpu") == 8
    q = GenerationQueue(Recorder(), max_in_flight=2, max_batch_samples=2)
    with pytest.raises(ValueError, match="1..2 seeds"):
        q.submit("a", 1.0, [1, 2, 3], None, 1.5)
