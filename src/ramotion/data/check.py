"""Validate a dataset root in the HumanML3D layout and summarise it per split.

Errors (the dataset is broken; `ramotion data check` exits with status 1):
- a split file (train/val/test.txt) is missing, or lists ids without a feature file;
- a split file is not UTF-8 text (file:line);
- a motion has no caption file, or its caption file has a malformed line (file:line): not
  UTF-8, not 4 fields, a span that is infinite, negative or ends before it starts, ...;
- a feature file is not (frames, D), a joints file is not (frames, J, 3) or its frame count
  differs from the features', or either contains NaN/inf;
- Mean.npy/Std.npy are missing, of the wrong size, non-finite, or Std has zeros;
- a split has no motion the loader can use.
Warnings (oddities): motions outside the loader's length range (it skips them; HumanML3D
itself has some), spans past the end of their motion, non-float32 arrays, ids listed
twice or in two splits, motions in no split, caption files without lines or tokens.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim
from .dataset import MAX_SOURCE_FRAMES
from .layout import FEATURES_DIR, JOINTS_DIR, SPLITS, TEXTS_DIR, CaptionFormatError, Layout, SplitFormatError, npy_shape, read_captions, read_split

HISTOGRAM_EDGES = (0, 40, 80, 120, 160, 200)  # feature frames; the last bin is ">= 200"
MAX_EXAMPLES = 5


@dataclass
class SplitSummary:
    """Counts for one split (only ids with a feature file count)."""

    motions: int = 0
    usable: int = 0  # motions whose length the loader keeps
    captions: int = 0
    frames: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(HISTOGRAM_EDGES))

    def hours(self, fps: float) -> float:
        return self.frames / fps / 3600.0


@dataclass
class CheckReport:
    """What `check_dataset` found."""

    root: Path
    skeleton: str
    fps: float
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    splits: dict[str, SplitSummary] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def table(self) -> str:
        """The per-split summary as a text table."""
        bins = [f"{a}-{b - 1}" for a, b in zip(HISTOGRAM_EDGES[:-1], HISTOGRAM_EDGES[1:])] + [f">={HISTOGRAM_EDGES[-1]}"]
        head = ["split", "motions", "usable", "captions", "hours"] + bins
        rows = [head]
        for name, s in self.splits.items():
            rows.append([name, str(s.motions), str(s.usable), str(s.captions), f"{s.hours(self.fps):.2f}"] + [str(c) for c in s.histogram])
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + f"\n(length histogram in feature frames at {self.fps:g} fps)"


def _examples(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_EXAMPLES])
    return shown + (f", ... ({len(ids) - MAX_EXAMPLES} more)" if len(ids) > MAX_EXAMPLES else "")


def _bin(n: int) -> int:
    return sum(n >= e for e in HISTOGRAM_EDGES[1:])


def check_dataset(
    root: str | os.PathLike,
    *,
    skeleton: str | Skeleton | None = None,
    splits: tuple[str, ...] = SPLITS,
    progress: bool = False,
) -> CheckReport:
    """Check every file the splits reference (and the stats); return errors, warnings and a summary."""
    from tqdm.auto import tqdm

    layout = Layout.of(root)
    if not layout.root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {layout.root}")
    errors: list[str] = []
    warns: list[str] = []

    # Stats decide the feature size unless a skeleton is given.
    stats: dict[str, np.ndarray] = {}
    for path in (layout.mean_path, layout.std_path):
        if not path.is_file():
            errors.append(f"{path.name} is missing (run `ramotion data stats {layout.root}`)")
            continue
        try:
            stats[path.name] = np.load(path, allow_pickle=False)
        except ValueError as exc:
            errors.append(f"{path.name} is not a readable .npy file ({exc})")
    if skeleton is not None:
        sk = get_skeleton(skeleton)
    else:
        sk = None
        dims = [a.shape[0] for a in stats.values() if a.ndim == 1]
        for d in dims:
            try:
                sk = skeleton_for_feature_dim(d)
                break
            except ValueError:
                pass
        if sk is None and layout.features_dir.is_dir():
            first = next(iter(sorted(layout.features_dir.glob("*.npy"))), None)
            if first is not None:
                shape, _ = npy_shape(first)
                try:
                    sk = skeleton_for_feature_dim(shape[-1])
                except ValueError:
                    pass
        sk = sk or get_skeleton("humanml3d")
    D, J = sk.feature_dim, sk.num_joints
    for name, arr in stats.items():
        if arr.shape != (D,):
            errors.append(f"{name} has shape {arr.shape}, expected ({D},) for {sk.name} features")
        elif not np.isfinite(arr).all():
            errors.append(f"{name} contains NaN or infinite values")
        elif name == "Std.npy" and (arr <= 0).any():
            errors.append(f"Std.npy has {int((arr <= 0).sum())} zero or negative entries (dims {np.flatnonzero(arr <= 0)[:MAX_EXAMPLES].tolist()})")

    # Split files.
    split_ids: dict[str, list[str]] = {}
    for name in splits:
        path = layout.split(name)
        if not path.is_file():
            errors.append(f"split file {path.name} is missing")
            continue
        try:
            ids = read_split(path)
        except SplitFormatError as exc:
            errors.append(str(exc).replace(str(layout.root) + os.sep, ""))
            continue
        dups = sorted(i for i, c in Counter(ids).items() if c > 1)
        if dups:
            warns.append(f"{path.name} lists {len(dups)} ids more than once: {_examples(dups)}")
        split_ids[name] = list(dict.fromkeys(ids))
    owner: dict[str, str] = {}
    for name, ids in split_ids.items():
        for i in ids:
            if i in owner and owner[i] != name:
                warns.append(f"id {i} is in both {owner[i]}.txt and {name}.txt")
            owner.setdefault(i, name)

    # Per-motion checks, once per id.
    info: dict[str, tuple[int, int] | None] = {}  # id -> (frames, captions), None if unusable
    missing_files: dict[str, list[str]] = {}
    bad_dtype: list[str] = []
    no_captions: list[str] = []
    empty_texts: list[str] = []
    no_tokens: list[str] = []
    past_end: list[str] = []
    all_ids = list(owner)
    for i in tqdm(all_ids, disable=not progress, desc="check", unit="motion"):
        fpath = layout.features(i)
        if not fpath.is_file():
            missing_files.setdefault(owner[i], []).append(i)
            info[i] = None
            continue
        try:
            feats = np.load(fpath, allow_pickle=False)
        except ValueError as exc:
            errors.append(f"{FEATURES_DIR}/{i}.npy is not a readable .npy file ({exc})")
            info[i] = None
            continue
        if feats.ndim != 2 or feats.shape[1] != D:
            errors.append(f"{FEATURES_DIR}/{i}.npy has shape {feats.shape}, expected (frames, {D})")
            info[i] = None
            continue
        if feats.dtype != np.float32:
            bad_dtype.append(f"{FEATURES_DIR}/{i}.npy")
        bad = ~np.isfinite(feats)
        if bad.any():
            frame = int(np.flatnonzero(bad.any(1))[0])
            errors.append(f"{FEATURES_DIR}/{i}.npy contains NaN or infinite values (first at frame {frame})")
        T = len(feats)
        if T == 0:
            errors.append(f"{FEATURES_DIR}/{i}.npy has no frames")
        jpath = layout.joints(i)
        if jpath.is_file():
            jshape, jdtype = npy_shape(jpath)
            if len(jshape) != 3 or jshape[1:] != (J, 3):
                errors.append(f"{JOINTS_DIR}/{i}.npy has shape {jshape}, expected (frames, {J}, 3)")
            elif jshape[0] != T:
                errors.append(f"{JOINTS_DIR}/{i}.npy has {jshape[0]} frames, {FEATURES_DIR}/{i}.npy has {T}")
            else:
                joints = np.load(jpath, allow_pickle=False)
                if not np.isfinite(joints).all():
                    errors.append(f"{JOINTS_DIR}/{i}.npy contains NaN or infinite values")
                if jdtype != np.float32:
                    bad_dtype.append(f"{JOINTS_DIR}/{i}.npy")
        tpath = layout.text(i)
        if not tpath.is_file():
            no_captions.append(i)
            info[i] = None
            continue
        try:
            lines = read_captions(tpath)
        except CaptionFormatError as exc:
            errors.append(str(exc).replace(str(layout.root) + os.sep, ""))
            info[i] = None
            continue
        if not lines:
            empty_texts.append(f"{TEXTS_DIR}/{i}.txt")
        duration = T / sk.fps
        for n, c in enumerate(lines, start=1):
            if not c.tokens:
                no_tokens.append(f"{TEXTS_DIR}/{i}.txt caption {n}")
            if not c.whole and c.end > duration + 1.0 / sk.fps:
                past_end.append(f"{TEXTS_DIR}/{i}.txt caption {n} ({c.start:g}..{c.end:g} s, motion {duration:.2f} s)")
        info[i] = (T, len(lines))

    for name, ids in missing_files.items():
        errors.append(f"{name}.txt lists {len(ids)} ids without {FEATURES_DIR}/<id>.npy: {_examples(ids)}")
    if no_captions:
        errors.append(f"{len(no_captions)} motions have no caption file in {TEXTS_DIR}/: {_examples(no_captions)}")
    if empty_texts:
        warns.append(f"{len(empty_texts)} caption files have no lines (the loader skips their motions): {_examples(empty_texts)}")
    if no_tokens:
        warns.append(f"{len(no_tokens)} captions have no word/POS tokens: {_examples(no_tokens)}")
    if past_end:
        warns.append(f"{len(past_end)} caption spans end after their motion: {_examples(past_end)}")
    if bad_dtype:
        warns.append(f"{len(bad_dtype)} arrays are not float32 (the loader converts them): {_examples(bad_dtype)}")

    # Length range and the summary table.
    report = CheckReport(layout.root, sk.name, sk.fps, errors, warns)
    lo, hi = sk.min_frames, MAX_SOURCE_FRAMES
    for name, ids in split_ids.items():
        s = SplitSummary()
        out_of_range = []
        for i in ids:
            if info.get(i) is None:
                continue
            T, n_cap = info[i]  # type: ignore[misc]
            s.motions += 1
            s.captions += n_cap
            s.frames += T
            s.histogram[_bin(T)] += 1
            if lo <= T < hi:
                s.usable += 1
            else:
                out_of_range.append(f"{i} ({T})")
        if out_of_range:
            warns.append(f"{name}.txt: {len(out_of_range)} motions outside the loader's {lo}..{hi - 1} frames are skipped: {_examples(out_of_range)}")
        if ids and s.usable == 0:
            errors.append(f"{name}.txt: no motion has a usable length ({lo}..{hi - 1} frames) with captions")
        report.splits[name] = s
    if layout.features_dir.is_dir():
        stray = sorted(p.stem for p in layout.features_dir.glob("*.npy") if p.stem not in owner)
        if stray:
            warns.append(f"{len(stray)} motions in {FEATURES_DIR}/ are in no split: {_examples(stray)}")
    return report
