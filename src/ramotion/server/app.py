"""The web app: a JSON API over a RAMPipeline, and the page that shows its motions in 3D.

    app = create_app(RAMPipeline.from_pretrained("runs/h3d"), ServerLimits(max_samples=4))
    uvicorn.run(app, host="127.0.0.1", port=7860)        # or: ramotion serve --model runs/h3d

Endpoints (OpenAPI schema at /openapi.json):

    GET  /                               the page (static/index.html)
    GET  /api/health                     liveness and queue depth
    GET  /api/info                       model, limits, example prompts, viewer status
    POST /api/generate                   {prompt, seconds, seed, num_samples, w_reg, w_cfg} (no seconds: predicted)
                                         -> joints per frame, fps, skeleton parents, download links
    GET  /api/samples/{id}/{bvh|npy|mp4} one generated sample as a file
    POST /api/sources                    {bvh | npy | id, ...} -> a motion to edit, read and kept (edit.py)
    POST /api/edit                       {prompt, mode, source, ...} -> edits beside their source (edit.py)
    GET  /vendor/three/...               three.js from its npm package (see vendor.py)

Generation runs on one worker thread (queue.py); the event loop only validates, enqueues
and awaits, so the page and /api/health stay responsive during a slow generation. A client
that goes away while its generation waits or runs cancels it (`jobs.await_job`): uvicorn
does not cancel a handler when its client disconnects, so the handler watches for it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .edit import SOURCE_PATHS, edit_info, register_edit_routes
from .jobs import await_job, client_closed, sample_json
from .limits import APIError, ServerLimits, check_request
from .queue import GenerateFn, GenerationQueue, JobsCancelled, QueueClosed, QueueFull
from .schemas import EditRequest, EditSource, ErrorResponse, GenerateRequest, GenerateResponse
from .store import DOWNLOAD_FORMATS, MEDIA_TYPES, SampleStore
from .vendor import THREE_MISSING_HINT, find_three, three_version

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Prompts in the style of HumanML3D's captions, which a model trained on it handles well.
# A model folder can name its own in config.json's extra entry "example_prompts".
DEFAULT_EXAMPLES = (
    "a person walks forward",
    "a person jumps forward",
    "a person waves with the right hand",
    "a person walks in a circle",
    "a person sits down and stands back up",
    "a person kicks with the left leg",
    "a person runs forward then stops",
    "a person squats down",
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# HTTP 499 (nginx's "client closed request"): how a request whose client left before its answer
# ends. Nobody receives it (uvicorn drops what is sent on a closed connection), but nothing on the
# way (middleware, test clients, ASGI servers that log it) records the request as a success.
DEFAULT_SECONDS = 4.0  # a request without seconds, when the model has no length predictor
# Each POST's body model, for validation messages (unknown fields list the right model's fields).
REQUEST_MODELS: dict[str, type[BaseModel]] = {"/api/generate": GenerateRequest, "/api/edit": EditRequest, "/api/sources": EditSource}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": what}
    for status, what in {
        400: "malformed JSON",
        408: "the request body did not arrive within the server's body_timeout_s",
        413: "prompt or body too long",
        422: "a value outside the server's limits or of the wrong JSON type, a missing or unknown field",
        429: "too many requests in flight; retry after the Retry-After seconds",
        503: "the server is shutting down",
    }.items()
}


def create_app(
    pipeline: Any,
    limits: ServerLimits | None = None,
    *,
    allowed_hosts: Sequence[str] | None = None,
    example_prompts: Sequence[str] | None = None,
    warmup: bool = True,
) -> FastAPI:
    """Build the app around a loaded pipeline (a RAMPipeline, or anything with its call signature,
    `.skeleton` and `.config.max_frames`).

    allowed_hosts: Host header names to accept (e.g. LOOPBACK_HOSTS, which stops DNS-rebinding
    pages from reaching a loopback server); None accepts any. warmup: load the text model on
    the worker thread at start-up instead of on the first request.
    """
    limits = limits or ServerLimits()
    model = _model_facts(pipeline)
    examples = _example_prompts(pipeline, example_prompts)
    sampler_defaults = pipeline.default_sampler()
    three_dir = find_three()
    queue, store = _queue_and_store(pipeline, limits, model)

    app = _new_app(_lifespan(pipeline, queue, store, warmup))
    app.state.queue, app.state.store, app.state.limits, app.state.pipeline = queue, store, limits, pipeline
    _add_request_guard(app, limits, allowed_hosts)
    _register_error_handlers(app)
    _register_health_route(app, queue, store, limits)
    _register_info_route(app, pipeline, limits, model, examples, sampler_defaults, three_dir)
    _register_generate_route(app, queue, store, limits, model)
    _register_download_route(app, store)
    register_edit_routes(app, pipeline, queue, store, limits, model.skeleton, ERROR_RESPONSES)
    _register_page_and_three_js(app, three_dir)
    return app


# ---------------------------------------------------------------------- create_app's steps: the model


@dataclass(frozen=True)
class _ModelFacts:
    """What the routes tell about the loaded model, read once from the pipeline."""

    fps: float
    max_seconds: float  # the longest motion the model makes (config.max_frames at fps)
    skeleton: dict[str, Any]  # the skeleton as /api/info and /api/generate describe it


def _model_facts(pipeline: Any) -> _ModelFacts:
    """The model's frame rate, longest motion and skeleton, as the routes report them."""
    skeleton = pipeline.skeleton
    fps = float(skeleton.fps)
    skeleton_info = {
        "name": skeleton.name,
        "joint_names": list(skeleton.joint_names),
        "parents": list(skeleton.parents),
        "left": list(skeleton.left),
        "right": list(skeleton.right),
    }
    return _ModelFacts(fps=fps, max_seconds=pipeline.config.max_frames / fps, skeleton=skeleton_info)


def _example_prompts(pipeline: Any, example_prompts: Sequence[str] | None) -> list[str]:
    """The page's example prompts: the caller's, else the model folder's (config.json's extra), else ours."""
    return list(example_prompts or getattr(pipeline, "extra", {}).get("example_prompts") or DEFAULT_EXAMPLES)


# ---------------------------------------------------------------------- create_app's steps: the worker


def _queue_and_store(pipeline: Any, limits: ServerLimits, model: _ModelFacts) -> tuple[GenerationQueue, SampleStore]:
    """The generation queue (one worker thread, batches sized for the pipeline's device) and the
    store that keeps its samples for download (at least one batch of them)."""
    generate = _generate_function(pipeline, limits, model)
    device = getattr(pipeline, "device", None)
    batch_samples = limits.batch_samples_for(getattr(device, "type", str(device or "cpu")))
    queue = GenerationQueue(generate, max_in_flight=limits.max_in_flight, max_batch_samples=batch_samples, batch_window_s=limits.batch_window_s)
    store = SampleStore(max(limits.max_stored_samples, batch_samples))
    return queue, store


def _generate_function(pipeline: Any, limits: ServerLimits, model: _ModelFacts) -> GenerateFn:
    """The queue's generate function over `pipeline`, with this server's step count and lengths."""
    from ..pipeline import GenerationCancelled

    def generate(
        prompts: list[str], seconds: list[float | None], seeds: list[int], w_reg: float | None, w_cfg: float | None, cancelled: Callable[[], bool] | None = None
    ) -> list[Any]:
        """The queue's generate function: one pipeline call, stopped between steps once `cancelled()`.
        A None length is the model's length predictor's for its prompt, within this server's limits."""
        try:
            predicted = {p: default_seconds(p) for p, s in zip(prompts, seconds) if s is None}  # once per prompt
            seconds = [s if s is not None else predicted[p] for p, s in zip(prompts, seconds)]
            motions = pipeline(prompts, seconds=seconds, seed=seeds, w_reg=w_reg, w_cfg=w_cfg, steps=limits.steps, cancelled=cancelled)
        except GenerationCancelled as exc:
            raise JobsCancelled(str(exc)) from None
        for motion in motions:
            motion.joints  # noqa: B018 - recover joints here, on the worker thread, not on the event loop
        return list(motions)

    def default_seconds(prompt: str) -> float:
        """A request's length when it gives none, within this server's limits (on the worker thread: it runs the text model)."""
        seconds = DEFAULT_SECONDS if getattr(pipeline, "length_predictor", None) is None else pipeline.predict_frames([prompt])[0] / model.fps
        return min(max(seconds, limits.min_seconds), limits.effective_max_seconds(model.max_seconds))

    return generate


def _lifespan(pipeline: Any, queue: GenerationQueue, store: SampleStore, warmup: bool) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: start the queue's worker (loading the text model first if `warmup`),
    and on shutdown stop it and delete the stored samples."""

    def load_text_model() -> None:
        _ = pipeline.text_encoder

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        queue.start(load_text_model if warmup and hasattr(pipeline, "text_encoder") else None)
        try:
            yield
        finally:
            await run_in_threadpool(queue.stop)
            store.close()

    return lifespan


# ---------------------------------------------------------------------- create_app's steps: the app


def _new_app(lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]) -> FastAPI:
    """The bare FastAPI app: title, version, lifespan, and no docs pages."""
    return FastAPI(
        title="ramotion",
        summary="RAM text-to-motion: type a sentence, get a 3D motion (joints, BVH, NPY, MP4).",
        version=_version(),
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; this server makes no
        # page that needs the network, so only the schema itself is served.
        docs_url=None,
        redoc_url=None,
    )


def _add_request_guard(app: FastAPI, limits: ServerLimits, allowed_hosts: Sequence[str] | None) -> None:
    """Put RequestGuard in front of the app: the Host header, body sizes (uploads get their own) and body time."""
    app.add_middleware(
        RequestGuard, max_body_bytes=limits.max_body_bytes, allowed_hosts=allowed_hosts, body_timeout_s=limits.body_timeout_s,
        body_limits={path: limits.max_upload_bytes for path in SOURCE_PATHS},  # these carry a motion file
    )  # fmt: skip


def _register_error_handlers(app: FastAPI) -> None:
    """Answer every error as {detail, code, field}: APIErrors, invalid request bodies, and Starlette's HTTP errors (404, 405, ...)."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.payload(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = validation_to_api_error(exc.errors(), REQUEST_MODELS.get(request.url.path, GenerateRequest))
        return JSONResponse(err.payload(), status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail), "code": f"http_{exc.status_code}", "field": None}, status_code=exc.status_code, headers=exc.headers)


# ---------------------------------------------------------------------- create_app's steps: the API


def _register_health_route(app: FastAPI, queue: GenerationQueue, store: SampleStore, limits: ServerLimits) -> None:
    """Add GET /api/health: liveness, the queue's depth and counters, the stored samples."""

    @app.get("/api/health", tags=["api"])
    async def health() -> dict[str, Any]:
        """Liveness: answers at once even while a generation runs."""
        return {
            "status": "ok",
            "in_flight": queue.in_flight,
            "queued": queue.queued,
            "max_in_flight": limits.max_in_flight,
            "max_batch_samples": queue.max_batch_samples,
            "batches": queue.stats.batches,
            "samples_done": queue.stats.samples_done,
            "jobs_cancelled": queue.stats.jobs_cancelled,
            "stored_samples": len(store),
        }


def _register_info_route(
    app: FastAPI, pipeline: Any, limits: ServerLimits, model: _ModelFacts, examples: list[str], sampler_defaults: dict[str, Any], three_dir: Path | None
) -> None:
    """Add GET /api/info: what the page needs to know (model, limits, examples, edit modes, viewer)."""

    @app.get("/api/info", tags=["api"])
    async def info() -> dict[str, Any]:
        """The model, this server's limits, example prompts, and whether the 3D viewer can load."""
        config = pipeline.config
        return {
            "model": {
                "skeleton": model.skeleton["name"],
                "fps": model.fps,
                "max_seconds": model.max_seconds,
                "feature_dim": int(config.feature_dim),
                "text_model": str(config.text_model),
                "motion_encoder": bool(getattr(config, "use_motion_encoder", True)),
                "steps": limits.steps,
                "w_reg": sampler_defaults["w_reg"],  # what a request without w_reg / w_cfg gets
                "w_cfg": sampler_defaults["w_cfg"],
                "length_predictor": getattr(pipeline, "length_predictor", None) is not None,  # what a request without seconds gets
            },
            "skeleton": model.skeleton,
            "limits": limits.to_dict(model.max_seconds),
            "examples": examples,
            "edit": edit_info(),
            "viewer": {
                "three_js": three_dir is not None,
                "three_version": three_version(three_dir) if three_dir else None,
                "hint": None if three_dir else THREE_MISSING_HINT,
            },
        }


def _register_generate_route(app: FastAPI, queue: GenerationQueue, store: SampleStore, limits: ServerLimits, model: _ModelFacts) -> None:
    """Add POST /api/generate: check the request, queue it, await its job, answer the motions' joints."""

    @app.post("/api/generate", tags=["api"], response_model=GenerateResponse, responses=ERROR_RESPONSES)
    async def generate_endpoint(body: GenerateRequest, request: Request) -> Response:
        """Generate `num_samples` motions of `prompt` (sample i uses seed+i) and return their joints.

        If the client disconnects first, its job is cancelled (never started if still queued;
        its batch stops at the next step if no other client waits for it) and the request ends
        with status 499 (`jobs.CLIENT_CLOSED`).
        """
        prompt = check_request(body.prompt, body.seconds, body.num_samples, body.seed, body.w_reg, body.w_cfg, limits, model.max_seconds)
        base = body.seed if body.seed is not None else secrets.randbelow(2**31 - 1 - limits.max_samples)
        seeds = [base + i for i in range(body.num_samples)]
        if await request.is_disconnected():  # sent its request and left: queue nothing
            raise client_closed()
        try:
            job = queue.submit(prompt, None if body.seconds is None else float(body.seconds), seeds, body.w_reg, body.w_cfg)
        except QueueFull as exc:
            raise APIError(429, "server_busy", f"the server is busy ({exc}): try again in a moment", headers={"Retry-After": "1"}) from None
        except QueueClosed as exc:
            raise APIError(503, "shutting_down", str(exc)) from None
        motions = await await_job(queue, job, request, what="generation", invalid_code="invalid_request")
        done = time.perf_counter()
        timing = {"queued_s": round(job.started_at - job.enqueued_at, 4), "generate_s": round(done - job.started_at, 4)}
        seconds = float(body.seconds) if body.seconds is not None else motions[0].num_frames / model.fps  # predicted: what was made
        payload = await run_in_threadpool(_generate_payload, prompt, seconds, model.fps, model.skeleton, motions, store, timing)
        return Response(payload, media_type="application/json")


def _register_download_route(app: FastAPI, store: SampleStore) -> None:
    """Add GET /api/samples/{id}/{fmt}: a stored sample as a file."""

    @app.get(
        "/api/samples/{sample_id}/{fmt}",
        tags=["api"],
        responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the file"}, 404: {"model": ErrorResponse}},
    )
    async def download(sample_id: str, fmt: str) -> FileResponse:
        """One sample as BVH, NPY (joints (T, J, 3) float32) or MP4; ids come from /api/generate."""
        if fmt not in DOWNLOAD_FORMATS:
            raise APIError(404, "unknown_format", f"unknown format {fmt!r}: expected one of {', '.join(DOWNLOAD_FORMATS)}", field="fmt")
        try:
            path, name = await run_in_threadpool(store.file, sample_id, fmt)
        except KeyError:
            raise APIError(404, "unknown_sample", "no such sample: it was never made here, or it is old and was dropped (generate again)") from None
        return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=name)


# ---------------------------------------------------------------------- create_app's steps: page and three.js


def _register_page_and_three_js(app: FastAPI, three_dir: Path | None) -> None:
    """Add the page (/ and /static) and three.js under /vendor/three, or, when three.js is not
    installed, a /vendor answer that says how to install it."""

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if three_dir is not None:
        app.mount("/vendor/three/build", StaticFiles(directory=three_dir / "build"), name="three-build")
        app.mount("/vendor/three/examples/jsm", StaticFiles(directory=three_dir / "examples" / "jsm"), name="three-jsm")

        @app.get("/vendor/three/LICENSE", include_in_schema=False)
        async def three_license() -> FileResponse:
            return FileResponse(three_dir / "LICENSE", media_type="text/plain; charset=utf-8")
    else:

        @app.get("/vendor/{path:path}", include_in_schema=False)
        async def three_missing(path: str) -> JSONResponse:
            raise APIError(404, "three_js_missing", THREE_MISSING_HINT)


def _generate_payload(
    prompt: str, seconds: float, fps: float, skeleton_info: dict[str, Any], motions: list[Any], store: SampleStore, timing: dict[str, float]
) -> bytes:
    """Store the motions for download and render the JSON answer (on a worker thread: it is MBs)."""
    samples = [{**sample_json(motion, store.add(motion)), "seed": int(motion.seed)} for motion in motions]
    body = {"prompt": prompt, "seconds": seconds, "fps": fps, "skeleton": skeleton_info, "samples": samples, "timing": timing}
    return json.dumps(body, separators=(",", ":")).encode()


def validation_to_api_error(errors: Sequence[Any], model: type[BaseModel] = GenerateRequest) -> APIError:
    """FastAPI's list of pydantic errors -> one APIError with a one-line message (the first error).

    model: the request body's model, whose fields an unknown-field message lists."""
    if not errors:
        return APIError(422, "invalid_request", "invalid request")
    err = errors[0]
    kind = err.get("type", "")
    loc = [str(part) for part in err.get("loc", ()) if part != "body"]
    name = ".".join(loc) or None
    if kind == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "")
        return APIError(400, "malformed_json", f"the request body is not valid JSON ({reason})" if reason else "the request body is not valid JSON")
    if name is None and kind == "missing":
        return APIError(400, "empty_body", 'the request body is empty: send a JSON object such as {"prompt": "a person jumps"}')
    if name is None or kind in ("model_attributes_type", "dict_type"):
        return APIError(422, "not_an_object", 'the request body must be a JSON object such as {"prompt": "a person jumps"}')
    if kind == "missing":
        return APIError(422, "missing_field", f"missing field {name!r}", field=name)
    if kind == "extra_forbidden":
        fields = ", ".join(_model_at(model, loc[:-1]).model_fields)
        return APIError(422, "unknown_field", f"unknown field {name!r}: expected {fields}", field=name)
    message = f"field {name!r}: {err.get('msg', 'invalid value')}"
    if kind.endswith("_type") and "input" in err:  # strict types: say what came instead
        message += f", got {_short_json(err['input'])}"
    return APIError(422, "invalid_value", message, field=name)


def _model_at(model: type[BaseModel], loc: Sequence[str]) -> type[BaseModel]:
    """The model of the object at `loc` inside `model` (e.g. ["source"] in EditRequest: EditSource)."""
    for part in loc:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return model


def _short_json(value: Any, limit: int = 40) -> str:
    """A received value as its JSON text, cut to `limit` characters (for one-line messages)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RequestGuard:
    """ASGI middleware: refuse a wrong Host header, request bodies over `max_body_bytes` (or the
    path's own limit in `body_limits`), and bodies that do not arrive within `body_timeout_s`.

    Hand-written because Starlette's TrustedHostMiddleware cuts IPv6 hosts ('[::1]:7860') at
    the first colon, and neither it nor uvicorn bounds body size or body read time. Checked on
    the declared Content-Length; a body without one (chunked upload) is refused with 411. The
    body of a POST/PUT/PATCH (at most max_body_bytes, so small) is read here, under the
    timeout, before the app runs, and handed to the app as one message: a client that stalls
    mid-body gets 408 and its connection is closed, instead of holding it open for ever.
    After the body, the app's receive() is the server's, so disconnects still reach it.
    """

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, allowed_hosts: Sequence[str] | None = None, body_timeout_s: float | None = None, body_limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})  # path -> its own max_body_bytes (uploads)
        self.body_timeout_s = body_timeout_s
        self.allowed_hosts = None if allowed_hosts is None else {h.lower().strip("[]") for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in self.allowed_hosts:
            names = ", ".join(sorted(self.allowed_hosts))
            await _send_error(send, APIError(400, "host_not_allowed", f"this server only answers requests addressed to {names} (the Host header was {headers.get('host', '')!r})"))
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            length = headers.get("content-length")
            if length is None:
                await _send_error(send, APIError(411, "length_required", "send the body with a Content-Length header"))
                return
            max_bytes = self.body_limits.get(scope.get("path", ""), self.max_body_bytes)
            if not length.isdigit() or int(length) > max_bytes:
                await _send_error(send, APIError(413, "body_too_large", f"the request body is {length} bytes; this server accepts at most {max_bytes}"))
                return
            try:
                body = await asyncio.wait_for(self._read_body(receive, max_bytes), self.body_timeout_s)
            except asyncio.TimeoutError:
                err = APIError(408, "body_timeout", f"the request body did not arrive within {self.body_timeout_s:g} s ({length} bytes were announced)")
                await _send_error(send, err, close=True)
                return
            except _BodyTooLarge:
                await _send_error(send, APIError(413, "body_too_large", f"the request body is over {max_bytes} bytes"), close=True)
                return
            if body is None:  # the client left before sending all of it: nobody to answer
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_body(self, receive: Receive, max_bytes: int) -> bytes | None:
        """The whole request body (at most `max_bytes`), or None if the client disconnected first."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:  # more than its Content-Length said
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class _BodyTooLarge(Exception):
    """More body bytes arrived than max_body_bytes (the server's HTTP parser should stop this first)."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that gives the already-read body once, then defers to the server's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _host_name(host: str) -> str:
    """'[::1]:7860' -> '::1', 'localhost:7860' -> 'localhost'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _send_error(send: Send, err: APIError, *, close: bool = False) -> None:
    """Answer `err` from the middleware; `close` asks the server to close the connection after it."""
    body = json.dumps(err.payload()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _version() -> str:
    from .. import __version__

    return str(__version__)
