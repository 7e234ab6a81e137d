"""Helpers for the server tests: a tiny random RAM model, a real uvicorn server on a free port, and
a raw-socket client that can do what httpx will not (stall mid-body, leave before the answer)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import torch

from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline

TINY = dict(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64, num_diffusion_steps=20)


def save_tiny_model(directory: Path, text_encoder: Any) -> Path:
    """A randomly initialised RAM model (HumanML3D features) written with save_pretrained."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mean = rng.normal(size=263).astype(np.float32) * 0.1
    std = rng.uniform(0.05, 0.2, 263).astype(np.float32)
    pipe = RAMPipeline(RAM(RAMConfig(**TINY)), Normalizer(mean, std), text_encoder, device="cpu")
    return pipe.save_pretrained(directory)


def tiny_server_pipeline(directory: Path, text_encoder: Any) -> RAMPipeline:
    """The tiny model saved into `directory` and loaded back as the server tests run it (CPU, fp32)."""
    return RAMPipeline.from_pretrained(save_tiny_model(directory, text_encoder), device="cpu", dtype="float32", text_encoder=text_encoder)


def running_server(app: Any, options: dict[str, Any] | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve `app` with a real uvicorn on 127.0.0.1 (a free port); yields its URL. options: more uvicorn settings."""
    from ramotion.server.threaded import serve_in_thread

    return serve_in_thread(app, options=options)


def raw_post(url: str, path: str, body: bytes, *, content_length: int | None = None, timeout: float = 30.0) -> socket.socket:
    """Open a connection to `url` and send a POST of `body` (JSON) to `path`; returns the open socket.

    content_length: the length to announce (default len(body)): more than is sent makes a stalled body.
    """
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if content_length is None else content_length}\r\n\r\n"
    )
    sock.sendall(head.encode("ascii") + body)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's timeout applies)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    """Poll `predicate` every 10 ms until it holds; fail after `timeout` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)
