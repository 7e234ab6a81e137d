"""Training-step time of the paper preset and the small CPU preset, fp32 vs bf16 autocast,
with the share of each step spent waiting for data (loading, collation, text-feature lookup).

    python benchmarks/train_step.py                       # random data in the HumanML3D layout
    python benchmarks/train_step.py --data ROOT --presets humanml3d --steps 10

Runs the real training loop (ramotion.train.Trainer) for a few steps per setting and reads
its per-step log; the first step (warm-up) is excluded. Prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch


def make_random_dataset(root: Path, n: int = 256, seed: int = 0) -> Path:
    """HumanML3D-like lengths (40..199 frames), 263-d random-walk features, two captions each."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    ids = [f"{i:06d}" for i in range(n)]
    verbs = ["walks forward", "runs in a circle", "jumps twice", "kicks with the left leg", "waves both hands", "turns around slowly"]
    for mid in ids:
        T = int(rng.integers(40, 200))
        feats = np.cumsum(rng.normal(scale=0.1, size=(T, 263)), axis=0).astype(np.float32)
        np.save(root / "new_joint_vecs" / f"{mid}.npy", feats)
        caps = [f"a person {verbs[rng.integers(len(verbs))]} then {verbs[rng.integers(len(verbs))]}" for _ in range(2)]
        (root / "texts" / f"{mid}.txt").write_text("".join(f"{c}#{' '.join(w + '/NOUN' for w in c.split())}#0.0#0.0\n" for c in caps))
    (root / "train.txt").write_text("\n".join(ids) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def measure(preset: str, precision: str, data: Path, run: Path, steps: int, cache: Path | None, batch: int | None) -> dict[str, float]:
    """Run `steps` training steps; median step time and data share over steps 2..N."""
    from ramotion.train import resolve_config
    from ramotion.train.trainer import train

    over = [f"steps={steps}", f"mixed_precision={precision}", "log_every=1", f"val_every={steps + 1}", f"ckpt_every={steps + 1}", "val_batches=0", "ema_decay=null"]
    if batch:
        over.append(f"batch_size={batch}")
    cfg = resolve_config(preset, over)
    train(cfg, data, run, progress=False, text_cache=cache)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["split"] == "train"][1:]
    step_s = statistics.median(1.0 / r["steps_per_s"] for r in rows)
    share = statistics.median(r["data_share"] for r in rows)
    return {"batch": cfg.batch_size, "step_s": step_s, "samples_per_s": cfg.batch_size / step_s, "data_share": share}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="dataset root (default: random data in a temp folder)")
    parser.add_argument("--presets", nargs="+", default=["humanml3d", "small"])
    parser.add_argument("--precisions", nargs="+", default=["no", "bf16"])
    parser.add_argument("--steps", type=int, default=4, help="steps per setting (the first is excluded)")
    parser.add_argument("--batch", type=int, default=None, help="override the presets' batch size")
    parser.add_argument("--text-cache", type=Path, default=None, help="token-feature cache (default $RAMOTION_CACHE/text_features)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {'cuda' if torch.cuda.is_available() else 'cpu'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data or make_random_dataset(tmp / "data")
        results = []
        for preset in args.presets:
            for precision in args.precisions:
                r = measure(preset, precision, data, tmp / f"run-{preset}-{precision}", args.steps, args.text_cache, args.batch)
                results.append((preset, precision, r))
                print(f"  {preset:10s} {precision:4s} batch {r['batch']:3d}: {r['step_s'] * 1000:8.0f} ms/step  data {r['data_share']:.1%}", flush=True)
    print()
    print(f"| preset | precision | batch | ms/step | samples/s | data-loading share | speed-up vs fp32 |")
    print(f"|---|---|---|---|---|---|---|")
    base = {p: r["step_s"] for p, prec, r in results if prec == "no"}
    for preset, precision, r in results:
        speed = f"{base[preset] / r['step_s']:.2f}x" if preset in base else "-"
        print(f"| {preset} | {'fp32' if precision == 'no' else precision} | {r['batch']} | {r['step_s'] * 1000:.0f} | {r['samples_per_s']:.1f} | {r['data_share']:.1%} | {speed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
