"""What one server accepts: request limits, and the error every refused request gets.

Each limit has its own HTTP status and a one-line JSON error, so the page can show it and
a script can act on it:

    413  prompt longer than `max_prompt_chars`, request body over `max_body_bytes` (over
         `max_upload_bytes` for the bodies that carry a motion file: /api/sources, /api/edit)
    422  seconds / num_samples / seed / guidance weights out of range or of the wrong JSON
         type (true or "1.5" is not a number), unknown fields
    429  `max_in_flight` requests already queued or running (with a Retry-After header)
    408  a request body not complete within `body_timeout_s` (the connection is closed)
    400  a body that is not valid JSON

`uvicorn_options` holds the connection-level settings `ramotion serve` gives uvicorn.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .connections import header_deadline_protocol


class APIError(Exception):
    """A refused request: HTTP status, a stable machine-readable code, and a one-line message."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers

    def payload(self) -> dict[str, Any]:
        """The JSON body: {"detail": message, "code": code, "field": field-or-null}."""
        return {"detail": self.message, "code": self.code, "field": self.field}


@dataclass(frozen=True)
class ServerLimits:
    """Bounds on one request and on the whole server (all positive; checked at construction).

    max_seconds: None takes the model's own limit (max_frames / fps, 9.8 s for HumanML3D);
    a smaller value caps it further. max_batch_samples: most samples the worker puts in
    one pipeline call (requests with the same guidance weights are batched up to it);
    None picks by device (see `batch_samples_for`). max_stored_samples: generated samples
    kept for download; the oldest are dropped first. body_timeout_s: seconds a client has,
    once its headers are in, to send the whole request body; a stalled or trickling body is
    answered 408 and its connection closed. header_timeout_s: seconds a client has, once it
    connects (or starts another request on a kept-alive connection), to send its request
    headers; past it the connection is closed (`connections.HeaderDeadlineProtocol`).
    max_upload_bytes: the body limit of the requests
    that carry a motion file to edit (/api/sources, /api/edit: BVH text or a base64 .npy);
    max_upload_seconds: the longest such motion read (it can be cut to the model's length
    with start / stop).
    """

    max_prompt_chars: int = 300
    max_seconds: float | None = None
    min_seconds: float = 0.5
    max_samples: int = 8
    max_in_flight: int = 32
    max_batch_samples: int | None = None
    batch_window_s: float = 0.02
    max_body_bytes: int = 16 * 1024
    max_stored_samples: int = 256
    max_w_reg: float = 20.0
    max_w_cfg: float = 10.0
    steps: int = 20
    body_timeout_s: float = 10.0
    header_timeout_s: float = 10.0
    max_upload_bytes: int = 4 * 1024 * 1024
    max_upload_seconds: float = 600.0

    def __post_init__(self) -> None:
        ints = ("max_prompt_chars", "max_samples", "max_in_flight", "max_batch_samples", "max_body_bytes", "max_stored_samples", "steps", "max_upload_bytes")
        for name in ints:
            value = getattr(self, name)
            if value is None and name == "max_batch_samples":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ServerLimits.{name} must be a positive whole number, got {value!r}")
        for name in ("min_seconds", "batch_window_s", "max_w_reg", "max_w_cfg", "max_upload_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"ServerLimits.{name} must be a finite number >= 0, got {value!r}")
        for name in ("body_timeout_s", "header_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"ServerLimits.{name} must be a finite number of seconds above 0, got {value!r}")
        if self.max_seconds is not None and (not math.isfinite(self.max_seconds) or self.max_seconds <= self.min_seconds):
            raise ValueError(f"ServerLimits.max_seconds must be a number above min_seconds ({self.min_seconds}), got {self.max_seconds!r}")
        if self.max_batch_samples is not None and self.max_samples > self.max_batch_samples:
            raise ValueError(f"ServerLimits.max_samples ({self.max_samples}) cannot exceed max_batch_samples ({self.max_batch_samples})")
        if self.max_stored_samples < max(self.max_samples, self.max_batch_samples or 0):
            raise ValueError(f"ServerLimits.max_stored_samples ({self.max_stored_samples}) must be at least max_samples and max_batch_samples")

    def batch_samples_for(self, device_type: str) -> int:
        """Samples per pipeline call: max_batch_samples if set; else 16 on an accelerator, where a
        batch costs about as much as one sample, and 8 on a CPU. On a 2-core Xeon with AMX,
        16 clients of 4 s motions were served 3.3x faster by batches of 8 than one by one with
        the bundled model (fp32; p95 latency 1.6 s against 5.1 s) and 2.6x faster with the
        paper-size model (bf16): benchmarks/server_load.py, docs/performance.md."""
        if self.max_batch_samples is not None:
            return self.max_batch_samples
        return max(8 if device_type == "cpu" else 16, self.max_samples)

    def effective_max_seconds(self, model_max_seconds: float) -> float:
        """This server's cap on seconds, never above what the model can make."""
        return model_max_seconds if self.max_seconds is None else min(self.max_seconds, model_max_seconds)

    def to_dict(self, model_max_seconds: float) -> dict[str, Any]:
        """The limits a client needs (the page sets its controls' ranges from these)."""
        out = asdict(self)
        out["max_seconds"] = self.effective_max_seconds(model_max_seconds)
        out.pop("max_batch_samples")  # a server-side setting, reported by /api/health
        return out


KEEP_ALIVE_S = 5  # seconds (uvicorn takes whole seconds)


def uvicorn_options(limits: ServerLimits) -> dict[str, Any]:
    """uvicorn.Config settings that bound what idle and slow connections can hold.

    timeout_keep_alive: an idle keep-alive connection (a browser tab, a script's client) is
    closed 5 s after its last response, so idle sockets do not pile up; a page that calls
    again just opens a new one. limit_concurrency: once this many connections or request
    tasks exist, uvicorn answers further requests with a cheap 503 instead of starting more
    work, which bounds memory and file descriptors under a flood. It counts every open
    connection, so it is set well above what legitimate use needs: `max_in_flight`
    generations waiting at once, plus the page's own downloads, health checks and static
    files (4x max_in_flight, at least 64).

    http: uvicorn has no deadline for a request's *headers*; `connections.HeaderDeadlineProtocol`
    adds one (`header_timeout_s`), so a client that connects and stalls before or inside its
    headers (a slowloris attack) is cut off instead of holding a slot of limit_concurrency. The
    request body is bounded by RequestGuard (`body_timeout_s`, then 408), an idle connection
    after a response by timeout_keep_alive. The server binds loopback by default; one exposed to
    other machines still belongs behind a reverse proxy.
    """
    return {"timeout_keep_alive": KEEP_ALIVE_S, "limit_concurrency": max(64, 4 * limits.max_in_flight), "http": header_deadline_protocol(limits.header_timeout_s)}


def check_request(
    prompt: str, seconds: float | None, num_samples: int, seed: int | None, w_reg: float | None, w_cfg: float | None, limits: ServerLimits, model_max_seconds: float
) -> str:
    """Raise APIError for the first value outside `limits`; return the stripped prompt."""
    text = prompt.strip()
    if not text:
        raise APIError(422, "empty_prompt", "prompt is empty: describe the motion, e.g. 'a person walks forward'", field="prompt")
    if len(text) > limits.max_prompt_chars:
        raise APIError(413, "prompt_too_long", f"prompt is {len(text)} characters; this server accepts at most {limits.max_prompt_chars}", field="prompt")
    max_s = limits.effective_max_seconds(model_max_seconds)
    if seconds is not None and (not math.isfinite(seconds) or not limits.min_seconds <= seconds <= max_s + 1e-9):  # None: predicted
        raise APIError(422, "seconds_out_of_range", f"seconds must be between {limits.min_seconds:g} and {max_s:g}, got {seconds:g}", field="seconds")
    if not 1 <= num_samples <= limits.max_samples:
        raise APIError(422, "too_many_samples" if num_samples > 1 else "num_samples_out_of_range", f"num_samples must be between 1 and {limits.max_samples}, got {num_samples}", field="num_samples")
    if seed is not None and not 0 <= seed <= 2**31 - 1 - limits.max_samples:
        raise APIError(422, "seed_out_of_range", f"seed must be between 0 and {2**31 - 1 - limits.max_samples}, got {seed}", field="seed")
    if w_reg is not None and (not math.isfinite(w_reg) or not 0 <= w_reg <= limits.max_w_reg):
        raise APIError(422, "w_reg_out_of_range", f"w_reg must be between 0 and {limits.max_w_reg:g}, got {w_reg:g}", field="w_reg")
    if w_cfg is not None and (not math.isfinite(w_cfg) or not 0 <= w_cfg <= limits.max_w_cfg):
        raise APIError(422, "w_cfg_out_of_range", f"w_cfg must be between 0 and {limits.max_w_cfg:g}, got {w_cfg:g}", field="w_cfg")
    return text
