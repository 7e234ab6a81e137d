"""How fast `ramotion synth` writes the procedural corpus (target: 5,000 motions + mirrors < 10 min on 2 cores).

Writes N motions (plus their mirrors) with `write_corpus` into a temporary folder
and reports wall time, the per-stage CPU cost (generation alone, feature extraction
alone, measured on a sample in this process) and the projection to 5,000 motions.

    python benchmarks/synth_speed.py [--motions 5000] [--workers 2] [--sample 50] [--keep DIR]

On a machine shared with other jobs, run it on a smaller --motions and read the
"projected to 5,000" line; the per-motion stage costs are CPU time, independent of load.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_MOTIONS = 5000
TARGET_SECONDS = 600.0


def stage_costs(sample: int) -> dict[str, float]:
    """CPU seconds per motion for generation and for feature extraction (original + mirror)."""
    from ramotion.motion.features import features_to_joints, joints_to_features
    from ramotion.motion.mirror import mirror_joints
    from ramotion.synth import make_item
    from ramotion.synth.corpus import held_out_pairs

    held = held_out_pairs(0)
    t0 = time.process_time()
    items = [make_item(0, i, held) for i in range(sample)]
    gen = (time.process_time() - t0) / sample
    t0 = time.process_time()
    for it in items:
        for j in (it.joints, mirror_joints(it.joints)):
            features_to_joints(joints_to_features(j, retarget_to_reference=False).astype(np.float32))
    feat = (time.process_time() - t0) / sample
    return {"generate": gen, "features+mirror": feat}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--motions", type=int, default=TARGET_MOTIONS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample", type=int, default=50, help="motions for the per-stage CPU costs")
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep it (default: a temporary folder)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from ramotion.synth import write_corpus

    costs = stage_costs(args.sample)
    print(f"CPU per motion: generate {costs['generate'] * 1e3:.1f} ms, features + mirror {costs['features+mirror'] * 1e3:.1f} ms")

    tmp = None
    root = args.keep
    if root is None:
        tmp = tempfile.mkdtemp(prefix="synth_speed_")
        root = Path(tmp) / "ds"
    try:
        t0 = time.perf_counter()
        summary = write_corpus(root, args.motions, seed=0, workers=args.workers, force=True, progress=False)
        wall = time.perf_counter() - t0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    rate = args.motions / wall
    projected = TARGET_MOTIONS / rate
    print(f"| motions | mirrors | workers | wall (s) | motions/s | projected 5,000 (s) | target (s) | ratio |")
    print(f"|---|---|---|---|---|---|---|---|")
    print(f"| {summary.motions} | {summary.mirrors} | {args.workers} | {wall:.1f} | {rate:.2f} | {projected:.0f} | {TARGET_SECONDS:.0f} | {projected / TARGET_SECONDS:.2f} |")
    print(f"({summary.hours:.2f} h of motion, {summary.captions} captions; ratio < 1 meets the target)")


if __name__ == "__main__":
    main()
