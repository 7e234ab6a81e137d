"""Mean.npy / Std.npy for a dataset root, with the group averaging of spec §1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from ..io_utils import save_npy
from ..motion.normalize import EVALUATOR_DIVISORS, TRAIN_DIVISORS, compute_stats
from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim
from .layout import Layout, npy_shape, read_split


def dataset_stats(
    root: str | os.PathLike,
    split: str = "train",
    *,
    skeleton: str | Skeleton | None = None,
    evaluator: bool = False,
    write: bool = True,
    min_frames: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Std (D,) float32 over every frame of the motions in `split`.

    split: a split file name ("train", "train_val", "all", ...) or "*" for every file in
    new_joint_vecs (what HumanML3D did). evaluator=True divides the root and contact
    groups by 25 (the T2M evaluator's eval_mean/eval_std) and writes eval_mean.npy /
    eval_std.npy instead of Mean.npy / Std.npy. write=False only returns them.
    """
    layout = Layout.of(root)
    if not layout.features_dir.is_dir():
        raise FileNotFoundError(f"no {layout.features_dir.name}/ folder in {layout.root}")
    if split == "*":
        ids = sorted(p.stem for p in layout.features_dir.glob("*.npy"))
    else:
        ids = read_split(layout.split(split))
    missing = [i for i in ids if not layout.features(i).is_file()]
    if missing:
        raise FileNotFoundError(f"{split}.txt lists {len(missing)} ids without feature files, e.g. {missing[0]}")
    if not ids:
        raise ValueError(f"split {split!r} of {layout.root} is empty")
    if skeleton is None:
        skeleton = skeleton_for_feature_dim(npy_shape(layout.features(ids[0]))[0][-1])
    sk = get_skeleton(skeleton)

    def motions() -> Iterator[np.ndarray]:
        for i in ids:
            m = np.load(layout.features(i), allow_pickle=False)
            if len(m) >= min_frames:
                yield m

    mean, std = compute_stats(motions(), sk, EVALUATOR_DIVISORS if evaluator else TRAIN_DIVISORS)
    if write:
        names = ("eval_mean.npy", "eval_std.npy") if evaluator else (layout.mean_path.name, layout.std_path.name)
        save_npy(layout.root / names[0], mean)
        save_npy(layout.root / names[1], std)
    return mean, std
