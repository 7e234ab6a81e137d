"""How well the shared mocap lands on the HumanML3D skeleton, per source (docs/mocap.md).

    python benchmarks/mocap_retarget.py --mocap ../shared/data/mocap --corpus build/mocap [--clips 40]

Prints Markdown tables:
  1. bone-length ratios of each source (placed by its preset, before retargeting) to the
     reference skeleton, per body part (median over clips of the median over frames);
  2. foot skating in contact phases: mean horizontal speed of the ankles and toes on
     frames whose HumanML3D contact flag is set, before retargeting (the source's own
     proportions, at 20 fps) and after (the corpus's joints);
  3. the joints -> features -> joints round trip of the built corpus (every file): max
     |error| between its new_joints and features_to_joints(joints_to_features(new_joints)),
     up to the one yaw the representation does not keep (its heading is smoothed).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ramotion.data.layout import Layout
from ramotion.mocap import corpus as C
from ramotion.motion.compare import yaw_aligned_error
from ramotion.motion.features import features_to_joints, joints_to_features
from ramotion.skeleton import HUMANML3D as SK

PARTS = {
    "legs": ("left_knee", "right_knee", "left_ankle", "right_ankle"),
    "feet": ("left_foot", "right_foot"),
    "hips": ("left_hip", "right_hip"),
    "spine": ("spine1", "spine2", "spine3", "neck"),
    "head": ("head",),
    "collars": ("left_collar", "right_collar"),
    "arms": ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"),
}
FEET = (7, 10, 8, 11)  # the contact flags' order: left ankle, left toe, right ankle, right toe


def bone_ratios(joints: np.ndarray) -> dict[str, float]:
    """Median-over-frames bone length / reference length, per body part (median over its bones)."""
    lengths = np.linalg.norm(joints[:, 1:] - joints[:, list(SK.parents[1:])], axis=-1)  # (T, 21)
    ratio = np.median(lengths, axis=0) / np.asarray(SK.bone_lengths[1:])
    return {part: float(np.median([ratio[SK.joint_names.index(n) - 1] for n in names])) for part, names in PARTS.items()}


def contact_skating(joints: np.ndarray) -> float:
    """Mean horizontal speed (m/s) of the foot joints on frames flagged in contact (features of `joints`, unretargeted)."""
    feats = joints_to_features(joints, retarget_to_reference=False)
    contacts = feats[:, -4:] > 0.5  # (T-1, 4)
    speed = np.linalg.norm(np.diff(joints[:, FEET][..., [0, 2]], axis=0), axis=-1) * SK.fps  # (T-1, 4)
    return float(speed[contacts].mean()) if contacts.any() else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mocap", default="../shared/data/mocap")
    parser.add_argument("--corpus", default="build/mocap", help="a corpus built by `ramotion data build-mocap`")
    parser.add_argument("--clips", type=int, default=40, help="clips per source for tables 1 and 2 (seeded sample)")
    args = parser.parse_args(argv)

    clips = C.list_clips(args.mocap)
    by_source: dict[str, list[C.Clip]] = defaultdict(list)
    for c in clips:
        by_source[c.source].append(c)
    rng = np.random.default_rng(0)
    ratios: dict[str, list[dict[str, float]]] = defaultdict(list)
    skate: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for source, items in sorted(by_source.items()):
        for k in sorted(rng.permutation(len(items))[: args.clips].tolist()):
            joints = C.clip_joints(items[k])
            if len(joints) < 3:
                continue
            ratios[source].append(bone_ratios(joints))
            retargeted = features_to_joints(joints_to_features(joints))
            skate[source].append((contact_skating(joints), contact_skating(np.asarray(retargeted, dtype=np.float64))))

    print(f"## Bone-length ratio to the reference skeleton (median over {args.clips} clips per source)\n")
    print("| source | " + " | ".join(PARTS) + " |")
    print("|---|" + "---:|" * len(PARTS))
    for source, rows in sorted(ratios.items()):
        print(f"| {source} | " + " | ".join(f"{np.median([r[p] for r in rows]):.2f}" for p in PARTS) + " |")
    print("\n## Foot skating in contact phases (mean horizontal foot speed on contact frames, m/s)\n")
    print("| source | before retargeting | after retargeting |")
    print("|---|---:|---:|")
    for source, rows in sorted(skate.items()):
        a = np.array(rows)
        print(f"| {source} | {np.nanmean(a[:, 0]):.3f} | {np.nanmean(a[:, 1]):.3f} |")

    layout = Layout.of(args.corpus)
    worst, n = 0.0, 0
    for path in sorted(layout.joints_dir.glob("*.npy")):
        joints = np.load(path).astype(np.float64)
        back = features_to_joints(joints_to_features(joints, retarget_to_reference=False))
        worst = max(worst, yaw_aligned_error(back, joints[:-1]))
        n += 1
    print(f"\n## Round trip\n\njoints -> features -> joints over all {n} motions of {args.corpus}, up to one yaw: max |error| {worst:.2e} m (target 1e-5)")
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
