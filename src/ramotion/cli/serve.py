"""`ramotion serve`: the local web app and HTTP API (uvicorn + FastAPI).

    ramotion serve --model runs/h3d                 # http://127.0.0.1:7860
    ramotion serve --model runs/h3d --port 8000 --max-samples 4
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` verb."""
    p = sub.add_parser(
        "serve",
        help="run the local web app and HTTP API (type a sentence, watch the motion in 3D)",
        description=(
            "Serve a page where you type a prompt and watch the generated motion in 3D, and a JSON API "
            "(POST /api/generate; OpenAPI schema at /openapi.json). Binds to loopback by default. "
            "The 3D viewer needs three.js from npm: run `npm ci --prefix web` once in the source folder."
        ),
    )
    p.add_argument("--model", metavar="DIR", default=None, help="model folder or training run (default: the bundled model, when the installation has one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda if available)")
    p.add_argument(
        "--dtype",
        default="float32",
        choices=("auto", "float32", "bfloat16", "float16"),
        help="compute precision (default float32. A seed gives the same motion whatever else the server batches with it: "
        "checked on CPU for float32 and bfloat16, and to 5 mm for float16; GPU kernels are not checked)",
    )
    p.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the text model the RAM model was trained with")
    limits = p.add_argument_group("limits")
    limits.add_argument("--max-prompt-chars", type=int, default=300, help="longest prompt accepted (default 300)")
    limits.add_argument("--max-seconds", type=float, default=None, help="longest motion (default: the model's, 9.8 s for HumanML3D)")
    limits.add_argument("--max-samples", type=int, default=8, help="samples per request (default 8)")
    limits.add_argument("--max-in-flight", type=int, default=32, help="requests queued or running before new ones get HTTP 429 (default 32)")
    limits.add_argument("--max-batch", type=int, default=None, help="samples per model call when batching requests (default: 16 on a GPU, 8 on a CPU, or --max-samples if larger)")
    limits.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    limits.add_argument("--body-timeout", type=float, default=10.0, help="seconds a client has to send its request body before HTTP 408 (default 10)")
    limits.add_argument("--header-timeout", type=float, default=10.0, help="seconds a client has to send its request headers before its connection is closed (default 10)")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """Whether `host` binds this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    """Load the model, build the app, and serve until Ctrl+C."""
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be in 1..65535, got {args.port}")
    from ..pipeline import default_model_dir, no_default_model_message

    if args.model is None and default_model_dir() is None:
        raise UserError(no_default_model_message())
    try:
        import uvicorn

        from ..server import LOOPBACK_HOSTS, ServerLimits, create_app, uvicorn_options
        from ..server.vendor import THREE_MISSING_HINT, find_three
    except ImportError as exc:
        raise UserError(f"the web server needs FastAPI and uvicorn ({exc}): pip install 'fastapi' 'uvicorn'") from None
    try:
        limits = ServerLimits(
            max_prompt_chars=args.max_prompt_chars,
            max_seconds=args.max_seconds,
            max_samples=args.max_samples,
            max_in_flight=args.max_in_flight,
            max_batch_samples=None if args.max_batch is None else max(args.max_batch, args.max_samples),
            max_stored_samples=max(256, args.max_batch or 0, args.max_samples),
            steps=args.steps,
            body_timeout_s=args.body_timeout,
            header_timeout_s=args.header_timeout,
        )
    except ValueError as exc:
        raise UserError(str(exc).replace("ServerLimits.", "limit ")) from None

    from ..pipeline import RAMPipeline

    pipeline = RAMPipeline.from_pretrained(args.model, device=args.device, dtype=args.dtype, text_model=args.text_model)
    loopback = is_loopback(args.host)
    if not loopback:
        print(f"warning: binding {args.host} makes the server reachable from other machines; it has no authentication", file=sys.stderr)
    app = create_app(pipeline, limits, allowed_hosts=LOOPBACK_HOSTS if loopback else None)
    if find_three() is None:
        print(f"warning: {THREE_MISSING_HINT}", file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"ramotion: serving {args.model or 'the bundled model'} at http://{shown}:{args.port}/  (API schema: /openapi.json; Ctrl+C stops)", file=sys.stderr)
    # Bounds on connections (ramotion.server.limits.uvicorn_options says why, and what they leave
    # open): idle keep-alive connections close after 5 s, stalled headers after --header-timeout,
    # and past 4x --max-in-flight open connections or requests, new requests get a quick 503
    # instead of piling up. Slow request bodies are cut by the app itself (--body-timeout, HTTP 408).
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", **uvicorn_options(limits))
    return 0
