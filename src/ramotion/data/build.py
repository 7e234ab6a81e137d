"""Build a dataset in the HumanML3D layout from joint sequences and captions.

`build_dataset(root, items)` writes, for each `BuildItem`:
  new_joint_vecs/<id>.npy  (T-1, D) float32   features (`joints_to_features`, retargeted)
  new_joints/<id>.npy      (T-1, J, 3) float32  joints recovered from those features
  texts/<id>.txt           caption#word/POS ...#start#end
and the same for the mirrored copy M<id> (joints mirrored before extraction, "left" and
"right" swapped in the captions, same split as the original), then the split files
(train/val/test/all/train_val.txt) and Mean.npy/Std.npy.

Decisions (documented here and in `ramotion data build --help`):
- Splits: items with `split=None` are sorted by id, shuffled with `seed` and cut by
  `split_fractions` (rounded, test takes the rest); forced splits are kept as given and do
  not count towards the fractions. The assignment therefore does not depend on the order
  in which items arrive, and a resumed build gets the same splits.
- Mean/Std: over the train split *and its mirrors* (`stats_split="train"`), with the
  group averaging of spec §1. HumanML3D computed its stats over every file (all splits);
  pass `stats_split="all"` to do the same.
- Motions outside the loader's length range (spec §2: 40 <= T < 200 frames at 20 fps for
  HumanML3D) are still written, as HumanML3D does, and counted in the summary: the loader
  skips them.
- Resumable: every file is written atomically and an item's caption file is written last,
  so an item whose last caption file exists is finished. `.ramotion_build.json` records the
  build's settings (a resume with other settings is refused) and whether it completed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import shutil
import time
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..io_utils import save_npy, write_text
from ..motion.features import features_to_joints, joints_to_features
from ..motion.mirror import mirror_caption, mirror_joints
from ..motion.normalize import compute_stats
from ..motion.resample import resample
from ..skeleton import Skeleton, get_skeleton
from .layout import ALL_SPLITS, CaptionLine, Layout, write_captions, write_split
from .tagging import get_tagger

MANIFEST = ".ramotion_build.json"
MAX_LOADER_FRAMES = 200  # the community loader keeps T < 200
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class CaptionSpec:
    """One caption of a motion; start/end in seconds (0, 0 = the whole motion)."""

    text: str
    start: float = 0.0
    end: float = 0.0


@dataclass
class BuildItem:
    """One motion to add to a dataset."""

    id: str  # file stem, e.g. "000123"; mirrors get "M" + id
    joints: np.ndarray  # (T, J, 3) positions, metres, y up
    fps: float  # resampled to the skeleton's fps (20 for HumanML3D)
    captions: list[CaptionSpec]
    split: str | None = None  # force "train"/"val"/"test"; None = seeded random
    # Captions of the mirrored copy M<id>. None: the captions with "left" and "right"
    # swapped. Sources with labels caption the mirror from the mirrored label instead.
    mirror_captions: list[CaptionSpec] | None = None


@dataclass
class BuildSummary:
    """What a build wrote."""

    root: Path
    motions: int = 0  # originals (finished, including resumed ones)
    mirrors: int = 0
    resumed: int = 0  # items found finished and skipped
    captions: int = 0  # caption lines written, mirrors included
    frames: int = 0  # feature frames, mirrors included
    splits: dict[str, int] = field(default_factory=dict)  # ids per split, mirrors included
    too_short: int = 0  # originals the loader will skip (< min frames)
    too_long: int = 0  # originals the loader will skip (>= 200 frames)
    tagger: str = ""
    seconds: float = 0.0

    fps: float = 20.0  # the skeleton's frame rate

    @property
    def hours(self) -> float:
        """Hours of motion written (mirrors included)."""
        return self.frames / self.fps / 3600.0


@dataclass
class _Config:
    """The settings a worker needs; also what the manifest records."""

    skeleton: str
    seed: int
    split_fractions: tuple[float, float, float]
    mirror: bool
    retarget: bool
    stats_split: str
    tagger: str


@dataclass
class _Record:
    id: str
    split: str | None
    frames: int  # feature frames of the original
    captions: int
    resumed: bool


# ----------------------------------------------------------------------------- pieces


def _validate_item(item: BuildItem, sk: Skeleton) -> None:
    """Raise ValueError naming the item and its problem."""
    if not isinstance(item.id, str) or not _ID.match(item.id):
        raise ValueError(f"item id {item.id!r} is not a valid file stem (letters, digits, '_', '-', '.')")
    j = np.asarray(item.joints)
    if j.ndim != 3 or j.shape[1:] != (sk.num_joints, 3):
        raise ValueError(f"item {item.id}: joints must be (frames, {sk.num_joints}, 3), got {j.shape}")
    if not np.isfinite(j).all():
        raise ValueError(f"item {item.id}: joints contain NaN or infinite values")
    if not (np.isfinite(item.fps) and item.fps > 0):
        raise ValueError(f"item {item.id}: fps must be a positive number, got {item.fps}")
    if (len(j) - 1) * sk.fps / item.fps < 1.0 - 1e-9:
        raise ValueError(f"item {item.id}: {len(j)} frames at {item.fps:g} fps give fewer than 2 frames at {sk.fps:g} fps")
    if item.split is not None and item.split not in ("train", "val", "test"):
        raise ValueError(f"item {item.id}: split must be 'train', 'val', 'test' or None, got {item.split!r}")
    if not item.captions or (item.mirror_captions is not None and not item.mirror_captions):
        raise ValueError(f"item {item.id}: no captions")
    duration = (len(j) - 1) / item.fps
    for c in item.captions + (item.mirror_captions or []):
        if not c.text or not c.text.strip():
            raise ValueError(f"item {item.id}: empty caption")
        if "#" in c.text:
            raise ValueError(f"item {item.id}: caption {c.text!r} contains '#', which the caption format cannot hold")
        if not (c.start == 0.0 and c.end == 0.0) and not (0.0 <= c.start < c.end):
            raise ValueError(f"item {item.id}: caption span {c.start}..{c.end} s needs 0 <= start < end (or 0, 0)")
        if c.end > duration + 1.0 / max(item.fps, 1e-9) + 1e-6:
            raise ValueError(f"item {item.id}: caption span ends at {c.end} s, after the motion ({duration:.3f} s)")


def _caption_lines(captions: list[CaptionSpec], tagger, swap_sides: bool) -> list[CaptionLine]:  # noqa: ANN001
    out = []
    for c in captions:
        text = " ".join(c.text.split())  # one line, single spaces
        if swap_sides:
            text = mirror_caption(text)
        out.append(CaptionLine(caption=text, tokens=tagger(text), start=float(c.start), end=float(c.end)))
    return out


def _write_motion(layout: Layout, motion_id: str, joints: np.ndarray, sk: Skeleton, retarget: bool, lines: list[CaptionLine]) -> int:
    """Features, recovered joints and captions of one motion; the caption file last. Returns feature frames."""
    feats = joints_to_features(joints, sk, retarget_to_reference=retarget).astype(np.float32)  # (T-1, D)
    recovered = features_to_joints(feats, sk).astype(np.float32)  # (T-1, J, 3)
    save_npy(layout.features(motion_id), feats)
    save_npy(layout.joints(motion_id), recovered)
    write_captions(layout.text(motion_id), lines)
    return len(feats)


def _final_file(layout: Layout, item_id: str, mirror: bool) -> Path:
    return layout.text(f"M{item_id}" if mirror else item_id)


def _process(root: str, item: BuildItem, cfg: _Config) -> _Record:
    """Write one item (and its mirror). Runs in the main process or a worker."""
    sk = get_skeleton(cfg.skeleton)
    layout = Layout.of(root)
    _, tagger = get_tagger(cfg.tagger)
    joints = resample(item.joints, item.fps, sk.fps)  # (T', J, 3)
    frames = _write_motion(layout, item.id, joints, sk, cfg.retarget, _caption_lines(item.captions, tagger, False))
    if cfg.mirror:
        own = item.mirror_captions is not None
        lines = _caption_lines(item.mirror_captions if own else item.captions, tagger, swap_sides=not own)
        _write_motion(layout, f"M{item.id}", mirror_joints(joints, sk), sk, cfg.retarget, lines)
    return _Record(item.id, item.split, frames, len(item.captions), False)


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # one process per core


def assign_splits(records: list[tuple[str, str | None]], seed: int, fractions: tuple[float, float, float]) -> dict[str, str]:
    """id -> split. Forced splits kept; the rest sorted, shuffled with `seed`, cut by `fractions`."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split_fractions must be three non-negative numbers summing to 1, got {fractions}")
    out = {i: s for i, s in records if s is not None}
    free = sorted(i for i, s in records if s is None)
    order = np.random.default_rng(seed).permutation(len(free))
    n = len(free)
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    if n >= 3:  # a split asked for gets at least one motion
        n_val, n_test = max(n_val, int(fractions[1] > 0)), max(n_test, int(fractions[2] > 0))
    n_train = max(n - n_val - n_test, 0)
    n_val = min(n_val, n - n_train)
    for rank, k in enumerate(order):
        out[free[k]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    return out


# ----------------------------------------------------------------------------- driver


def _prepare_root(layout: Layout, cfg: _Config, force: bool, resume: bool) -> None:
    root = layout.root
    manifest = root / MANIFEST
    occupied = root.exists() and any(
        p.exists() for p in (layout.features_dir, layout.joints_dir, layout.texts_dir, layout.mean_path, manifest, *(layout.split(s) for s in ALL_SPLITS))
    )
    if resume and manifest.exists():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot resume: {manifest} is unreadable ({exc})") from None
        mine = json.loads(json.dumps(asdict(cfg)))
        diff = sorted(k for k in mine if old.get("config", {}).get(k) != mine[k])
        if diff:
            raise ValueError(f"cannot resume the build in {root}: its settings differ ({', '.join(diff)}); use force to start over")
    elif occupied and resume and not force:
        raise ValueError(f"cannot resume: {root} holds files but no build manifest ({MANIFEST}); use force to start over")
    elif occupied and force:
        for p in (layout.features_dir, layout.joints_dir, layout.texts_dir):
            shutil.rmtree(p, ignore_errors=True)
        for p in (layout.mean_path, layout.std_path, manifest, *(layout.split(s) for s in ALL_SPLITS)):
            p.unlink(missing_ok=True)
    elif occupied:
        raise FileExistsError(
            f"{root} already holds a dataset; pass force=True (--force) to overwrite it or resume=True (--resume) to continue a build"
        )
    for d in (layout.features_dir, layout.joints_dir, layout.texts_dir):
        d.mkdir(parents=True, exist_ok=True)
    write_text(manifest, json.dumps({"config": asdict(cfg), "complete": False}, indent=1))


def build_dataset(
    root: str | os.PathLike,
    items: Iterable[BuildItem],
    *,
    skeleton: str | Skeleton = "humanml3d",
    seed: int = 0,
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    mirror: bool = True,
    force: bool = False,
    resume: bool = False,
    retarget: bool = True,
    workers: int = 1,
    progress: bool = True,
    stats_split: str = "train",
    tagger: str = "auto",
    total: int | None = None,
) -> BuildSummary:
    """Write a dataset in the HumanML3D layout (see the module docstring) and return a summary.

    items may be a generator (motions are processed as they arrive, at most a few per
    worker in flight). workers > 1 uses a process pool. `total` sizes the progress bar when
    `items` has no len(). stats_split: "train" (default), "train_val" or "all". tagger:
    "auto" (spaCy when installed, else the rule tagger), "spacy" or "rules".
    """
    from tqdm.auto import tqdm

    start_time = time.perf_counter()
    sk = get_skeleton(skeleton)
    if stats_split not in ("train", "train_val", "all"):
        raise ValueError(f"stats_split must be 'train', 'train_val' or 'all', got {stats_split!r}")
    if retarget and sk.bone_lengths is None:
        raise ValueError(f"{sk.name} has no built-in reference skeleton to retarget to; pass retarget=False (--no-retarget)")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    split_fractions = tuple(float(f) for f in split_fractions)  # type: ignore[assignment]
    assign_splits([], seed, split_fractions)  # validates the fractions before any work
    tagger_name, _ = get_tagger(tagger)
    cfg = _Config(sk.name, int(seed), split_fractions, bool(mirror), bool(retarget), stats_split, tagger)
    layout = Layout.of(root)
    layout.root.mkdir(parents=True, exist_ok=True)
    _prepare_root(layout, cfg, force, resume)

    summary = BuildSummary(root=layout.root, tagger=tagger_name, fps=sk.fps)
    records: list[_Record] = []
    seen: set[str] = set()

    def accepted(item_iter: Iterable[BuildItem]) -> Iterator[BuildItem | _Record]:
        """Validate items and turn finished ones (on resume) into records."""
        for item in item_iter:
            _validate_item(item, sk)
            names = {item.id, f"M{item.id}"} if mirror else {item.id}
            clash = names & seen
            if clash:
                raise ValueError(f"item {item.id}: id {sorted(clash)[0]} is used twice (mirrors are named M<id>)")
            seen.update(names)
            if resume and _final_file(layout, item.id, mirror).exists():
                frames = len(np.load(layout.features(item.id), mmap_mode="r"))
                yield _Record(item.id, item.split, frames, len(item.captions), True)
            else:
                yield item

    n_total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)  # type: ignore[arg-type]
    bar = tqdm(total=n_total, disable=not progress, desc="build", unit="motion")
    try:
        if workers == 1:
            for it in accepted(items):
                records.append(it if isinstance(it, _Record) else _process(str(layout.root), it, cfg))
                bar.update(1)
        else:
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            pending: list[Future[_Record]] = []
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
                for it in accepted(items):
                    if isinstance(it, _Record):
                        records.append(it)
                        bar.update(1)
                        continue
                    pending.append(pool.submit(_process, str(layout.root), it, cfg))
                    while len(pending) >= 4 * workers:  # bound memory for generators
                        records.append(pending.pop(0).result())
                        bar.update(1)
                for fut in pending:
                    records.append(fut.result())
                    bar.update(1)
    finally:
        bar.close()
    if not records:
        raise ValueError("no items to build a dataset from")

    # Splits (mirrors follow their originals), then stats over the chosen split.
    split_of = assign_splits([(r.id, r.split) for r in records], seed, split_fractions)
    ids: dict[str, list[str]] = {s: [] for s in ("train", "val", "test")}
    for r in sorted(records, key=lambda r: r.id):
        ids[split_of[r.id]].append(r.id)
        if mirror:
            ids[split_of[r.id]].append(f"M{r.id}")
    ids["train_val"] = sorted(ids["train"] + ids["val"])
    ids["all"] = sorted(ids["train"] + ids["val"] + ids["test"])
    for name in ALL_SPLITS:
        write_split(layout.split(name), ids[name] if name in ("all", "train_val") else sorted(ids[name]))
    stat_ids = ids[stats_split]
    if not stat_ids:
        warnings.warn(f"split {stats_split!r} is empty; computing Mean/Std over all motions", stacklevel=2)
        stat_ids = ids["all"]
    mean, std = compute_stats((np.load(layout.features(i)) for i in stat_ids), sk)
    save_npy(layout.mean_path, mean)
    save_npy(layout.std_path, std)
    write_text(layout.root / MANIFEST, json.dumps({"config": asdict(cfg), "complete": True, "tagger": tagger_name}, indent=1))

    copies = 2 if mirror else 1
    summary.motions = len(records)
    summary.mirrors = len(records) if mirror else 0
    summary.resumed = sum(r.resumed for r in records)
    summary.captions = copies * sum(r.captions for r in records)
    summary.frames = copies * sum(r.frames for r in records)
    summary.splits = {s: len(ids[s]) for s in ("train", "val", "test")}
    summary.too_short = sum(r.frames < sk.min_frames for r in records)
    summary.too_long = sum(r.frames >= MAX_LOADER_FRAMES for r in records)
    summary.seconds = time.perf_counter() - start_time
    return summary
