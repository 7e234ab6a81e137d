"""A bounded request queue whose worker thread batches generations.

The web server's event loop only enqueues a job and awaits its future; one worker thread
runs the model. Requests that arrive close together and share guidance weights (w_reg,
w_cfg) go into one pipeline call, up to `max_batch_samples` samples: the pipeline pads a
batch to its longest length and each motion depends only on its own prompt, length and
seed, so batching changes throughput, never results (ServerLimits.batch_samples_for
picks the batch size: 16 on a GPU, where a batch costs about one sample, 8 on a CPU, where
batches of 8 served 2.6-3.3 times the requests per second of one by one). At most
`max_in_flight` requests are queued or running at once; the next one is refused at once
(HTTP 429) rather than left to wait without bound.

A request whose client went away is cancelled (`cancel`): a queued job leaves the queue at
once and never runs; a running batch gets a `cancelled()` check that turns true when every
one of its jobs is cancelled, and the generate function stops at its next step by raising
JobsCancelled. A batch that still has a live job runs to the end for that job.

A job can also carry its own `task` (an edit, server/edit.py): it shares the queue, its
`max_in_flight` bound and cancellation with generations, but is never batched: the worker
calls `task(cancelled=check)` instead of the generate function.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# generate(prompts, seconds, seeds, w_reg, w_cfg, cancelled=check) -> one result per prompt, in
# order; it should call check() between steps and raise JobsCancelled when it returns True.
GenerateFn = Callable[..., Sequence[Any]]
# task(cancelled=check) -> len(seeds) results; the same contract as GenerateFn otherwise.
TaskFn = Callable[..., Sequence[Any]]


class QueueFull(RuntimeError):
    """Raised by `submit` when `max_in_flight` requests are already queued or running."""


class QueueClosed(RuntimeError):
    """Raised by `submit` after `stop`."""


class JobsCancelled(RuntimeError):
    """Raised by a generate function when its `cancelled()` check said every job of the batch is cancelled."""


@dataclass(eq=False)  # jobs compare by identity: two equal requests are still two jobs
class Job:
    """One request: `num_samples` = len(seeds) samples of one prompt; resolves to their results."""

    prompt: str
    seconds: float | None  # None: the generate function chooses (the length predictor's)
    seeds: list[int]
    w_reg: float | None
    w_cfg: float | None
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    enqueued_at: float = field(default_factory=time.perf_counter)
    started_at: float | None = None
    task: TaskFn | None = None  # run alone instead of the queue's generate function

    @property
    def cancelled(self) -> bool:
        """Whether its client went away (see GenerationQueue.cancel)."""
        return self.future.cancelled()

    @property
    def key(self) -> tuple[Any, ...]:
        """Jobs with equal keys can share one pipeline call (a job with a task shares with none)."""
        return ("task", id(self)) if self.task is not None else (self.w_reg, self.w_cfg)


@dataclass
class QueueStats:
    """Counters for /api/health."""

    batches: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    jobs_cancelled: int = 0
    samples_done: int = 0
    largest_batch: int = 0


class GenerationQueue:
    """FIFO of jobs served by one worker thread that batches compatible jobs."""

    def __init__(self, generate: GenerateFn, *, max_in_flight: int, max_batch_samples: int, batch_window_s: float = 0.02) -> None:
        if max_in_flight < 1 or max_batch_samples < 1:
            raise ValueError("max_in_flight and max_batch_samples must be positive")
        self._generate = generate
        self.max_in_flight = max_in_flight
        self.max_batch_samples = max_batch_samples
        self.batch_window_s = batch_window_s
        self.stats = QueueStats()
        self._pending: collections.deque[Job] = collections.deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._warmup: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, warmup: Callable[[], None] | None = None) -> None:
        """Start the worker thread; `warmup` (e.g. loading the text model) runs on it first."""
        if self._thread is not None:
            return
        self._warmup = warmup
        self._thread = threading.Thread(target=self._run, name="ramotion-generate", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Refuse new jobs, fail the queued ones, and wait for the running batch to finish."""
        with self._cond:
            self._closed = True
            dropped = list(self._pending)
            self._pending.clear()
            self._in_flight -= len(dropped)
            self._cond.notify_all()
        for job in dropped:
            job.future.set_exception(QueueClosed("the server is shutting down"))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # ------------------------------------------------------------------ submitting

    @property
    def in_flight(self) -> int:
        """Requests queued or running now."""
        return self._in_flight

    @property
    def queued(self) -> int:
        """Requests waiting for the worker."""
        return len(self._pending)

    def submit(self, prompt: str, seconds: float | None, seeds: list[int], w_reg: float | None, w_cfg: float | None, *, task: TaskFn | None = None) -> Job:
        """Enqueue one request; its `future` resolves to a list of len(seeds) results.

        task: run `task(cancelled=check)` for this job alone instead of the generate function
        (prompt, seconds and weights are then only what /api/health and logs see). Raises
        QueueFull when `max_in_flight` requests are already queued or running.
        """
        if not seeds or len(seeds) > self.max_batch_samples:
            raise ValueError(f"a job needs 1..{self.max_batch_samples} seeds, got {len(seeds)}")
        job = Job(prompt, seconds, list(seeds), w_reg, w_cfg, task=task)
        with self._cond:
            if self._closed:
                raise QueueClosed("the server is shutting down")
            if self._in_flight >= self.max_in_flight:
                raise QueueFull(f"{self._in_flight} requests are already queued or running (the limit is {self.max_in_flight})")
            self._in_flight += 1
            self._pending.append(job)
            self._cond.notify()
        return job

    def cancel(self, job: Job) -> bool:
        """Cancel `job` because nobody waits for it any more; False if it had already finished.

        A queued job leaves the queue now (it never runs, and frees its `max_in_flight` slot at
        once). A job already taken by the worker stays counted until its batch ends; the batch
        stops at its next denoising step if all of its jobs are cancelled.
        """
        with self._cond:
            if not job.future.cancel():
                return False
            for i, pending in enumerate(self._pending):
                if pending is job:
                    del self._pending[i]
                    self._in_flight -= 1
                    self.stats.jobs_cancelled += 1
                    self._cond.notify_all()
                    break
        return True

    # ------------------------------------------------------------------ worker

    def _take_batch(self) -> list[Job] | None:
        """Block for the oldest job, then gather compatible ones (waiting up to the batch window)."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            first = self._pending.popleft()
            if first.cancelled:  # its future was cancelled without `cancel` (which removes it at once)
                self._in_flight -= 1
                self.stats.jobs_cancelled += 1
                return []
            batch, samples = [first], len(first.seeds)
            deadline = time.perf_counter() + self.batch_window_s
            while samples < self.max_batch_samples:
                for job in list(self._pending):
                    if job.cancelled:
                        self._pending.remove(job)
                        self._in_flight -= 1
                        self.stats.jobs_cancelled += 1
                    elif job.key == first.key and samples + len(job.seeds) <= self.max_batch_samples:
                        self._pending.remove(job)
                        batch.append(job)
                        samples += len(job.seeds)
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or self._closed:
                    break
                self._cond.wait(remaining)
            return batch

    def _run(self) -> None:
        if self._warmup is not None:
            try:
                self._warmup()
            except Exception:  # the first request will report the same error to its client
                log.exception("warm-up failed")
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if batch:
                self._serve(batch)

    def _serve(self, batch: list[Job]) -> None:
        """Run one batch; if it fails, run its jobs one by one so a bad request fails alone.

        Jobs cancelled while the batch was gathered are dropped before it starts; a batch whose
        jobs are all cancelled while it runs ends with JobsCancelled, and none is retried.
        """
        for job in [job for job in batch if job.cancelled]:
            self._finish(job)
        batch = [job for job in batch if not job.cancelled]
        if not batch:
            return
        now = time.perf_counter()
        for job in batch:
            job.started_at = now
        try:
            self._run_jobs(batch)
        except JobsCancelled as exc:
            for job in batch:
                self._finish(job, error=exc)  # counted as cancelled; a live job (a generator bug) gets the error
        except Exception as exc:
            if len(batch) == 1:
                self._finish(batch[0], error=exc)
            else:
                for job in batch:
                    if job.cancelled:
                        self._finish(job)
                        continue
                    try:
                        self._run_jobs([job])
                    except Exception as exc_one:
                        self._finish(job, error=exc_one)

    def _run_jobs(self, jobs: list[Job]) -> None:
        """One generate call for `jobs`; resolves each job's future with its share of the results."""
        prompts = [job.prompt for job in jobs for _ in job.seeds]
        seconds = [job.seconds for job in jobs for _ in job.seeds]
        seeds = [s for job in jobs for s in job.seeds]

        def all_cancelled() -> bool:
            return all(job.cancelled for job in jobs)

        if jobs[0].task is not None:  # never batched: `key` is unique
            results = list(jobs[0].task(cancelled=all_cancelled))
        else:
            results = list(self._generate(prompts, seconds, seeds, jobs[0].w_reg, jobs[0].w_cfg, cancelled=all_cancelled))
        if len(results) != len(prompts):
            raise RuntimeError(f"the generator returned {len(results)} results for {len(prompts)} prompts")
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(prompts))
        start = 0
        for job in jobs:
            self._finish(job, result=results[start : start + len(job.seeds)])
            start += len(job.seeds)

    def _finish(self, job: Job, *, result: Any = None, error: BaseException | None = None) -> None:
        """Release a job the worker took: resolve its future, unless its client cancelled it."""
        with self._cond:
            self._in_flight -= 1
            if job.cancelled:
                self.stats.jobs_cancelled += 1
                return
            if error is None:
                self.stats.jobs_done += 1
                self.stats.samples_done += len(job.seeds)
            else:
                self.stats.jobs_failed += 1
        try:
            if error is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(error)
        except concurrent.futures.InvalidStateError:  # cancelled by a client that went away
            pass
