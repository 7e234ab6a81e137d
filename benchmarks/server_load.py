"""Load on `ramotion serve`: latency of POST /api/generate under concurrent requests, and how
fast the server recovers when clients abandon their requests.

A real uvicorn server on 127.0.0.1 (a free port, this process) serves a RAM model; for
each concurrency level C, C clients each send requests back to back until `--requests`
have been answered. While they run, a probe times GET /api/health every 50 ms: that is
the event loop's responsiveness during generation (it should stay in milliseconds
however slow generation is). Prints one table row per level:

    C  requests  ok  429  p50 s  p95 s  max s  req/s  samples/s  batches  health p95 ms

`--scenario abandoned`: `--abandoned` clients (32) each send a request on a raw connection
and close it `--drop-after` seconds later (0.3) without reading the answer, as a browser
does when its tab is closed or a script when it times out. Measured from the moment they
drop: how long until the server is idle (/api/health in_flight == 0 and queued == 0), and
until a fresh request sent then is answered. Before requests were cancelled on disconnect,
32 such requests kept the worker busy for 85 s making motions for nobody (the target now:
idle within 2 s). Prints:

    abandoned  in flight at drop  idle after s  fresh answered after s  fresh alone s  cancelled  samples made

The model is `--model DIR` (`--model bundled`: the bundled default model), or random
weights of the paper's architecture (`--size paper`, the default: timing needs no trained
weights) or of a tiny one (`--size tiny`). The server runs with the uvicorn settings of
`ramotion serve`. Traffic goes only to the loopback server this script starts, and every
loop is bounded.

    python benchmarks/server_load.py [--concurrency 1 4 16] [--requests 16] [--seconds 4]
                                     [--num-samples 1] [--size paper|tiny] [--model DIR|bundled]
    python benchmarks/server_load.py --scenario abandoned --model bundled --device cpu
                                     [--abandoned 32] [--drop-after 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

import httpx
import numpy as np
import torch

from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline
from ramotion.server import ServerLimits, create_app, serve_in_thread, uvicorn_options

TINY = dict(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64)
PROMPTS = ("a person walks forward", "a person jumps", "a person waves with the right hand", "a person sits down")


def build_pipeline(args: argparse.Namespace) -> RAMPipeline:
    """The model under load: a folder ("bundled": the bundled model), or random weights of the chosen size."""
    if args.model:
        return RAMPipeline.from_pretrained(None if args.model == "bundled" else args.model, device=args.device, dtype=args.dtype)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=263).astype(np.float32) * 0.1, rng.uniform(0.05, 0.2, 263).astype(np.float32)
    config = RAMConfig(**TINY) if args.size == "tiny" else RAMConfig()
    return RAMPipeline(RAM(config), Normalizer(mean, std), device=args.device, dtype=args.dtype)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_level(url: str, concurrency: int, total: int, args: argparse.Namespace, app) -> dict[str, float]:  # noqa: ANN001
    """`concurrency` clients share `total` requests; a probe times /api/health meanwhile."""
    latencies: list[float] = []
    statuses: list[int] = []
    health: list[float] = []
    issued = 0
    stats = app.state.queue.stats
    batches_before, samples_before = stats.batches, stats.samples_done

    async with httpx.AsyncClient(base_url=url, timeout=600) as client:

        async def worker(k: int) -> None:
            nonlocal issued
            while issued < total:
                i = issued
                issued += 1
                body = {"prompt": PROMPTS[i % len(PROMPTS)], "seconds": args.seconds, "seed": i, "num_samples": args.num_samples}
                t0 = time.perf_counter()
                r = await client.post("/api/generate", json=body)
                latencies.append(time.perf_counter() - t0) if r.status_code == 200 else None
                statuses.append(r.status_code)
                if r.status_code == 429:
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))

        async def probe(stop: asyncio.Event) -> None:
            for _ in range(100_000):  # bounded: at most ~80 minutes of 50 ms probes
                if stop.is_set():
                    return
                t0 = time.perf_counter()
                await client.get("/api/health")
                health.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)

        stop = asyncio.Event()
        probe_task = asyncio.create_task(probe(stop))
        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        wall = time.perf_counter() - start
        stop.set()
        await probe_task

    ok = statuses.count(200)
    return {
        "C": concurrency,
        "requests": len(statuses),
        "ok": ok,
        "busy": statuses.count(429),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": max(latencies) if latencies else float("nan"),
        "rps": ok / wall,
        "sps": (stats.samples_done - samples_before) / wall,
        "batches": stats.batches - batches_before,
        "health_p95_ms": percentile(health, 95) * 1000,
    }


async def run_abandoned(url: str, args: argparse.Namespace, app) -> dict[str, float]:  # noqa: ANN001
    """`args.abandoned` requests whose clients close the connection after `args.drop_after` s; then
    time until the server is idle, and until a fresh request sent at that moment is answered."""
    parts = urlsplit(url)
    stats = app.state.queue.stats
    cancelled_before, samples_before = stats.jobs_cancelled, stats.samples_done
    writers: list[asyncio.StreamWriter] = []
    for i in range(args.abandoned):
        body = json.dumps({"prompt": PROMPTS[i % len(PROMPTS)], "seconds": args.seconds, "seed": 1000 + i, "num_samples": args.num_samples}).encode()
        head = f"POST /api/generate HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        _, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(head.encode("ascii") + body)
        await writer.drain()
        writers.append(writer)
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        await asyncio.sleep(args.drop_after)
        at_drop = (await client.get("/api/health")).json()
        dropped = time.perf_counter()
        for writer in writers:
            writer.close()
        idle_after = float("nan")
        for _ in range(30_000):  # bounded: at most ~10 minutes of 20 ms polls
            health = (await client.get("/api/health")).json()
            if health["in_flight"] == 0 and health["queued"] == 0:
                idle_after = time.perf_counter() - dropped
                break
            await asyncio.sleep(0.02)
        sent = time.perf_counter()
        r = await client.post("/api/generate", json={"prompt": PROMPTS[0], "seconds": args.seconds, "seed": 7, "num_samples": args.num_samples})
        r.raise_for_status()
        answered = time.perf_counter()
    return {
        "abandoned": args.abandoned,
        "in_flight_at_drop": at_drop["in_flight"],
        "idle_after": idle_after,
        "fresh_after": answered - dropped,
        "fresh_alone": answered - sent,
        "cancelled": stats.jobs_cancelled - cancelled_before,
        "samples_made": stats.samples_done - samples_before - args.num_samples,  # less the fresh request's own
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("load", "abandoned"), default="load", help="load: concurrency levels; abandoned: clients that leave (default load)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=16, help="requests per concurrency level (default 16)")
    parser.add_argument("--seconds", type=float, default=4.0, help="motion length per request (default 4)")
    parser.add_argument("--num-samples", type=int, default=1)
    parser.add_argument("--size", choices=("paper", "tiny"), default="paper")
    parser.add_argument("--model", default=None, help="model folder, or 'bundled' for the bundled default model")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--max-batch", type=int, default=None, help="samples per model call (default: the server's, by device)")
    parser.add_argument("--abandoned", type=int, default=32, help="abandoned scenario: requests whose clients leave (default 32)")
    parser.add_argument("--drop-after", type=float, default=0.3, help="abandoned scenario: seconds before the clients leave (default 0.3)")
    args = parser.parse_args()
    if not 1 <= args.requests <= 1000 or not all(1 <= c <= 256 for c in args.concurrency):
        parser.error("--requests must be in 1..1000 and each --concurrency in 1..256")
    if not 1 <= args.abandoned <= args.max_in_flight or not 0 <= args.drop_after <= 60:
        parser.error("--abandoned must be in 1..--max-in-flight and --drop-after in 0..60")

    pipe = build_pipeline(args)
    batch = None if args.max_batch is None else max(args.max_batch, args.num_samples)
    limits = ServerLimits(max_in_flight=args.max_in_flight, max_batch_samples=batch, max_samples=args.num_samples)
    app = create_app(pipe, limits)
    print(f"model: {args.model or f'random {args.size}'} on {pipe.device} ({pipe.dtype}); {args.seconds:g} s motions, "
          f"{args.num_samples} sample(s)/request, batches up to {app.state.queue.max_batch_samples} samples, torch threads {torch.get_num_threads()}")
    with serve_in_thread(app, options=uvicorn_options(limits)) as url:
        # Warm-up: the text model loads, first-call overheads pass.
        httpx.post(url + "/api/generate", json={"prompt": PROMPTS[0], "seconds": args.seconds, "seed": 0}, timeout=600).raise_for_status()
        if args.scenario == "abandoned":
            row = asyncio.run(run_abandoned(url, args, app))
            header = f"{'abandoned':>9} {'in flight at drop':>17} {'idle after s':>12} {'fresh answered after s':>22} {'fresh alone s':>13} {'cancelled':>9} {'samples made':>12}"
            print(header)
            print("-" * len(header))
            print(f"{row['abandoned']:>9} {row['in_flight_at_drop']:>17} {row['idle_after']:>12.2f} {row['fresh_after']:>22.2f} {row['fresh_alone']:>13.2f} "
                  f"{row['cancelled']:>9} {row['samples_made']:>12}")
            verdict = "yes" if row["idle_after"] <= 2.0 else "NO"
            print(f"server idle within 2 s of the clients leaving: {verdict} ({row['idle_after']:.2f} s); "
                  f"{row['samples_made']} sample(s) were made for clients that had left")
            return
        header = f"{'C':>3} {'requests':>8} {'ok':>4} {'429':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'req/s':>6} {'samples/s':>9} {'batches':>7} {'health p95 ms':>13}"
        print(header)
        print("-" * len(header))
        rows = []
        for c in args.concurrency:
            row = asyncio.run(run_level(url, c, args.requests, args, app))
            rows.append(row)
            print(f"{row['C']:>3} {row['requests']:>8} {row['ok']:>4} {row['busy']:>4} {row['p50']:>7.2f} {row['p95']:>7.2f} {row['max']:>7.2f} "
                  f"{row['rps']:>6.2f} {row['sps']:>9.2f} {row['batches']:>7} {row['health_p95_ms']:>13.1f}", flush=True)
        if len(rows) > 1 and rows[0]["rps"] > 0:
            print(f"throughput at C={rows[-1]['C']} vs C={rows[0]['C']}: {rows[-1]['rps'] / rows[0]['rps']:.2f}x")
        print(f"GET /api/health during generation: p95 at most {max(r['health_p95_ms'] for r in rows):.1f} ms at any level")


if __name__ == "__main__":
    main()
