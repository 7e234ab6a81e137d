"""Text-motion dataset over the HumanML3D / KIT-ML layout, with the community loader's rules.

Rules (spec §2, as in the T2M/MDM `Text2MotionDatasetV2`):
- keep motions with min_frames <= T < 200 (min 40 for HumanML3D, 24 for KIT-ML);
- a caption with a span (start#end seconds, not 0#0) becomes its own entry over frames
  int(start*fps) .. int(end*fps), kept under the same length rule;
- each item draws one of its captions at random;
- the length is cropped to a multiple of 4: with probability 2/3 floored to a multiple of
  4, else one unit of 4 shorter, at a uniformly random offset;
- z-normalised with ROOT/Mean.npy and ROOT/Std.npy; `collate` zero-pads to 196 frames and
  returns the frame mask.

Deterministic under a seed: item i of epoch e draws from a generator seeded with
(seed, e, i), so results do not depend on DataLoader workers or on the order of access.
Call `set_epoch` between epochs for new crops and captions.

Deviation, documented: spans are converted to frames with the skeleton's fps (12.5 for
KIT-ML); the community loader used 20 for both datasets. KIT-ML's released captions
have no partial spans, so this changes nothing there.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim
from .layout import CaptionFormatError, CaptionLine, Layout, load_npy, npy_shape, read_captions, read_split

MAX_FRAMES = 196  # padded length
MAX_SOURCE_FRAMES = 200  # the loader keeps T < 200
UNIT_LENGTH = 4


@dataclass
class Entry:
    """One dataset entry: a motion file (or a span of it) and the captions describing it."""

    id: str  # "<file id>" or "<file id>#<start frame>-<end frame>" for spans
    file_id: str
    start: int  # frames of the feature file
    end: int
    captions: list[CaptionLine]

    @property
    def length(self) -> int:
        return self.end - self.start


class MotionTextDataset(torch.utils.data.Dataset):
    """(motion, caption) items from a dataset root in the HumanML3D layout.

    Each item is a dict: motion (L, D) float32 normalised (L = cropped length, not padded),
    length int, caption str, tokens list[str] ("word/POS"), id str. Batch with `collate`.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        *,
        skeleton: str | Skeleton | None = None,
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
        min_frames: int | None = None,
        max_source_frames: int = MAX_SOURCE_FRAMES,
        max_frames: int = MAX_FRAMES,
        unit_length: int = UNIT_LENGTH,
        crop: bool = True,
        seed: int = 0,
        preload: bool = False,
        strict: bool = False,
        ids: list[str] | None = None,
    ) -> None:
        """
        root: dataset folder; split: a split file name ("train", "val", "test", ...) or None
            with `ids`. mean/std: default ROOT/Mean.npy and ROOT/Std.npy. crop=False returns
            each entry whole (up to max_frames); the caption is still drawn at random.
        preload: read all feature files into memory at once (fast epochs, more RAM).
        strict: raise on the first missing or malformed file instead of skipping it with
            a warning (the community loader skips silently).
        """
        self.layout = Layout.of(root)
        if not self.layout.root.is_dir():
            raise FileNotFoundError(f"dataset root not found: {self.layout.root}")
        if ids is None:
            ids = read_split(self.layout.split(split))
        self.split = split
        mean = load_npy(self.layout.mean_path) if mean is None else np.asarray(mean)
        std = load_npy(self.layout.std_path) if std is None else np.asarray(std)
        if mean.shape != std.shape or mean.ndim != 1:
            raise ValueError(f"Mean and Std must be vectors of one size, got {mean.shape} and {std.shape}")
        self.skeleton = get_skeleton(skeleton) if skeleton is not None else skeleton_for_feature_dim(mean.shape[0])
        if mean.shape[0] != self.skeleton.feature_dim:
            raise ValueError(f"Mean/Std have {mean.shape[0]} dims, {self.skeleton.name} features have {self.skeleton.feature_dim}")
        self.mean = mean.astype(np.float32)
        self.std = np.maximum(std.astype(np.float32), 1e-8)
        self.min_frames = self.skeleton.min_frames if min_frames is None else min_frames
        self.max_source_frames = max_source_frames
        self.max_frames = max_frames
        self.unit_length = unit_length
        self.crop = crop
        self.seed = seed
        self.epoch = 0
        self.entries, self.skipped = self._index(ids, strict)
        if not self.entries:
            first = f"; first: {'; '.join(self.skip_examples)}" if self.skip_examples else ""
            raise ValueError(f"no usable motions in {self.layout.root} split {split!r} ({self._skip_text()}{first})")
        self._cache: dict[str, np.ndarray] | None = None
        if preload:
            self._cache = {fid: load_npy(self.layout.features(fid)).astype(np.float32) for fid in {e.file_id for e in self.entries}}

    # -- indexing ---------------------------------------------------------------------------

    def _keep(self, n: int) -> bool:
        return self.min_frames <= n < self.max_source_frames

    def _index(self, ids: list[str], strict: bool) -> tuple[list[Entry], dict[str, int]]:
        entries: list[Entry] = []
        skipped = {"missing motion": 0, "missing captions": 0, "bad shape": 0, "malformed captions": 0, "length": 0}
        examples: list[str] = []  # the first problems, for the warning and the error
        self.skip_examples = examples
        D = self.skeleton.feature_dim
        fps = self.skeleton.fps
        for fid in ids:
            fpath, tpath = self.layout.features(fid), self.layout.text(fid)
            problem = None
            if not fpath.is_file():
                problem = ("missing motion", f"{fpath} not found")
            elif not tpath.is_file():
                problem = ("missing captions", f"{tpath} not found")
            if problem is None:
                shape, _ = npy_shape(fpath)
                if len(shape) != 2 or shape[1] != D:
                    problem = ("bad shape", f"{fpath} has shape {shape}, expected (frames, {D})")
            if problem is None:
                try:
                    lines = read_captions(tpath)
                except CaptionFormatError as exc:
                    problem = ("malformed captions", str(exc))
            if problem is not None:
                if strict:
                    raise ValueError(problem[1])
                skipped[problem[0]] += 1
                if len(examples) < 3:
                    examples.append(problem[1])
                continue
            T = shape[0]
            if not self._keep(T):
                skipped["length"] += 1
                continue
            whole = [c for c in lines if c.whole]
            for c in lines:
                if c.whole:
                    continue
                # Clamped before int(): a huge (finite) time would overflow it.
                s, e = int(min(c.start * fps, T)), int(min(c.end * fps, T))
                if self._keep(e - s):
                    entries.append(Entry(f"{fid}#{s}-{e}", fid, s, e, [c]))
            if whole:
                entries.append(Entry(fid, fid, 0, T, whole))
        if any(skipped.values()) and not strict:
            problems = {k: v for k, v in skipped.items() if v and k != "length"}
            if problems:
                warnings.warn(f"{self.layout.root} split {self.split!r}: skipped {self._skip_text(skipped)} (first: {'; '.join(examples)})", stacklevel=3)
        return entries, skipped

    def _skip_text(self, skipped: dict[str, int] | None = None) -> str:
        skipped = self.skipped if skipped is None else skipped
        return ", ".join(f"{v} {k}" for k, v in skipped.items() if v) or "nothing skipped"

    # -- items ------------------------------------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose crops and captions items draw (deterministic per epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.entries)

    def crop_length(self, length: int, rng: np.random.Generator) -> int:
        """The community's crop: 2/3 floor to a multiple of unit_length, 1/3 one unit shorter."""
        u = self.unit_length
        units = length // u
        if u < 10 and rng.integers(3) == 2:  # ('single', 'single', 'double') -> 'double'
            units -= 1
        return max(min(units * u, (self.max_frames // u) * u), u)

    def __getitem__(self, index: int) -> dict[str, Any]:
        entry = self.entries[index]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        caption = entry.captions[int(rng.integers(len(entry.captions)))]
        full = self._cache[entry.file_id] if self._cache is not None else load_npy(self.layout.features(entry.file_id))
        motion = full[entry.start : entry.end]  # (T, D)
        if self.crop:
            m = self.crop_length(len(motion), rng)
            offset = int(rng.integers(len(motion) - m + 1))
            motion = motion[offset : offset + m]
        else:
            motion = motion[: self.max_frames]
        motion = motion.astype(np.float32)  # a copy, normalised in place: (L, D)
        motion -= self.mean
        motion /= self.std
        return {"motion": motion, "length": len(motion), "caption": caption.caption, "tokens": list(caption.tokens), "id": entry.id}

    def collate(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        """Batch items, padding to this dataset's max_frames."""
        return collate(batch, self.max_frames)


def collate(batch: list[dict[str, Any]], max_frames: int = MAX_FRAMES) -> dict[str, Any]:
    """Items -> dict(motion (B, max_frames, D) float32 zero-padded, mask (B, max_frames) bool,
    length (B,) long, caption list[str], tokens list[list[str]], id list[str])."""
    if not batch:
        raise ValueError("cannot collate an empty batch")
    D = batch[0]["motion"].shape[-1]
    lengths = torch.tensor([b["length"] for b in batch], dtype=torch.long)
    if int(lengths.max()) > max_frames:
        raise ValueError(f"an item has {int(lengths.max())} frames, more than max_frames={max_frames}")
    # Padded in numpy: many small torch copies are slow when torch's thread pool is oversubscribed.
    motion = np.zeros((len(batch), max_frames, D), dtype=np.float32)
    for i, b in enumerate(batch):
        motion[i, : b["length"]] = b["motion"]
    mask: Tensor = torch.arange(max_frames)[None] < lengths[:, None]  # (B, max_frames)
    return {
        "motion": torch.from_numpy(motion),
        "mask": mask,
        "length": lengths,
        "caption": [b["caption"] for b in batch],
        "tokens": [b["tokens"] for b in batch],
        "id": [b["id"] for b in batch],
    }
