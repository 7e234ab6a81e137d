"""Choosing the foot cleanup on the validation split: realism of one model's samples, raw and
under a grid of `CleanupConfig` settings, against the split's real motions.

    python benchmarks/cleanup.py --data build/mocap [--model DIR] [--split val] [--per-action 6]

Prompts and seeds are `ramotion.evaluation.mocap_suite.sample_prompts`' (the first caption
of up to --per-action motions per action, at their own lengths, seed 0); the model is
sampled once with its own sampler defaults and no cleanup, and every setting cleans the
same joints. Prints one row per setting, each metric as a ratio to the real motions'
(floating and penetration, zero in real motion, as plain values), and the real motions
cleaned with the chosen setting (a cleanup should leave real motion nearly as it is).

The bundled model's defaults (`CleanupConfig()`) were read off this table: the filter
width whose acceleration is closest to real, then the contact speed with the least skating.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from ramotion.data.layout import Layout, read_split
from ramotion.evaluation.mocap_suite import load_joints, sample_prompts
from ramotion.evaluation.realism import format_number, realism_report
from ramotion.motion.cleanup import CleanupConfig, clean_motion
from ramotion.pipeline import RAMPipeline

ZERO_IN_REAL = ("floating", "floating_est", "penetration", "penetration_frac")


def row(name: str, report: dict[str, float], real: dict[str, float]) -> str:
    cells = []
    for key, ref in real.items():
        value = report[key]
        cells.append(format_number(value, 3) if key in ZERO_IN_REAL or not ref else format_number(value / ref, 3))
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="the mocap corpus (ramotion data build-mocap)")
    ap.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    ap.add_argument("--split", default="val")
    ap.add_argument("--per-action", type=int, default=6)
    args = ap.parse_args()

    layout = Layout.of(Path(args.data))
    prompts = sample_prompts(layout, read_split(layout.split(args.split)), args.per_action, 0)
    pipe = RAMPipeline.from_pretrained(args.model)
    frames = [min(p["frames"], pipe.config.max_frames) for p in prompts]
    raw = [m.raw_joints.astype(np.float64) for m in pipe([p["caption"] for p in prompts], frames=frames, seed=0, batch_size=32, cleanup=False)]
    real_joints = [load_joints(layout, p["id"]) for p in prompts]
    real = realism_report(real_joints)

    print(f"{len(prompts)} {args.split} prompts of {args.data}; ratios to their real motions (floating, penetration: values)\n")
    print("| setting | " + " | ".join(real) + " |")
    print("|---|" + "---:|" * len(real))
    print(row("real motion's values", real, {k: 0 for k in real}))
    print(row("raw", realism_report(raw), real))
    grid = itertools.product((0.0, 0.5, 0.65, 0.75), (0.7, 1.0, 2.0))
    for sigma, speed in grid:
        cfg = CleanupConfig(smooth_sigma=sigma, contact_speed=speed)
        print(row(f"sigma {sigma:g}, contact speed {speed:g}", realism_report([clean_motion(j, config=cfg) for j in raw]), real), flush=True)
    default = CleanupConfig()
    print(row("real motion, cleaned with the defaults", realism_report([clean_motion(j, config=default) for j in real_joints]), real))


if __name__ == "__main__":
    main()
