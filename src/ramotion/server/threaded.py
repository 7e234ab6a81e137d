"""Run the app on a background thread: for notebooks, scripts, end-to-end tests and benchmarks.

    with serve_in_thread(create_app(pipe)) as url:      # http://127.0.0.1:<free port>
        httpx.post(url + "/api/generate", json={"prompt": "a person jumps"})
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning", timeout: float = 30.0, options: dict[str, Any] | None = None
) -> Iterator[str]:
    """Serve `app` with uvicorn until the block ends; yields the base URL.

    port=0 takes a free port; the socket is bound before the server starts, so there is no
    window in which another process could take it. options: more uvicorn.Config settings,
    e.g. `uvicorn_options(limits)` to run as `ramotion serve` does.
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on", **(options or {})))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ramotion-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the server did not start on {host}:{bound}")
        time.sleep(0.02)
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    try:
        yield f"http://{shown}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
