"""Editing in the web app (issue 22): upload a motion, then in-between it, continue it, or
re-generate a body part, and get the edits beside the original.

    POST /api/sources  {bvh | npy | id, name, joint_map, fps, start, stop}
                       -> the motion as the model sees it (joints per frame), kept under an id
    POST /api/edit     {prompt, mode, source, keep_first / keep_last / keep_frames | seconds | parts,
                        seed, num_samples, w_reg, w_cfg}
                       -> generation's answer (the edits) plus the source's joints and what was kept

A source is read as `ramotion edit` reads a file (`mocap.loading.read_edit_source`: BVH text
through a skeleton preset, resampled to the model's rate; a .npy of joints or features, read
with the checked loader, never unpickled) and becomes features by HumanML3D's extraction
(`RAMPipeline.source_features`). Bodies that carry a file may be up to
`ServerLimits.max_upload_bytes`; reading one runs on a worker thread, a few at a time. An edit
runs through the same queue as generation (queue.py: `max_in_flight`, 429 when full, one
worker thread), is cancelled when its client leaves, and fails with a one-line 4xx that names
the problem: a file that cannot be read, a motion of the wrong shape or longer than the model
makes, NaN values, a mask that keeps everything or nothing, fields of another mode.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from .jobs import await_job, client_closed, sample_json
from .limits import APIError, ServerLimits, check_request
from .queue import GenerationQueue, JobsCancelled, QueueClosed, QueueFull
from .schemas import EditRequest, EditResponse, EditSource, SourceResponse
from .store import SampleStore

log = logging.getLogger(__name__)

SOURCE_PATHS = ("/api/sources", "/api/edit")  # request bodies up to ServerLimits.max_upload_bytes
MAX_READING = 2  # source files read at once (CPU work outside the queue); more are answered 429
DEFAULT_KEEP_SECONDS = 1.0  # inbetween without keep_first / keep_last / keep_frames
MODE_FIELDS = {  # the optional fields each mode takes (others must be left out)
    "inbetween": ("keep_first", "keep_last", "keep_frames", "seconds"),
    "continue": ("seconds",),
    "body-part": ("parts",),
}


def register_edit_routes(
    app: FastAPI,
    pipeline: Any,
    queue: GenerationQueue,
    store: SampleStore,
    limits: ServerLimits,
    skeleton_info: dict[str, Any],
    error_responses: dict[int | str, dict[str, Any]],
) -> None:
    """Add /api/sources and /api/edit to `app` (called by `create_app`, which owns the queue and store)."""
    from ..editing import DEFAULT_CONTINUE_SECONDS
    from ..outputs import Motion
    from ..pipeline import GenerationCancelled

    fps = float(pipeline.skeleton.fps)
    max_frames = int(pipeline.config.max_frames)
    model_max_seconds = max_frames / fps
    reading = 0  # source files being read now (changed on the event loop only)

    def read_source(src: EditSource) -> tuple[Any, str, str]:
        """(a stored Motion of the source's features, its id, its name); on a worker thread."""
        given = [k for k in ("id", "bvh", "npy") if getattr(src, k) is not None]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise APIError(422, "bad_source", f"source: give exactly one of id (a sample from this server), bvh (a BVH file's text) or npy (a base64 .npy file), got {what}", field="source")
        kind = given[0]
        if src.joint_map is not None and kind != "bvh":
            raise APIError(422, "bad_source", "source.joint_map is for BVH files", field="source.joint_map")
        if src.fps is not None and kind != "npy":
            raise APIError(422, "bad_source", "source.fps is the frame rate of .npy joints; a BVH carries its own, a stored sample is at the model's", field="source.fps")
        if src.fps is not None and not (math.isfinite(src.fps) and 1 <= src.fps <= 1000):
            raise APIError(422, "bad_source", f"source.fps must be between 1 and 1000, got {src.fps:g}", field="source.fps")
        for name in ("start", "stop"):
            value = getattr(src, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise APIError(422, "bad_source", f"source.{name} must be a number of seconds >= 0, got {value:g}", field=f"source.{name}")
        if src.start is not None and src.stop is not None and src.stop <= src.start:
            raise APIError(422, "bad_source", f"source.stop ({src.stop:g} s) must be after source.start ({src.start:g} s)", field="source.stop")

        if kind == "id":
            try:
                stored = store.get(src.id)
            except KeyError:
                raise APIError(404, "unknown_sample", "source.id: no such sample: it was never made here, or it is old and was dropped (upload or generate it again)", field="source.id") from None
            motion, name = stored.motion, src.name or stored.motion.prompt  # an upload's prompt is its file name
            if motion.cleanup is None and src.start is None and src.stop is None:
                return motion, src.id, name  # already what an edit reads: features, uncleaned joints
            arr = np.asarray(motion.features)
        else:
            name = _file_name(src.name, kind)
            if kind == "bvh":
                data: bytes | str = src.bvh
            else:
                try:
                    data = base64.b64decode(src.npy, validate=True)
                except (binascii.Error, ValueError):
                    raise APIError(422, "bad_source", f"source.npy ({name}) is not base64: send the .npy file's bytes base64-encoded", field="source.npy") from None
            from ..mocap.presets import PRESETS
            from ..mocap.loading import read_edit_source

            try:
                arr = read_edit_source(name, fps, data=data, joint_map=PRESETS.get(src.joint_map), source_fps=src.fps, max_seconds=limits.max_upload_seconds)
            except ValueError as exc:
                raise APIError(422, "bad_source", _one_line(exc), field=f"source.{kind}") from None
            except Exception as exc:  # a reader's bug, not the file's fault: say so, not a bare 500
                log.exception("reading %s failed", name)
                raise APIError(500, "source_failed", f"reading {name} failed: {type(exc).__name__}: {_one_line(exc)}") from None
        frames = 0  # of features; other shapes are refused by source_features below
        if arr.ndim in (2, 3):
            arr = _cut(arr, src.start, src.stop, fps, name)
            frames = len(arr) - (1 if arr.ndim == 3 else 0)  # joints lose one frame to feature extraction
        try:
            feats = pipeline.source_features(arr, name)
        except ValueError as exc:
            if frames > max_frames:
                raise APIError(
                    422, "source_too_long",
                    f"{name} is {frames / fps:.1f} s long ({frames} frames at {fps:g} fps); this model edits at most {model_max_seconds:g} s "
                    f"({max_frames} frames): cut it with source.start / source.stop", field="source",
                ) from None  # fmt: skip
            raise APIError(422, "bad_source", _one_line(exc), field="source") from None
        motion = Motion(name, np.asarray(feats, dtype=np.float32), 0, pipeline.skeleton, None)  # downloads: walk_npy_seed0.bvh
        motion.joints  # noqa: B018 - recover joints here, on the worker thread
        return motion, store.add(motion), name

    async def read_source_async(src: EditSource) -> tuple[Any, str, str]:
        nonlocal reading
        if reading >= MAX_READING:
            raise APIError(429, "server_busy", f"the server is reading {reading} other motion files: try again in a moment", headers={"Retry-After": "1"})
        reading += 1
        try:
            return await run_in_threadpool(read_source, src)
        finally:
            reading -= 1

    @app.post("/api/sources", tags=["api"], response_model=SourceResponse, responses={**error_responses, 404: {"description": "source.id names no stored sample"}})
    async def sources_endpoint(body: EditSource) -> Response:
        """Read a motion to edit (a BVH's text, a base64 .npy, or a stored sample cut with start /
        stop) and keep it: returns its joints as the model sees them and an id for /api/edit."""
        motion, sample_id, name = await read_source_async(body)

        def payload() -> bytes:
            source = {**sample_json(motion, sample_id), "name": name}
            return json.dumps({"fps": fps, "skeleton": skeleton_info, "source": source}, separators=(",", ":")).encode()

        return Response(await run_in_threadpool(payload), media_type="application/json")

    @app.post("/api/edit", tags=["api"], response_model=EditResponse, responses={**error_responses, 404: {"description": "source.id names no stored sample"}})
    async def edit_endpoint(body: EditRequest, request: Request) -> Response:
        """Edit a motion: `num_samples` edits of `source` following `prompt` (edit i uses seed+i).

        inbetween keeps the source's first keep_first and last keep_last seconds (default 1 and 1)
        or the keep_frames ranges and generates the rest; continue adds `seconds` (default 2)
        after the source; body-part re-generates `parts` (default upper_body) and keeps the rest.
        Queued, limited and cancelled like /api/generate (499 when the client leaves first).
        """
        prompt = check_request(body.prompt, None, body.num_samples, body.seed, body.w_reg, body.w_cfg, limits, model_max_seconds)  # no length: edits check theirs in _plan
        _check_mode_fields(body)
        if queue.in_flight >= queue.max_in_flight:  # full already: say so before reading a file (submit has the last word)
            raise APIError(429, "server_busy", f"the server is busy ({queue.in_flight} requests are already queued or running): try again in a moment", headers={"Retry-After": "1"})
        motion, source_id, name = await read_source_async(body.source)
        n_src = motion.num_frames
        kept, call = _plan(body, n_src, fps, max_frames, DEFAULT_CONTINUE_SECONDS)
        base = body.seed if body.seed is not None else secrets.randbelow(2**31 - 1 - limits.max_samples)
        seeds = [base + i for i in range(body.num_samples)]
        feats = motion.features

        def task(cancelled: Callable[[], bool] | None = None) -> list[Any]:
            """The queue runs this on its worker thread: one pipeline call for every edit."""
            method = {"inbetween": pipeline.inbetween, "continue": pipeline.continue_motion, "body-part": pipeline.edit_body_part}[body.mode]
            try:
                motions = method([prompt] * len(seeds), feats, seed=seeds, steps=limits.steps, w_reg=body.w_reg, w_cfg=body.w_cfg, cancelled=cancelled, **call)
            except GenerationCancelled as exc:
                raise JobsCancelled(str(exc)) from None
            for m in motions:
                m.joints  # noqa: B018 - on the worker thread, not the event loop
            return list(motions)

        if await request.is_disconnected():
            raise client_closed()
        try:
            job = queue.submit(prompt, n_src / fps, seeds, body.w_reg, body.w_cfg, task=task)
        except QueueFull as exc:
            raise APIError(429, "server_busy", f"the server is busy ({exc}): try again in a moment", headers={"Retry-After": "1"}) from None
        except QueueClosed as exc:
            raise APIError(503, "shutting_down", str(exc)) from None
        motions = await await_job(queue, job, request, what="edit", invalid_code="invalid_edit")
        timing = {"queued_s": round(job.started_at - job.enqueued_at, 4), "generate_s": round(time.perf_counter() - job.started_at, 4)}

        def payload() -> bytes:
            samples = [{**sample_json(m, store.add(m)), "seed": int(m.seed)} for m in motions]
            out = {
                "prompt": prompt, "seconds": motions[0].num_frames / fps, "fps": fps, "skeleton": skeleton_info, "samples": samples, "timing": timing,
                "mode": body.mode, "source": {**sample_json(motion, source_id), "name": name}, "kept_frames": kept, "parts": call.get("part", []),
                "edited_joints": _edited_joints(call.get("part", []), pipeline.skeleton),
            }  # fmt: skip
            return json.dumps(out, separators=(",", ":")).encode()

        return Response(await run_in_threadpool(payload), media_type="application/json")


def _check_mode_fields(body: EditRequest) -> None:
    """422 for a field the request's mode does not take, or for keep_frames with keep_first /
    keep_last / seconds (kept frames stay in place: the result has the source's length)."""
    allowed = MODE_FIELDS[body.mode]
    for name in ("keep_first", "keep_last", "keep_frames", "seconds", "parts"):
        if getattr(body, name) is not None and name not in allowed:
            raise APIError(422, "field_not_for_mode", f"{name} does not go with mode {body.mode!r} (it takes {', '.join(allowed)})", field=name)
    if body.keep_frames is not None:
        for name in ("keep_first", "keep_last", "seconds"):
            if getattr(body, name) is not None:
                raise APIError(422, "field_not_for_mode", f"keep_frames keeps source frames in place: leave out {name}", field=name)
    for name in ("keep_first", "keep_last", "seconds"):
        value = getattr(body, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise APIError(422, "invalid_value", f"{name} must be a number of seconds >= 0, got {value:g}", field=name)


def _plan(body: EditRequest, n_src: int, fps: float, max_frames: int, default_continue_s: float) -> tuple[list[list[int]], dict[str, Any]]:
    """(the frames of each edit kept whole from the source, as [start, stop) ranges; the edit
    method's mode-specific arguments), with the checks that need the source's length: 422 for
    a mask that keeps everything or nothing, ranges outside the source, a result too long."""
    frames = lambda s: int(round(s * fps))  # noqa: E731 - as the pipeline rounds seconds
    if body.mode == "continue":
        seconds = default_continue_s if body.seconds is None else body.seconds
        new = frames(seconds)
        if new < 1:
            raise APIError(422, "keeps_everything", f"seconds {seconds:g} adds no frame: continue for at least {1 / fps:g} s", field="seconds")
        if n_src + new > max_frames:
            room = max_frames - n_src
            hint = f"continue for at most {room / fps:g} s or cut the source" if room > 0 else "cut the source first (source.stop)"
            raise APIError(422, "too_long", f"the source's {n_src} frames and {new} new ones make {n_src + new}; this model makes at most {max_frames} ({max_frames / fps:g} s): {hint}", field="seconds")
        return [[0, n_src]], {"seconds": seconds}
    if body.mode == "body-part":
        parts = list(dict.fromkeys(["upper_body"] if body.parts is None else body.parts))
        if not parts:
            raise APIError(422, "keeps_everything", "parts is empty: name the body parts to re-generate", field="parts")
        return [], {"part": parts}
    if body.keep_frames is not None:
        if not body.keep_frames:
            raise APIError(422, "keeps_nothing", "keep_frames is empty: the mask keeps nothing of the source (that is plain generation: use /api/generate)", field="keep_frames")
        keep = np.zeros(n_src, dtype=bool)
        for start, stop in body.keep_frames:
            if not 0 <= start < stop <= n_src:
                raise APIError(422, "bad_keep_frames", f"keep_frames range [{start}, {stop}) must satisfy 0 <= start < stop <= {n_src} (the source's frame count)", field="keep_frames")
            keep[start:stop] = True
        if keep.all():
            raise APIError(422, "keeps_everything", f"keep_frames keeps all {n_src} frames of the source: nothing is left to generate", field="keep_frames")
        return _ranges(keep), {"keep_frames": [tuple(r) for r in body.keep_frames]}
    first_s = DEFAULT_KEEP_SECONDS if body.keep_first is None else body.keep_first
    last_s = DEFAULT_KEEP_SECONDS if body.keep_last is None else body.keep_last
    first, last = frames(first_s), frames(last_s)
    total = n_src if body.seconds is None else frames(body.seconds)
    if body.seconds is not None and not 2 <= total <= max_frames:
        raise APIError(422, "seconds_out_of_range", f"seconds (the result's length) must be between {2 / fps:g} and {max_frames / fps:g}, got {body.seconds:g}", field="seconds")
    if first + last == 0:
        raise APIError(422, "keeps_nothing", "keep_first and keep_last keep no frame: the mask keeps nothing of the source (that is plain generation: use /api/generate)", field="keep_first")
    if first + last > n_src:
        raise APIError(422, "keeps_everything", f"keep_first ({first} frames) and keep_last ({last} frames) overlap: the source has {n_src} frames", field="keep_first")
    if first + last >= total:
        raise APIError(422, "keeps_everything", f"the kept {first} + {last} frames fill the {total}-frame result: nothing is left to generate (keep less, or make the result longer with seconds)", field="keep_first")
    call: dict[str, Any] = {"keep_first": first_s, "keep_last": last_s}
    if body.seconds is not None:
        call["seconds"] = body.seconds
    return [r for r in ([0, first], [total - last, total]) if r[1] > r[0]], call


def edit_info() -> dict[str, Any]:
    """What the page needs to build its edit controls (GET /api/info's "edit")."""
    from ..editing import DEFAULT_CONTINUE_SECONDS
    from ..mocap.presets import PRESETS
    from ..motion.parts import BODY_PARTS

    return {
        "modes": list(MODE_FIELDS), "body_parts": list(BODY_PARTS), "joint_maps": list(PRESETS),
        "default_keep_seconds": DEFAULT_KEEP_SECONDS, "default_continue_seconds": DEFAULT_CONTINUE_SECONDS,
    }  # fmt: skip


def _edited_joints(parts: list[str], skeleton: Any) -> list[int]:
    """The joints that re-generating `parts` moves on their own ("root": the pelvis)."""
    from ..motion.parts import part_joints

    out = {j for part in parts for j in part_joints(part, skeleton)} | ({0} if "root" in parts else set())
    return sorted(out)


def _ranges(mask: np.ndarray) -> list[list[int]]:
    """(T,) bool -> its runs of True as [start, stop) ranges."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]


def _cut(arr: np.ndarray, start: float | None, stop: float | None, fps: float, name: str) -> np.ndarray:
    """The frames of `arr` (at `fps`) between `start` and `stop` seconds; 422 if fewer than 2 remain."""
    if start is None and stop is None:
        return arr
    a = 0 if start is None else int(round(start * fps))
    b = len(arr) if stop is None else min(len(arr), int(round(stop * fps)))
    if b - a < 2:
        raise APIError(422, "bad_source", f"source.start / source.stop leave {max(b - a, 0)} frames of {name} ({len(arr) / fps:.2f} s long); at least 2 are needed", field="source.start")
    return arr[a:b]


def _file_name(name: str | None, kind: str) -> str:
    """The name an upload is known by: its own, with the extension of what it was sent as."""
    base = Path(name or "").name.strip() or "upload"
    return base if base.lower().endswith(f".{kind}") else f"{base}.{kind}"


def _one_line(exc: BaseException) -> str:
    """An error's message on one line (parsers may quote a file's line breaks)."""
    return " ".join(str(exc).split())
