"""A small random dataset in the HumanML3D layout for the training tests (no real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

VERBS = ["walks", "runs", "jumps", "kicks", "waves", "turns", "crawls", "spins"]
WHERE = ["forward", "in a circle", "to the left", "to the right", "slowly", "quickly"]


def make_toy_dataset(root: Path, n_train: int = 10, n_val: int = 4, seed: int = 0) -> Path:
    """Write ROOT/new_joint_vecs, texts, train/val/test splits and Mean/Std (263-d features)."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(exist_ok=True)
    ids = [f"{i:06d}" for i in range(n_train + n_val)]
    for i, mid in enumerate(ids):
        T = int(rng.integers(44, 90))
        base = rng.normal(size=(1, 263)) * 0.5
        feats = base + np.cumsum(rng.normal(scale=0.1, size=(T, 263)), axis=0)
        np.save(root / "new_joint_vecs" / f"{mid}.npy", feats.astype(np.float32))
        lines = []
        for _ in range(2):
            cap = f"a person {VERBS[rng.integers(len(VERBS))]} {WHERE[rng.integers(len(WHERE))]}"
            toks = " ".join(f"{w}/NOUN" for w in cap.split())
            lines.append(f"{cap}#{toks}#0.0#0.0")
        (root / "texts" / f"{mid}.txt").write_text("\n".join(lines) + "\n")
    (root / "train.txt").write_text("\n".join(ids[:n_train]) + "\n")
    (root / "val.txt").write_text("\n".join(ids[n_train:]) + "\n")
    (root / "test.txt").write_text("\n".join(ids[n_train:]) + "\n")
    all_feats = np.concatenate([np.load(root / "new_joint_vecs" / f"{m}.npy") for m in ids])
    np.save(root / "Mean.npy", all_feats.mean(0).astype(np.float32))
    np.save(root / "Std.npy", all_feats.std(0).astype(np.float32))
    return root
