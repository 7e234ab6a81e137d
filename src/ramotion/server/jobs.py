"""What /api/generate and /api/edit share: waiting for a queued job while watching its client,
and the JSON of one motion.

A client that goes away while its job waits or runs cancels it (`await_job`): uvicorn reports
the closed socket as an `http.disconnect`, and the request then ends with status 499
(CLIENT_CLOSED, nginx's "client closed request").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from fastapi import Request

from .limits import APIError
from .queue import GenerationQueue, Job, QueueClosed
from .store import DOWNLOAD_FORMATS

log = logging.getLogger("ramotion.server")

CLIENT_CLOSED = 499
DISCONNECT_POLL_S = 0.1
JOINT_DECIMALS = 4  # 0.1 mm: plenty for display, and keeps the JSON small


def sample_json(motion: Any, sample_id: str) -> dict[str, Any]:
    """A stored motion's joints, rounded (T, J, 3) lists, and its download links."""
    joints = np.round(np.asarray(motion.joints, dtype=np.float64), JOINT_DECIMALS)  # (T, J, 3)
    return {"id": sample_id, "num_frames": int(joints.shape[0]), "joints": joints.tolist(), "downloads": {f: f"/api/samples/{sample_id}/{f}" for f in DOWNLOAD_FORMATS}}


def client_closed() -> APIError:
    """How a request ends when its client has gone (see CLIENT_CLOSED)."""
    return APIError(CLIENT_CLOSED, "client_closed_request", "the client closed the connection before its answer was ready; its generation was cancelled")


async def await_job(queue: GenerationQueue, job: Job, request: Request, *, what: str, invalid_code: str) -> list[Any]:
    """The motions of `job`, or the API's error: 499 if the client left first (the job is
    cancelled: never started if still queued, its batch stopped at the next step if nobody else
    waits for it), 503 when the server shuts down, 422 `invalid_code` for a ValueError of the
    pipeline's own checks, 500 otherwise. what: "generation" or "edit", for logs and messages."""
    result = asyncio.wrap_future(job.future)
    watcher = asyncio.ensure_future(_until_disconnected(request))
    try:
        await asyncio.wait({result, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this handler itself is cancelled (server shutdown, another ASGI server)
        watcher.cancel()
        if not result.done():
            queue.cancel(job)
            result.add_done_callback(_ignore_outcome)  # a job that finished meanwhile: nobody reads it
    if not result.done() or result.cancelled():
        log.info("client left before its answer: %s of %r cancelled", what, job.prompt[:60])
        raise client_closed()
    try:
        return result.result()
    except QueueClosed as exc:
        raise APIError(503, "shutting_down", str(exc)) from None
    except ValueError as exc:  # the pipeline's own checks, e.g. a prompt over the text model's token limit
        raise APIError(422, invalid_code, " ".join(str(exc).split())) from None
    except Exception as exc:
        log.exception("%s failed", what)
        raise APIError(500, f"{what}_failed", f"the {what} failed: {type(exc).__name__}: {exc}") from None


def _ignore_outcome(future: asyncio.Future) -> None:
    """Mark an abandoned future's exception as retrieved (no 'exception never retrieved' log)."""
    if not future.cancelled():
        future.exception()


async def _until_disconnected(request: Request) -> None:
    """Return once the client of `request` has gone away (its body must already have been read).

    After the body, an ASGI server's receive() blocks until the client disconnects (uvicorn
    notices a closed socket at once) or the response is complete; other messages are not
    expected there, and are waited out rather than spun on.
    """
    while True:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            return
        await asyncio.sleep(DISCONNECT_POLL_S)
