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
    layout = Layout.of(root)
    if not layout.root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {layout.root}")
    errors: list[str] = []
    warns: list[str] = []

    stats = _load_stats(layout, errors)
    sk = get_skeleton(skeleton) if skeleton is not None else _skeleton_of_data(layout, stats)  # stats decide the feature size
    _check_stats(stats, sk, errors)
    split_ids = _read_splits(layout, splits, errors, warns)
    owner = _split_of_each_id(split_ids, warns)
    motions = _check_motions(layout, sk, owner, errors, warns, progress)
    report = CheckReport(layout.root, sk.name, sk.fps, errors, warns)
    report.splits = _summarise_splits(split_ids, motions, sk, errors, warns)
    _warn_motions_in_no_split(layout, owner, warns)
    return report


# ---------------------------------------------------------------------- check_dataset's steps: stats


def _load_stats(layout: Layout, errors: list[str]) -> dict[str, np.ndarray]:
    """Mean.npy and Std.npy by file name, those that exist and load; an error for each other one."""
    stats: dict[str, np.ndarray] = {}
    for path in (layout.mean_path, layout.std_path):
        if not path.is_file():
            errors.append(f"{path.name} is missing (run `ramotion data stats {layout.root}`)")
            continue
        try:
            stats[path.name] = np.load(path, allow_pickle=False)
        except ValueError as exc:
            errors.append(f"{path.name} is not a readable .npy file ({exc})")
    return stats


def _skeleton_of_data(layout: Layout, stats: dict[str, np.ndarray]) -> Skeleton:
    """The skeleton whose feature size the stats have, else the first feature file has, else HumanML3D's."""
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
    return sk or get_skeleton("humanml3d")


def _check_stats(stats: dict[str, np.ndarray], sk: Skeleton, errors: list[str]) -> None:
    """An error for each stats array of the wrong shape for `sk`, with NaN/inf, or (Std) with zeros."""
    D = sk.feature_dim
    for name, arr in stats.items():
        if arr.shape != (D,):
            errors.append(f"{name} has shape {arr.shape}, expected ({D},) for {sk.name} features")
        elif not np.isfinite(arr).all():
            errors.append(f"{name} contains NaN or infinite values")
        elif name == "Std.npy" and (arr <= 0).any():
            errors.append(f"Std.npy has {int((arr <= 0).sum())} zero or negative entries (dims {np.flatnonzero(arr <= 0)[:MAX_EXAMPLES].tolist()})")


# ---------------------------------------------------------------------- check_dataset's steps: splits


def _read_splits(layout: Layout, splits: tuple[str, ...], errors: list[str], warns: list[str]) -> dict[str, list[str]]:
    """Each readable split's ids, once each and in file order; an error for a missing or
    unreadable split file, a warning for ids listed twice."""
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
    return split_ids


def _split_of_each_id(split_ids: dict[str, list[str]], warns: list[str]) -> dict[str, str]:
    """id -> the first split that lists it (in split order); a warning for each id in two splits."""
    owner: dict[str, str] = {}
    for name, ids in split_ids.items():
        for i in ids:
            if i in owner and owner[i] != name:
                warns.append(f"id {i} is in both {owner[i]}.txt and {name}.txt")
            owner.setdefault(i, name)
    return owner


# ---------------------------------------------------------------------- check_dataset's steps: motions


@dataclass
class _Oddities:
    """What the per-motion checks collect to report as one line per kind, after all motions."""

    missing_features: dict[str, list[str]] = field(default_factory=dict)  # split -> its ids without a feature file
    bad_dtype: list[str] = field(default_factory=list)  # arrays that are not float32
    no_captions: list[str] = field(default_factory=list)  # ids without a caption file
    empty_texts: list[str] = field(default_factory=list)  # caption files without lines
    no_tokens: list[str] = field(default_factory=list)  # captions without word/POS tokens
    past_end: list[str] = field(default_factory=list)  # caption spans that end after their motion


def _check_motions(
    layout: Layout, sk: Skeleton, owner: dict[str, str], errors: list[str], warns: list[str], progress: bool
) -> dict[str, tuple[int, int] | None]:
    """Check each listed motion once (features, joints, captions): id -> (frames, captions), None
    if the loader cannot use it. Errors about one file come in id order; the oddities found over
    all motions follow, one line per kind."""
    from tqdm.auto import tqdm

    odd = _Oddities()
    info: dict[str, tuple[int, int] | None] = {}
    for i in tqdm(list(owner), disable=not progress, desc="check", unit="motion"):
        info[i] = _check_motion(layout, sk, i, owner[i], errors, odd)
    _report_oddities(odd, errors, warns)
    return info


def _check_motion(layout: Layout, sk: Skeleton, i: str, split: str, errors: list[str], odd: _Oddities) -> tuple[int, int] | None:
    """One motion's features, joints and captions: (frames, captions), or None if it is unusable."""
    T = _check_features(layout, sk, i, split, errors, odd)
    if T is None:
        return None
    _check_joints(layout, sk, i, T, errors, odd)
    return _check_captions(layout, sk, i, T, errors, odd)


def _check_features(layout: Layout, sk: Skeleton, i: str, split: str, errors: list[str], odd: _Oddities) -> int | None:
    """The motion's frame count from its feature file, or None if the file is missing, unreadable
    or not (frames, D); NaN/inf and no frames are errors, but the motion is checked on."""
    fpath = layout.features(i)
    if not fpath.is_file():
        odd.missing_features.setdefault(split, []).append(i)
        return None
    try:
        feats = np.load(fpath, allow_pickle=False)
    except ValueError as exc:
        errors.append(f"{FEATURES_DIR}/{i}.npy is not a readable .npy file ({exc})")
        return None
    D = sk.feature_dim
    if feats.ndim != 2 or feats.shape[1] != D:
        errors.append(f"{FEATURES_DIR}/{i}.npy has shape {feats.shape}, expected (frames, {D})")
        return None
    if feats.dtype != np.float32:
        odd.bad_dtype.append(f"{FEATURES_DIR}/{i}.npy")
    bad = ~np.isfinite(feats)
    if bad.any():
        frame = int(np.flatnonzero(bad.any(1))[0])
        errors.append(f"{FEATURES_DIR}/{i}.npy contains NaN or infinite values (first at frame {frame})")
    T = len(feats)
    if T == 0:
        errors.append(f"{FEATURES_DIR}/{i}.npy has no frames")
    return T


def _check_joints(layout: Layout, sk: Skeleton, i: str, T: int, errors: list[str], odd: _Oddities) -> None:
    """The motion's joints file, if it has one: (T, J, 3) with T the features' frames, and finite."""
    jpath = layout.joints(i)
    if not jpath.is_file():
        return
    J = sk.num_joints
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
            odd.bad_dtype.append(f"{JOINTS_DIR}/{i}.npy")


def _check_captions(layout: Layout, sk: Skeleton, i: str, T: int, errors: list[str], odd: _Oddities) -> tuple[int, int] | None:
    """The motion's caption file: (frames, captions), or None if it is missing or malformed;
    notes empty files, captions without tokens and spans past the motion's end."""
    tpath = layout.text(i)
    if not tpath.is_file():
        odd.no_captions.append(i)
        return None
    try:
        lines = read_captions(tpath)
    except CaptionFormatError as exc:
        errors.append(str(exc).replace(str(layout.root) + os.sep, ""))
        return None
    if not lines:
        odd.empty_texts.append(f"{TEXTS_DIR}/{i}.txt")
    duration = T / sk.fps
    for n, c in enumerate(lines, start=1):
        if not c.tokens:
            odd.no_tokens.append(f"{TEXTS_DIR}/{i}.txt caption {n}")
        if not c.whole and c.end > duration + 1.0 / sk.fps:
            odd.past_end.append(f"{TEXTS_DIR}/{i}.txt caption {n} ({c.start:g}..{c.end:g} s, motion {duration:.2f} s)")
    return (T, len(lines))


def _report_oddities(odd: _Oddities, errors: list[str], warns: list[str]) -> None:
    """The collected oddities as one error or warning line per kind, with a few examples each."""
    for name, ids in odd.missing_features.items():
        errors.append(f"{name}.txt lists {len(ids)} ids without {FEATURES_DIR}/<id>.npy: {_examples(ids)}")
    if odd.no_captions:
        errors.append(f"{len(odd.no_captions)} motions have no caption file in {TEXTS_DIR}/: {_examples(odd.no_captions)}")
    if odd.empty_texts:
        warns.append(f"{len(odd.empty_texts)} caption files have no lines (the loader skips their motions): {_examples(odd.empty_texts)}")
    if odd.no_tokens:
        warns.append(f"{len(odd.no_tokens)} captions have no word/POS tokens: {_examples(odd.no_tokens)}")
    if odd.past_end:
        warns.append(f"{len(odd.past_end)} caption spans end after their motion: {_examples(odd.past_end)}")
    if odd.bad_dtype:
        warns.append(f"{len(odd.bad_dtype)} arrays are not float32 (the loader converts them): {_examples(odd.bad_dtype)}")


# ---------------------------------------------------------------------- check_dataset's steps: summary


def _summarise_splits(
    split_ids: dict[str, list[str]], motions: dict[str, tuple[int, int] | None], sk: Skeleton, errors: list[str], warns: list[str]
) -> dict[str, SplitSummary]:
    """Each split's counts and length histogram; a warning for motions outside the loader's length
    range, an error for a split with no usable motion."""
    summaries: dict[str, SplitSummary] = {}
    lo, hi = sk.min_frames, MAX_SOURCE_FRAMES
    for name, ids in split_ids.items():
        s = SplitSummary()
        out_of_range = []
        for i in ids:
            found = motions.get(i)
            if found is None:
                continue
            T, n_cap = found
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
        summaries[name] = s
    return summaries


def _warn_motions_in_no_split(layout: Layout, owner: dict[str, str], warns: list[str]) -> None:
    """A warning for feature files that no split lists."""
    if layout.features_dir.is_dir():
        stray = sorted(p.stem for p in layout.features_dir.glob("*.npy") if p.stem not in owner)
        if stray:
            warns.append(f"{len(stray)} motions in {FEATURES_DIR}/ are in no split: {_examples(stray)}")
