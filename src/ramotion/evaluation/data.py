"""The evaluation loader: test-split (caption, motion) pairs drawn the way the community's eval loader does.

Entries follow the layout's rules (spec §2): motions with min_frames <= T < 200, a
caption with a span becomes its own entry, each item draws one of its captions at
random and is cropped to a multiple of 4 frames (2/3: floor, 1/3: one unit shorter)
at a random offset. Batches are shuffled, of 32, with the last partial batch dropped.
Everything random comes from one seed, so a replication can be recomputed exactly.

Motions stay raw (de-normalised): the evaluator applies its own statistics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.layout import Layout, load_npy, npy_shape, read_captions, read_split
from ..skeleton import skeleton_for_feature_dim

MAX_FRAMES = 196
UNIT = 4


@dataclass
class Entry:
    """One evaluation entry: a motion (or a caption span of one) with its captions."""

    motion_id: str
    motion: np.ndarray  # (T, D) float32 raw features
    captions: list[tuple[str, list[str]]]  # (caption, word/POS tokens)


@dataclass
class EvalBatch:
    """A batch of the eval loader; `motions` is (B, max(lengths), D) raw features, zero-padded."""

    ids: list[str]
    captions: list[str]
    tokens: list[list[str]]
    lengths: np.ndarray  # (B,) int
    motions: np.ndarray  # (B, T, D) float32


class EvalDataset:
    """The test split of a dataset root as evaluation entries."""

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "test",
        fps: float | None = None,
        min_frames: int | None = None,
        max_frames: int = 200,
    ) -> None:
        """`fps` and `min_frames` default to the skeleton's of the feature size (HumanML3D 20 / 40, KIT 12.5 / 24)."""
        layout = Layout.of(root)
        if not Path(root).is_dir():
            raise FileNotFoundError(f"dataset root not found: {root}")
        ids = read_split(layout.split(split))
        first = next((layout.features(i) for i in ids if layout.features(i).is_file()), None)
        if first is None:
            raise ValueError(f"none of the {len(ids)} {split} ids of {root} has a features file in {layout.features_dir}")
        skeleton = skeleton_for_feature_dim(npy_shape(first)[0][-1])
        fps = float(skeleton.fps) if fps is None else fps
        min_frames = int(skeleton.min_frames) if min_frames is None else min_frames
        self.root = Path(root)
        self.split = split
        self.entries: list[Entry] = []
        dims = set()
        for mid in ids:
            fpath, tpath = layout.features(mid), layout.text(mid)
            if not fpath.is_file() or not tpath.is_file():
                continue
            motion = load_npy(fpath).astype(np.float32)
            dims.add(motion.shape[-1])
            if not min_frames <= len(motion) < max_frames:
                continue
            whole = []
            for line in read_captions(tpath):
                tokens = line.tokens or [f"{w}/OTHER" for w in line.caption.lower().split()]
                if line.whole:
                    whole.append((line.caption, tokens))
                    continue
                part = motion[int(line.start * fps) : int(line.end * fps)]
                if min_frames <= len(part) < max_frames:
                    self.entries.append(Entry(f"{mid}#{line.start}#{line.end}", part, [(line.caption, tokens)]))
            if whole:
                self.entries.append(Entry(mid, motion, whole))
        if not self.entries:
            raise ValueError(f"no usable {split} motions in {root} (lengths {min_frames}..{max_frames - 1} frames)")
        if len(dims) > 1:
            raise ValueError(f"{root} mixes feature sizes {sorted(dims)}")
        self.feature_dim = dims.pop()

    def __len__(self) -> int:
        return len(self.entries)

    def num_batches(self, batch_size: int = 32, max_samples: int | None = None) -> int:
        n = len(self) if max_samples is None else min(len(self), max_samples)
        return n // batch_size

    def batches(self, seed: int, batch_size: int = 32, max_samples: int | None = None) -> Iterator[EvalBatch]:
        """Shuffled batches (drop_last) with a random caption and crop per item, all from `seed`."""
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(self))
        n_batches = self.num_batches(batch_size, max_samples)
        if n_batches == 0:
            raise ValueError(f"the {self.split} split has {len(self)} entries: fewer than one batch of {batch_size}")
        for b in range(n_batches):
            items = [self._draw(self.entries[i], rng) for i in order[b * batch_size : (b + 1) * batch_size]]
            lengths = np.array([len(m) for _, _, _, m in items])
            motions = np.zeros((len(items), int(lengths.max()), self.feature_dim), dtype=np.float32)
            for k, (_, _, _, m) in enumerate(items):
                motions[k, : len(m)] = m
            yield EvalBatch(
                ids=[i[0] for i in items],
                captions=[i[1] for i in items],
                tokens=[i[2] for i in items],
                lengths=lengths,
                motions=motions,
            )

    @staticmethod
    def _draw(entry: Entry, rng: np.random.Generator) -> tuple[str, str, list[str], np.ndarray]:
        caption, tokens = entry.captions[rng.integers(len(entry.captions))]
        length = min(len(entry.motion), MAX_FRAMES)
        units = length // UNIT
        if rng.random() < 1.0 / 3.0:  # one unit shorter with probability 1/3
            units -= 1
        length = max(units, 1) * UNIT
        start = int(rng.integers(0, len(entry.motion) - length + 1))
        return entry.motion_id, caption, tokens, entry.motion[start : start + length]
