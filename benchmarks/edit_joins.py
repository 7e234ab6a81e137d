"""Joins of edited motions against real motion, and what body-part edits keep (issue 22).

    python benchmarks/edit_joins.py [--data build/mocap] [--clips 8] [--seed 0] [--real-clips 300]

On the bundled model (CPU, float32), for --clips clips of the corpus's test split (originals
only, at least 100 frames, drawn with --seed), each edited from its own first caption:

- continue: the clip's first 100 frames (5 s), continued for 2 s; one join (frame 100);
- inbetween: the clip's first 120 frames (or all, if shorter), first and last second kept; two
  joins, and the kept end's world position (keep_world on; and how far it lands with it off);
- body-part: the same 120 frames, right arm re-generated from "a person waves with the right
  hand"; the largest deviation of every other joint from the source, how far the right wrist
  moved (its mean distance from the source's), how much higher it got, and in how many edits
  (and sources) it rises above the head at some frame -- a crude check that the arm waves.

Each with REG on (the model's w_r) and off (w_r = 0) -- the bundled model's w_c is 0 -- and,
for the edits with joins, with the default join blending (0.5 s) and without it (MDM's plain
imposition of the kept part on every x0 estimate). Every row keeps the pipeline's other
defaults: rigid bones and, for in-betweening, the kept end's place in the world.

The join jump is the change of joint velocity across a join: for a join between frames b-1
and b, the larger of the accelerations ||p[t+1] - 2 p[t] + p[t-1]|| centred at t = b-1 and
t = b (both straddle the join), averaged over joints ("mean") or the largest joint ("max"), in
m/s^2 (x fps^2). The reference is the same quantity at every frame of --real-clips real clips
of the split (features -> joints): its 50th, 95th and 99th percentiles. "> real p95" is the
share of joins above the real 95th percentile (5% of real frames are, by definition). For
continue, "own" is the real clip's own value at the same frames (the original continues).
Without the corpus (no --data folder) the script says so and stops.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np
import torch

from ramotion.data.layout import Layout, load_npy, read_captions, read_split
from ramotion.motion.features import features_to_joints
from ramotion.motion.parts import part_joints
from ramotion.pipeline import RAMPipeline

CONTINUE_SOURCE, CONTINUE_NEW, INBETWEEN_FRAMES, KEEP_SECONDS = 100, 40, 120, 1.0
WAVE = "a person waves with the right hand"


def accelerations(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, J, 3) -> (T-2, J) acceleration magnitudes at frames 1..T-2, m/s^2."""
    return np.linalg.norm(joints[2:] - 2 * joints[1:-1] + joints[:-2], axis=-1) * fps**2


def join_jump(joints: np.ndarray, b: int, fps: float) -> tuple[float, float]:
    """(mean over joints, max over joints) of the larger acceleration centred at b-1 and b."""
    acc = accelerations(joints[b - 2 : b + 2], fps)  # centred at b-1 and b: (2, J)
    return float(acc.mean(axis=1).max()), float(acc.max(axis=1).max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/mocap", help="HumanML3D-layout corpus with test.txt (default build/mocap)")
    ap.add_argument("--clips", type=int, default=8, help="clips to edit (default 8)")
    ap.add_argument("--real-clips", type=int, default=300, help="real clips for the reference distribution (default 300)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    layout = Layout.of(args.data)
    if not layout.split("test").is_file():
        print(f"no corpus at {args.data} (a HumanML3D-layout folder with test.txt): nothing to measure", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    pipe = RAMPipeline.from_pretrained(device="cpu", dtype="float32")
    fps = float(pipe.skeleton.fps)
    ids = [i for i in read_split(layout.split("test")) if not i.startswith("M")]
    rng = random.Random(args.seed)

    # Real reference: per-frame accelerations of real clips.
    real_mean, real_max = [], []
    for mid in rng.sample(ids, min(args.real_clips, len(ids))):
        acc = accelerations(np.asarray(features_to_joints(load_npy(layout.features(mid)))), fps)  # (T-2, J)
        real_mean.append(acc.mean(axis=1))
        real_max.append(acc.max(axis=1))
    real_mean_all, real_max_all = np.concatenate(real_mean), np.concatenate(real_max)
    ref = {k: np.percentile(v, [50, 95, 99]) for k, v in (("mean", real_mean_all), ("max", real_max_all))}

    long_ids = [i for i in ids if load_npy(layout.features(i)).shape[0] >= CONTINUE_SOURCE]
    chosen = rng.sample(long_ids, min(args.clips, len(long_ids)))
    kept_joints = [j for j in range(pipe.skeleton.num_joints) if j not in part_joints("right_arm", pipe.skeleton)]
    wrist, head = pipe.skeleton.joint_names.index("right_wrist"), pipe.skeleton.joint_names.index("head")
    default_reg = pipe.default_sampler()["w_reg"]
    rows: dict[tuple[str, str, str], dict[str, list[float]]] = {}

    def add(key: tuple[str, str, str], **values: float) -> None:
        for name, v in values.items():
            rows.setdefault(key, {}).setdefault(name, []).append(v)

    def speed(joints: np.ndarray) -> float:
        """Mean joint speed (m/s) of a run of frames (T, J, 3)."""
        return float(np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean() * fps)

    start = time.perf_counter()
    for mid in chosen:
        feats = load_npy(layout.features(mid)).astype(np.float32)[: pipe.config.max_frames]
        prompt = read_captions(layout.text(mid))[0].caption
        src_joints = np.asarray(features_to_joints(feats))
        src = feats[:INBETWEEN_FRAMES]
        n, k = len(src), int(round(KEEP_SECONDS * fps))
        for reg_name, w_reg in (("on", default_reg), ("off", 0.0)):
            opts = dict(seed=args.seed, w_reg=w_reg, reg_steps="all" if w_reg else "none")
            for blend_name, blend in (("0.5 s", 0.5), ("none", 0.0)):
                key = (reg_name, blend_name)
                cont = pipe.continue_motion(prompt, feats[:CONTINUE_SOURCE], frames=CONTINUE_NEW, blend_seconds=blend, **opts)[0]
                m, x = join_jump(cont.joints, CONTINUE_SOURCE, fps)
                add(("continue", *key), mean=m, max=x, kept_err=float(np.abs(cont.joints[:CONTINUE_SOURCE] - src_joints[:CONTINUE_SOURCE]).max()))
                add(("continue", *key), gen_speed=speed(cont.joints[CONTINUE_SOURCE:]))
                if len(feats) > CONTINUE_SOURCE + 1:
                    add(("continue", *key), own_mean=join_jump(src_joints, CONTINUE_SOURCE, fps)[0])
                ib = pipe.inbetween(prompt, src, keep_first=KEEP_SECONDS, keep_last=KEEP_SECONDS, blend_seconds=blend, **opts)[0]
                for b in (k, n - k):
                    m, x = join_jump(ib.joints, b, fps)
                    add(("inbetween", *key), mean=m, max=x)
                add(("inbetween", *key), kept_err=float(np.abs(ib.joints[n - k :] - src_joints[n - k : n]).max()), gen_speed=speed(ib.joints[k : n - k]))
                if blend:
                    free = pipe.inbetween(prompt, src, keep_first=KEEP_SECONDS, keep_last=KEEP_SECONDS, keep_world=False, blend_seconds=blend, **opts)[0]
                    add(("inbetween", *key), free_drift=float(np.linalg.norm(free.joints[n - k, 0, [0, 2]] - src_joints[n - k, 0, [0, 2]])))
            bp = pipe.edit_body_part(WAVE, src, "right_arm", **opts)[0]
            add(
                ("body-part", reg_name, "-"),
                kept_err=float(np.abs(bp.joints[:, kept_joints] - src_joints[:n, kept_joints]).max()),
                wrist_moved=float(np.linalg.norm(bp.joints[:, wrist] - src_joints[:n, wrist], axis=-1).mean()),
                wrist_height=float(bp.joints[:, wrist, 1].max() - src_joints[:n, wrist, 1].max()),
                above_head=float((bp.joints[:, wrist, 1] > bp.joints[:, head, 1]).any()),
                src_above_head=float((src_joints[:n, wrist, 1] > src_joints[:n, head, 1]).any()),
            )
    elapsed = time.perf_counter() - start

    print(f"bundled model, {len(chosen)} test clips of {args.data} ({elapsed:.0f} s), reference: {len(real_mean)} real clips, {len(real_mean_all)} frames")
    print(f"real acceleration, m/s^2   mean over joints: p50 {ref['mean'][0]:.2f}  p95 {ref['mean'][1]:.2f}  p99 {ref['mean'][2]:.2f}")
    print(f"                           max over joints:  p50 {ref['max'][0]:.2f}  p95 {ref['max'][1]:.2f}  p99 {ref['max'][2]:.2f}")
    print()
    print("| edit | REG | join blend | joins | jump, mean joint: p50 / max | > real p95 | jump, max joint: p50 / max | > real p95 | kept joints max err (m) | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (mode, reg_name, blend_name), r in sorted(rows.items()):
        kept = f"{max(r['kept_err']):.1e}"
        if mode == "body-part":
            notes = (
                f"right wrist {np.mean(r['wrist_moved']) * 100:.1f} cm from the source's on average; its highest point {np.mean(r['wrist_height']) * 100:+.1f} cm; "
                f"above the head in {np.mean(r['above_head']):.0%} of edits (sources: {np.mean(r['src_above_head']):.0%})"
            )
            print(f"| {mode} | {reg_name} | - | - | - | - | - | - | {kept} | {notes} |")
            continue
        mean, mx = np.array(r["mean"]), np.array(r["max"])
        notes = [f"generated frames move at {np.mean(r['gen_speed']):.2f} m/s"]
        if "own_mean" in r:
            notes.append(f"the real clip's own jump there: p50 {np.median(r['own_mean']):.2f}")
        if "free_drift" in r:
            notes.append(f"with keep_world=False the kept end lands {np.median(r['free_drift']):.2f} m (median) off")
        print(
            f"| {mode} | {reg_name} | {blend_name} | {len(mean)} | {np.median(mean):.2f} / {mean.max():.2f} | {np.mean(mean > ref['mean'][1]):.0%} | "
            f"{np.median(mx):.2f} / {mx.max():.2f} | {np.mean(mx > ref['max'][1]):.0%} | {kept} | {'; '.join(notes)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
