"""AITS: average inference time per sentence (the paper's Table 3 timing), plus denoiser FLOP/s.

Batch size 1, text in -> features out (language model + E_T + every denoising step,
REG re-encoding included), model load excluded, device synchronised. The model has the
paper's architecture (E_T/E_M: 6 layers of 256; D: 8 layers of 512) with random
weights, which is all timing needs; the text model is the offline all-MiniLM-L6-v2.

Rows, at 120 and 196 frames:
  RAM-50 CFG, 196-pad  the RAM denoiser (MDM's architecture) sampled as MDM runs: 50 steps, CFG only,
                      every sample padded to 196 frames. It stands in for MDM; it is not MDM.
  RAM-50 CFG, L        the same 50-step CFG-only sampler on L frames (our engine, no padding)
  RAM-20 no REG / REG [46,44] / REG all   the RAM sampler, 20 steps, w_c = 1.5, w_r = 5
Beside each AITS the benchmark prints the configuration's matmul FLOPs (denoiser rows at
every step, E_M at REG steps) and their ratio to the 196-padded baseline: at equal
efficiency no implementation of the same sampler can have a lower time ratio.
Configurations are timed in interleaved rounds so that load from other processes hits
them alike. Then the denoiser alone at the REG-all shape (3 rows x L frames) is timed and
its FLOP/s compared with plain matmuls of exactly its GEMM shapes, in the same run, and so
is the whole REG-all sampler (its counted GFLOP over its AITS). A last line gives the ceiling
of that share for this attention kernel: the linear layers at the plain-matmul rate plus
`scaled_dot_product_attention` as the model calls it, with all other work taken as free.

Throughput (--throughput 8 32): sentences per second through `RAMPipeline.__call__` (the
user's path: text model, batching, REG on all steps, no foot cleanup) for one call of B
prompts of mixed lengths (drawn uniformly from 40-196 frames, seed 0) with batch_size=B.
In fp32 a batch runs padded to its longest motion; in bf16/fp16 the pipeline batches only
motions of one length (a sample must not depend on its batch), so mixed lengths run as
batches of one there.

    python benchmarks/aits.py [--frames 120 196] [--repeats 3] [--throughput 8 32] [--device cpu]
                              [--dtype auto] [--threads N] [--clock wall|cpu] [--compile MODE]

--compile MODE times the denoiser under `torch.compile(mode=MODE)` ("default",
"reduce-overhead": CUDA graphs of each denoiser call on a GPU, "max-autotune"). Compiling
happens in the warm-up calls and is left out of the times; it is printed separately. The
library does not compile by default: on the CPU it measured 15% faster per forward for 11 s
of compiling per new shape (docs/performance.md).

AITS is wall-clock time (--clock wall, the default). On a CPU shared with other jobs,
`--threads 1 --clock cpu` measures this process's CPU time instead: not AITS, but a
load-independent proxy for comparing the configurations with each other.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline, _batches
from ramotion.runtime import cpu_has_fast_bf16, resolve_dtype
from ramotion.sampling import MDM_BASELINE, SamplerConfig

PROMPTS = [
    "a person walks forward and then turns around",
    "a man jumps up and down twice",
    "someone waves with the right hand",
    "a person kicks with the left leg",
    "the person sits down on a chair and stands back up",
]

# The 50-step baselines: the RAM denoiser sampled MDM-style (not MDM), padded to 196 frames or not.
BASE_PAD, BASE_L = "RAM-50 CFG, 196-pad", "RAM-50 CFG, L"
CONFIGS: list[tuple[str, SamplerConfig, bool]] = [  # (name, sampler, pad to 196 frames)
    (BASE_PAD, MDM_BASELINE, True),
    (BASE_L, MDM_BASELINE, False),
    ("RAM-20 no REG", SamplerConfig(reg_steps="none"), False),
    ("RAM-20 REG [46,44]", SamplerConfig(reg_steps=[46, 44]), False),
    ("RAM-20 REG all", SamplerConfig(reg_steps="all"), False),
]


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so that wall-clock times are real."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def transformer_gemms(rows: int, seq: int, d: int, heads: int, ff: int, layers: int, first_only: bool = False) -> list[tuple[int, int, int, int]]:
    """The matrix products of a post-norm transformer encoder as (batch, M, K, N). With
    `first_only` the last layer computes only the first position (model/transformer.py): every
    position's keys and values, and the first one's query, attention, projection and feed-forward."""
    tokens = rows * seq

    def layer(queries: int) -> list[tuple[int, int, int, int]]:
        q_rows = rows * queries
        if queries == seq:
            projections = [(1, tokens, d, 3 * d)]  # fused QKV projection
        else:
            projections = [(1, tokens, d, 2 * d), (1, q_rows, d, d)]  # K and V of all, Q of the first
        return projections + [
            (rows * heads, queries, d // heads, seq),  # Q K^T
            (rows * heads, queries, seq, d // heads),  # softmax(.) V
            (1, q_rows, d, d),  # attention output projection
            (1, q_rows, d, ff),  # feed-forward in
            (1, q_rows, ff, d),  # feed-forward out
        ]

    return layer(seq) * (layers - 1) + layer(1 if first_only else seq)


def denoiser_gemms(cfg: RAMConfig, rows: int, frames: int) -> list[tuple[int, int, int, int]]:
    """The denoiser's matrix products as (batch, M, K, N): projections, attention, feed-forward."""
    io = [(1, rows * frames, cfg.feature_dim, cfg.dim), (1, rows * frames, cfg.dim, cfg.feature_dim)]
    return transformer_gemms(rows, frames + 1, cfg.dim, cfg.heads, cfg.ff, cfg.layers) + io


def motion_encoder_gemms(cfg: RAMConfig, frames: int) -> list[tuple[int, int, int, int]]:
    """E_M's matrix products for one sample of `frames` frames (one REG re-encoding); it reads
    only its special token, so its last layer computes that position alone."""
    io = [(1, frames, cfg.feature_dim, cfg.latent_dim)]
    return transformer_gemms(1, frames + 1, cfg.latent_dim, cfg.enc_heads, cfg.enc_ff, cfg.enc_layers, first_only=True) + io


def sampling_flops(cfg: RAMConfig, sampler: SamplerConfig, frames: int) -> float:
    """Matmul FLOPs of one batch-1 sample: every step's batched denoiser rows plus E_M at REG steps.

    The language model and E_T run once per sentence in every configuration and are
    left out, so a ratio of two counts is a lower bound on the ratio of their work.
    """
    timesteps = sampler.kept_timesteps(cfg.num_diffusion_steps)
    total = 0.0
    for reg in sampler.reg_flags(timesteps):
        rows = 1 + (sampler.w_cfg != 0) + reg
        total += gemm_flops(denoiser_gemms(cfg, rows, frames))
        if reg:
            total += gemm_flops(motion_encoder_gemms(cfg, frames))
    return total


def gemm_flops(gemms: list[tuple[int, int, int, int]]) -> float:
    return float(sum(2 * b * m * k * n for b, m, k, n in gemms))


CLOCK: Callable[[], float] = time.perf_counter  # set by --clock


def time_call(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median time of fn() after one warm-up call, synchronised."""
    fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        synchronize(device)
        times.append(CLOCK() - start)
    return statistics.median(times)


def plain_matmul_seconds(gemms: list[tuple[int, int, int, int]], device: torch.device, dtype: torch.dtype, repeats: int) -> float:
    """Time bare matmuls of the denoiser's GEMM shapes (F.linear / bmm, weights laid out like nn.Linear)."""
    ops = []
    for b, m, k, n in {g: None for g in gemms}:  # one set of operands per distinct shape
        if b == 1:
            x, w = torch.randn(m, k, device=device, dtype=dtype), torch.randn(n, k, device=device, dtype=dtype)
            ops.append(((b, m, k, n), lambda x=x, w=w: F.linear(x, w)))
        else:
            x, y = torch.randn(b, m, k, device=device, dtype=dtype), torch.randn(b, k, n, device=device, dtype=dtype)
            ops.append(((b, m, k, n), lambda x=x, y=y: torch.bmm(x, y)))
    lookup = dict(ops)

    def run() -> None:
        for g in gemms:
            lookup[g]()

    with torch.inference_mode():
        return time_call(run, device, repeats)


def attention_kernel_seconds(cfg: RAMConfig, rows: int, frames: int, device: torch.device, dtype: torch.dtype, repeats: int) -> float:
    """Time the denoiser's attention as it runs: `scaled_dot_product_attention` over (rows, heads,
    1 + frames, dim/heads) with an additive key mask, once per layer."""
    shape = (rows, cfg.heads, frames + 1, cfg.dim // cfg.heads)
    q, k, v = (torch.randn(shape, device=device, dtype=dtype) for _ in range(3))
    key_bias = torch.zeros(rows, 1, 1, frames + 1, device=device, dtype=dtype)

    def run() -> None:
        for _ in range(cfg.layers):
            F.scaled_dot_product_attention(q, k, v, attn_mask=key_bias)

    with torch.inference_mode():
        return time_call(run, device, repeats)


def machine_line(device: torch.device) -> str:
    """What the numbers ran on: the CPU's name and whether it multiplies bf16 natively, or the GPU."""
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}, bf16 {'supported' if torch.cuda.is_bf16_supported() else 'not supported'}"
    name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").is_file() else "unknown CPU"
    return f"CPU {name}, native bf16 (AVX512-BF16/AMX): {'yes' if cpu_has_fast_bf16() else 'no'}"


def throughput(pipe: RAMPipeline, batch: int, device: torch.device) -> tuple[float, float, int]:
    """One call of `batch` prompts of mixed lengths with batch_size=batch, after a warm-up call:
    (sentences per second, frames per second, the calls' batches)."""
    rng = np.random.default_rng(0)
    lengths = [int(n) for n in rng.integers(40, 197, size=batch)]
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(batch)]
    options = dict(w_reg=5.0, w_cfg=1.5, reg_steps="all", cleanup=False, batch_size=batch)
    pipe(prompts[:2], frames=lengths[:2], seed=0, **options)  # warm-up
    synchronize(device)
    start = CLOCK()
    pipe(prompts, frames=lengths, seed=0, **options)
    synchronize(device)
    wall = CLOCK() - start
    batches = len(_batches(lengths, batch, one_length=pipe.dtype != torch.float32))  # as the pipeline split them
    return batch / wall, sum(lengths) / wall, batches


def build_pipeline(device: torch.device, dtype: str) -> RAMPipeline:
    """Paper-size RAM with random weights, identity-ish stats, the offline text model."""
    torch.manual_seed(0)
    cfg = RAMConfig()
    normalizer = Normalizer(np.zeros(cfg.feature_dim, np.float32), np.ones(cfg.feature_dim, np.float32))
    pipe = RAMPipeline(RAM(cfg), normalizer, device=device, dtype=dtype)
    pipe.text_encoder  # load the language model now: model load is excluded from AITS  # noqa: B018
    return pipe


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[120, 196])
    parser.add_argument("--repeats", type=int, default=3, help="timed sentences per configuration (after one warm-up)")
    parser.add_argument("--throughput", type=int, nargs="*", default=[8, 32], help="batch sizes of the throughput rows (none: skip them)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--compile", default=None, choices=("default", "reduce-overhead", "max-autotune"), help="time the denoiser under torch.compile(mode=...)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="wall: AITS proper; cpu: process CPU time (load-robust proxy)")
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.perf_counter if args.clock == "wall" else time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device) if args.device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pipe = build_pipeline(device, args.dtype)
    dtype = resolve_dtype(args.dtype, device)
    if args.compile:
        compute = pipe._compute_model(dtype)  # the copy sampling runs (the model itself in fp32)
        compute.denoiser = torch.compile(compute.denoiser, mode=args.compile)
    threads = f", {torch.get_num_threads()} threads" if device.type == "cpu" else ""
    print(f"device {device}{threads}, compute dtype {str(dtype).replace('torch.', '')}, torch {torch.__version__}, {args.clock} clock")
    print(machine_line(device) + (f"; denoiser under torch.compile(mode={args.compile!r})" if args.compile else ""))
    counts = pipe.model.parameter_counts()
    print(f"model: paper size, random weights ({counts['denoiser'] / 1e6:.1f}M denoiser, {counts['total'] / 1e6:.1f}M total), text model {pipe.config.text_model}")

    plans = {name: pipe.sampling_plan(cfg) for name, cfg, _ in CONFIGS}  # resolved once, outside the timing
    for frames in args.frames:
        times: dict[str, list[float]] = {name: [] for name, _, _ in CONFIGS}
        warm = CLOCK()
        for name, cfg, pad in CONFIGS:  # warm-up (and, with --compile, compiling)
            pipe.generate_features([PROMPTS[0]], [frames], [0], plans[name], pad_to=196 if pad else None)
        if args.compile:
            print(f"\n(warm-up with compiling at {frames} frames: {CLOCK() - warm:.1f} s)")
        for r in range(args.repeats):
            prompt = PROMPTS[r % len(PROMPTS)]
            for name, cfg, pad in CONFIGS:
                synchronize(device)
                start = CLOCK()
                pipe.generate_features([prompt], [frames], [r], plans[name], pad_to=196 if pad else None)
                synchronize(device)
                times[name].append(CLOCK() - start)
        base_pad = statistics.mean(times[BASE_PAD])
        base_l = statistics.mean(times[BASE_L])
        print(f"\n{frames} frames ({frames / 20:.1f} s), batch 1, AITS over {args.repeats} sentences")
        flops = {name: sampling_flops(pipe.config, cfg, 196 if pad else frames) for name, cfg, pad in CONFIGS}
        print(f"  {'method':<20} {'AITS s':>8} {'min s':>7} {'/50-step 196-pad':>16} {'/50-step L':>10} {'GFLOP':>7} {'FLOP /196-pad':>14}")
        for name, _, _ in CONFIGS:
            mean = statistics.mean(times[name])
            print(
                f"  {name:<20} {mean:8.3f} {min(times[name]):7.3f} {mean / base_pad:16.2f} {mean / base_l:10.2f}"
                f" {flops[name] / 1e9:7.1f} {flops[name] / flops[BASE_PAD]:14.3f}"
            )
        print("  (GFLOP: denoiser and E_M matmuls per sentence; a time ratio cannot fall below the FLOP ratio at equal efficiency)")

        # The denoiser alone at the REG-all shape: 3 rows (cond, uncond, REG) x L frames.
        rows = 3
        gemms = denoiser_gemms(pipe.config, rows, frames)
        forward_flops = gemm_flops(gemms)
        x = torch.randn(rows, frames, pipe.config.feature_dim, device=device)
        t = torch.full((rows,), 25, device=device, dtype=torch.long)
        z = torch.randn(rows, pipe.config.latent_dim, device=device)
        mask = torch.ones(rows, frames, dtype=torch.bool, device=device)

        model = pipe._compute_model(dtype)  # as sampling runs it: matmul weights cast once

        def denoise() -> None:
            with pipe._autocast(dtype):
                model.denoise(x, t, z, mask)

        with torch.inference_mode():
            t_model = time_call(denoise, device, max(5, args.repeats * 3))
        t_plain = plain_matmul_seconds(gemms, device, dtype, max(5, args.repeats * 3))
        plain_rate = forward_flops / t_plain
        print(
            f"  denoiser, {rows} x {frames} frames: {forward_flops / 1e9:.2f} GFLOP per forward in {t_model * 1e3:.1f} ms = {forward_flops / t_model / 1e9:.1f} GFLOP/s; "
            f"plain matmuls of the same shapes {plain_rate / 1e9:.1f} GFLOP/s -> {t_plain / t_model:.0%} of the matmul rate"
        )
        # The ceiling: the linear layers at the plain-matmul rate plus torch's attention kernel, and
        # everything else (norms, GELU, residual adds, casts, Python) free.
        t_linear = plain_matmul_seconds([g for g in gemms if g[0] == 1], device, dtype, max(5, args.repeats * 3))
        t_attention = attention_kernel_seconds(pipe.config, rows, frames, device, dtype, max(5, args.repeats * 3))
        print(
            f"  ceiling with everything but the linear layers and the attention kernel free: {t_plain / (t_linear + t_attention):.0%} of the matmul rate "
            f"(attention kernel {t_attention * 1e3:.1f} ms per forward, its two products as plain batched matmuls {max(t_plain - t_linear, 0.0) * 1e3:.1f} ms)"
        )
        reg_all = "RAM-20 REG all"
        sampler_rate = flops[reg_all] / statistics.mean(times[reg_all])
        print(
            f"  whole {reg_all} sampler (text model included): {flops[reg_all] / 1e9:.1f} GFLOP in {statistics.mean(times[reg_all]):.3f} s = "
            f"{sampler_rate / 1e9:.1f} GFLOP/s -> {sampler_rate / plain_rate:.0%} of the matmul rate"
        )

    if args.throughput:
        print("\nthroughput: one call of B prompts, lengths uniform in 40-196 frames (seed 0), batch_size=B, REG all, w_c 1.5, no cleanup")
        print(f"  {'B':>4} {'sentences/s':>12} {'frames/s':>9} {'batches':>8}")
        for batch in args.throughput:
            rate, frame_rate, batches = throughput(pipe, batch, device)
            print(f"  {batch:>4} {rate:12.2f} {frame_rate:9.0f} {batches:>8}")
        if dtype != torch.float32:
            print("  (reduced precision batches only motions of one length: mixed lengths run as that many batches)")


if __name__ == "__main__":
    main()
