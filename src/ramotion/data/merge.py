"""Merge datasets in the HumanML3D layout into one training set, with a weight per source.

`merge_datasets(out, [(path, weight, prefix), ...])` writes OUT in the HumanML3D layout
(new_joint_vecs/, new_joints/, texts/, train/val/test/all/train_val.txt, Mean.npy/Std.npy)
from complete source datasets of one feature size.

Ids. Every motion of a source gets that source's prefix (default: the source folder's name
+ "_"), so ids of different sources cannot clash: an original `<id>` becomes
`<prefix><id>`, and a mirror `M<id>` (an id "M" + x where x is also an id of the source)
becomes `M<prefix><id>`. The HumanML3D convention "mirror = M + original id" therefore
holds in the merged set, and tools that pair `M<id>` with `<id>` keep working. An id that
starts with "M" without its rest being an id of the source is an original (`<prefix>M...`).
Prefixes must be valid file stems (letters, digits, '_', '-', '.', not starting with
'_', '-' or '.') or empty (ids kept as they are); two merged ids that coincide are an error.

Weights. A positive real per source; only their ratios matter. Source i gets the integer
repeat count r_i = max(1, round(w_i / min_j w_j)) (rounded half up), and OUT/train.txt lists
source i's train ids (as its train.txt lists them, repeats included) r_i times. Because the
loader (`MotionTextDataset`) keeps every line of a split file, including repeated ones, the
weight multiplies how often each of that source's motions is drawn relative to the motions
of the other sources: with weights 1 and 3, every motion of the second source is drawn 3
times as often as every motion of the first. The expected share of training samples of
source i is r_i * n_i / sum_j r_j * n_j, with n_i the lines of its train.txt; the summary
and the manifest report it, and `MergeSummary.warnings` names any weight whose rounding
changes its ratio by more than 10% (weights 1 and 1.4 both give r = 1). Strictly, this is
the share of train.txt lines; the loader's entries follow it when the sources' motions give
alike numbers of entries (caption spans add entries, motions outside the loader's length
range are skipped). val/test/all/train_val are
unrepeated unions. `ramotion data check` warns that train.txt lists ids more than once: that
is the weighting.

Mean/Std are recomputed with `compute_stats`, as `build_dataset` does, over the *unique*
motions of OUT's `stats_split` (default "train": every train motion once, mirrors included
as the split lists them). Repetition does not weight the statistics: they describe the
data, not the sampling. (`ramotion data stats OUT` reads train.txt as listed, repeats
included, and would give repeat-weighted statistics.)

Other files. A source's top-level JSON files (e.g. held_out_compositions.json, synth.json,
summary.json, and its own build or merge manifest) are copied verbatim into
OUT/sources/<prefix>/ (a nested merge's sources/ folder too), so nothing is lost; the ids in
them are the source's own, and claims such as "held out of training" hold for that source
only. Per-motion programs (ROOT/programs/<id>.json of a procedural corpus) are carried into
OUT/programs/<merged id>.json, so semantic checks find them under the merged ids.

Files are hard-linked (`os.link`) when `link` is true and the filesystem allows it, else
copied. Hard links share the source's data: tools that write atomically (rename a new
file into place, as ramotion does) never change both, but editing a file in place would.

Atomic. Everything is written into a hidden temporary folder beside OUT, which is renamed
onto OUT only when complete, so an interrupted merge never leaves a half dataset at OUT
(on an exception the temporary folder is removed). `.ramotion_merge.json` records the
sources, prefixes, weights, repeats, shares and the merged ids of each source, with
"complete": true written last. An occupied OUT is refused unless `force`, which replaces it
(only when it looks like a dataset) after the new one is complete.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io_utils import current_umask, save_npy, write_text
from ..motion.normalize import compute_stats
from ..skeleton import Skeleton, get_skeleton, skeleton_for_feature_dim
from .build import MANIFEST as BUILD_MANIFEST
from .layout import ALL_SPLITS, FEATURES_DIR, SPLITS, TEXTS_DIR, Layout, npy_shape, read_split, write_split

MANIFEST = ".ramotion_merge.json"
SOURCES_DIR = "sources"
PROGRAMS_DIR = "programs"
MAX_REPEAT = 1000  # a larger weight ratio is almost certainly a mistake
ROUNDING_WARN = 0.10  # warn when rounding changes a weight ratio by more than this
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

@dataclass
class SourceInfo:
    """What the merge took from one source."""

    path: Path
    prefix: str
    weight: float
    repeat: int  # times the source's train list is repeated in OUT/train.txt
    motions: int = 0  # originals
    mirrors: int = 0
    splits: dict[str, int] = field(default_factory=dict)  # unique ids per split (train/val/test)
    train_lines: int = 0  # lines of the source's own train.txt (its sampling mass)
    train_share: float = 0.0  # expected share of OUT's training samples
    extras: list[str] = field(default_factory=list)  # files copied to OUT/sources/<key>/
    extras_dir: str = ""  # "sources/<key>" relative to OUT
    programs: int = 0  # programs carried into OUT/programs/
    ids: dict[str, str] = field(default_factory=dict, repr=False)  # source id -> merged id


@dataclass
class MergeSummary:
    """What `merge_datasets` wrote."""

    root: Path
    sources: list[SourceInfo]
    skeleton: str
    feature_dim: int
    stats_split: str
    stats_motions: int = 0  # unique motions Mean/Std were computed over
    splits: dict[str, int] = field(default_factory=dict)  # lines per split file (train: with repeats)
    unique_train: int = 0
    linked: int = 0
    copied: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        """Per-source motions, repeats and shares of training samples as a text table."""
        head = ["source", "prefix", "weight", "repeat", "motions", "mirrors", "train", "val", "test", "train share"]
        rows = [head]
        for s in self.sources:
            rows.append([
                str(s.path), s.prefix or "''", f"{s.weight:g}", str(s.repeat), str(s.motions), str(s.mirrors),
                str(s.splits.get("train", 0)), str(s.splits.get("val", 0)), str(s.splits.get("test", 0)), f"{100 * s.train_share:.1f}%",
            ])
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


@dataclass
class _Plan:
    """One validated source: its ids and where they go."""

    info: SourceInfo
    layout: Layout
    split_lists: dict[str, list[str]]  # source split name -> ids as listed
    all_ids: list[str]  # every id of the source (union of its split files), first-seen order
    extras: list[Path]  # top-level JSON files and a nested sources/ folder
    key: str  # folder name under OUT/sources/


# ----------------------------------------------------------------------------- validation


def default_prefix(path: str | os.PathLike) -> str:
    """The default id prefix of a source: its folder's name + "_"."""
    return Path(path).resolve().name + "_"


def repeat_counts(weights: Sequence[float]) -> list[int]:
    """Integer repeats r_i = max(1, round(w_i / min w)) (half up) for positive weights."""
    try:
        ws = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ValueError(f"weights must be positive numbers, got {list(weights)!r}") from None
    for w in ws:
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"weights must be positive numbers, got {w!r}")
    weights, lo = ws, min(ws)
    reps = [max(1, int(math.floor(w / lo + 0.5))) for w in weights]
    if max(reps) > MAX_REPEAT:
        raise ValueError(f"weight ratio {max(weights) / lo:g} gives a repeat count over {MAX_REPEAT}; use closer weights")
    return reps


def _mapped(motion_id: str, prefix: str, ids: set[str]) -> str:
    """The merged id: prefix + id for originals, "M" + prefix + id for mirrors M<id>."""
    if motion_id.startswith("M") and motion_id[1:] in ids:
        return f"M{prefix}{motion_id[1:]}"
    return prefix + motion_id


def _source_complete(root: Path) -> None:
    """Refuse a source whose own build or merge manifest says it did not finish."""
    for name, hint in ((BUILD_MANIFEST, "`ramotion data build --resume`"), (MANIFEST, "`ramotion data merge --force`")):
        path = root / name
        if not path.is_file():
            continue
        try:
            complete = json.loads(path.read_text(encoding="utf-8")).get("complete", True)
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if complete is False:
            raise ValueError(f"source {root}: {name} says its build did not complete; finish it with {hint} first")


def _plan_source(path: Path, weight: float, prefix: str, repeat: int, dim: int | None, dim_from: str = "") -> tuple[_Plan, int]:
    """Validate one source (complete dataset, feature size) and list its ids. Returns the plan and D."""
    layout = Layout.of(path)
    if not path.is_dir():
        raise FileNotFoundError(f"source dataset not found: {path}")
    _source_complete(path)
    for p in (layout.features_dir, layout.texts_dir):
        if not p.is_dir():
            raise ValueError(f"source {path} is not a complete dataset: no {p.name}/ folder")
    stats = []
    for p in (layout.mean_path, layout.std_path):
        if not p.is_file():
            raise ValueError(f"source {path} is not a complete dataset: {p.name} is missing (run `ramotion data stats {path}`)")
        shape, _ = npy_shape(p)
        if len(shape) != 1:
            raise ValueError(f"source {path}: {p.name} has shape {shape}, expected a vector")
        stats.append(shape[0])
    if stats[0] != stats[1]:
        raise ValueError(f"source {path}: Mean.npy has {stats[0]} dims but Std.npy has {stats[1]}")
    D = stats[0]
    if dim is not None and D != dim:
        raise ValueError(
            f"source {path} has {D}-dim features (Mean.npy) but the merge needs {dim} ({dim_from}): all sources must have the same feature size"
        )

    split_lists: dict[str, list[str]] = {}
    for name in ALL_SPLITS:
        sp = layout.split(name)
        if name in SPLITS and not sp.is_file():
            raise ValueError(f"source {path} is not a complete dataset: split file {sp.name} is missing")
        if sp.is_file():
            split_lists[name] = read_split(sp)
    all_ids = list(dict.fromkeys(i for ids in split_lists.values() for i in ids))
    if not all_ids:
        raise ValueError(f"source {path}: its split files list no motions")
    id_set = set(all_ids)
    info = SourceInfo(path=path, prefix=prefix, weight=float(weight), repeat=repeat)
    for i in all_ids:
        fpath = layout.features(i)
        if not fpath.is_file():
            raise ValueError(f"source {path} is not a complete dataset: {FEATURES_DIR}/{i}.npy is missing")
        shape, _ = npy_shape(fpath)
        if len(shape) != 2 or shape[1] != D:
            raise ValueError(f"source {path}: {FEATURES_DIR}/{i}.npy has shape {shape}, expected (frames, {D}) like its Mean.npy")
        if not layout.text(i).is_file():
            raise ValueError(f"source {path} is not a complete dataset: {TEXTS_DIR}/{i}.txt is missing")
        new = _mapped(i, prefix, id_set)
        if not _STEM.match(new):
            raise ValueError(f"source {path}: id {i!r} with prefix {prefix!r} gives {new!r}, not a valid file stem")
        info.ids[i] = new
        if i.startswith("M") and i[1:] in id_set:
            info.mirrors += 1
        else:
            info.motions += 1
    info.splits = {s: len(set(split_lists[s])) for s in SPLITS}
    info.train_lines = len(split_lists["train"])
    extras = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".json")
    if (path / SOURCES_DIR).is_dir():
        extras.append(path / SOURCES_DIR)
    return _Plan(info, layout, split_lists, all_ids, extras, ""), D


def _transfer(src: Path, dst: Path, link: bool) -> bool:
    """Hard-link src to dst when asked and possible, else copy it. True when linked."""
    if link:
        try:
            os.link(src, dst)
            return True
        except OSError:  # another filesystem, links not allowed, ...
            pass
    shutil.copyfile(src, dst)
    return False


def _looks_like_dataset(root: Path) -> bool:
    """True when root holds a manifest, a split file, features or stats (safe to replace with force)."""
    names = (MANIFEST, BUILD_MANIFEST, FEATURES_DIR, TEXTS_DIR, "Mean.npy", *(f"{s}.txt" for s in ALL_SPLITS))
    return any((root / n).exists() for n in names)


def _manifest(summary: MergeSummary, plans: list[_Plan], link: bool, complete: bool) -> str:
    """The text of .ramotion_merge.json: settings, sources, weights, shares and merged ids."""
    return json.dumps({
        "tool": "ramotion data merge",
        "complete": complete,
        "skeleton": summary.skeleton,
        "feature_dim": summary.feature_dim,
        "stats_split": summary.stats_split,
        "stats": "Mean/Std over the unique motions of the stats split (repeats do not weight them)",
        "link": link,
        "id_scheme": "original <id> -> <prefix><id>; mirror M<id> -> M<prefix><id>",
        "weighting": "OUT/train.txt lists each source's train list `repeat` times; repeat = max(1, round(weight / min weight))",
        "splits": summary.splits,
        "files": {"linked": summary.linked, "copied": summary.copied},
        "sources": [
            {
                "path": str(p.info.path), "prefix": p.info.prefix, "weight": p.info.weight, "repeat": p.info.repeat,
                "train_share": p.info.train_share, "train_lines": p.info.train_lines, "motions": p.info.motions,
                "mirrors": p.info.mirrors, "splits": p.info.splits, "extras_dir": p.info.extras_dir,
                "extras": p.info.extras, "programs": p.info.programs, "ids": sorted(p.info.ids.values()),
            }
            for p in plans
        ],
    }, indent=1) + "\n"


# ----------------------------------------------------------------------------- driver


def merge_datasets(
    out: str | os.PathLike,
    sources: Sequence[tuple[str | os.PathLike, float, str | None] | tuple[str | os.PathLike, float]],
    *,
    skeleton: str | Skeleton | None = "humanml3d",
    force: bool = False,
    link: bool = True,
    stats_split: str = "train",
    progress: bool = False,
) -> MergeSummary:
    """Merge complete datasets into OUT with a weight per source (see the module docstring).

    sources: (path, weight, prefix) with prefix None for the default (folder name + "_")
    or "" for none. skeleton: the sources' skeleton, or None to take it from the size of
    their Mean.npy. link: hard-link files where possible (else copy). stats_split: split of
    OUT whose unique motions give Mean/Std ("train", "train_val" or "all"). Raises
    FileExistsError for an occupied OUT without `force`, ValueError / FileNotFoundError
    naming the source for incomplete or mismatched sources.
    """
    from tqdm.auto import tqdm

    start_time = time.perf_counter()
    if stats_split not in ("train", "train_val", "all"):
        raise ValueError(f"stats_split must be 'train', 'train_val' or 'all', got {stats_split!r}")
    if not sources:
        raise ValueError("no sources to merge")
    specs: list[tuple[Path, float, str]] = []
    for spec in sources:
        if len(spec) not in (2, 3):
            raise ValueError(f"a source is (path, weight[, prefix]), got {spec!r}")
        path, weight = Path(spec[0]).resolve(), spec[1]
        prefix = spec[2] if len(spec) == 3 else None  # type: ignore[misc]
        if prefix is None:
            prefix = default_prefix(path)
            if not _STEM.match(prefix):
                raise ValueError(f"source {path}: the default prefix {prefix!r} (folder name + '_') is not a valid file stem; give one (--prefix)")
        elif prefix and not _STEM.match(prefix):
            raise ValueError(f"prefix {prefix!r} of source {path} is not a valid file stem (letters, digits, '_', '-', '.'; not starting with '_', '-' or '.')")
        specs.append((path, weight, prefix))  # type: ignore[arg-type]
    reps = repeat_counts([w for _, w, _ in specs])
    seen_paths: dict[Path, int] = {}
    seen_prefix: dict[str, Path] = {}
    for path, _, prefix in specs:
        if path in seen_paths:
            raise ValueError(f"source {path} is given twice; give it one weight instead")
        seen_paths[path] = 1
        if prefix in seen_prefix and prefix:
            raise ValueError(f"sources {seen_prefix[prefix]} and {path} both get the prefix {prefix!r}; give them different prefixes (--prefix)")
        seen_prefix[prefix] = path

    root = Path(out).resolve()
    for path, _, _ in specs:
        if path == root or root in path.parents:
            raise ValueError(f"the output folder {root} must not be or contain a source ({path})")
    if root.exists() and not root.is_dir():
        raise ValueError(f"output {root} exists and is not a folder")
    occupied = root.is_dir() and any(root.iterdir())
    if occupied and not force:
        raise FileExistsError(f"{root} is not empty; pass force=True (--force) to replace it")
    if occupied and not _looks_like_dataset(root):
        raise ValueError(f"refusing to replace {root}: it holds files but does not look like a dataset (no split files, {FEATURES_DIR}/ or manifest)")

    # Validate every source before writing anything.
    sk = get_skeleton(skeleton) if skeleton is not None else None
    dim = sk.feature_dim if sk is not None else None
    dim_from = f"{sk.name} features" if sk is not None else ""
    plans: list[_Plan] = []
    for (path, weight, prefix), r in zip(specs, reps):
        plan, D = _plan_source(path, weight, prefix, r, dim, dim_from)
        if dim is None:
            dim, dim_from = D, f"like {path}"
        plans.append(plan)
    if sk is None:
        sk = skeleton_for_feature_dim(dim)  # type: ignore[arg-type]
    owner: dict[str, tuple[Path, str]] = {}
    for plan in plans:
        for old, new in plan.info.ids.items():
            if new in owner:
                other, old2 = owner[new]
                raise ValueError(
                    f"id clash after prefixing: {new} comes from {other} (id {old2}) and {plan.info.path} (id {old}); give other prefixes (--prefix)"
                )
            owner[new] = (plan.info.path, old)
    keys: set[str] = set()
    for k, plan in enumerate(plans):
        key = plan.info.prefix or plan.info.path.name
        if key in keys:
            key = f"{key}-{k + 1}"
        keys.add(key)
        plan.key = key
        plan.info.extras_dir = f"{SOURCES_DIR}/{key}"

    # Shares of training samples.
    mass = [p.info.repeat * p.info.train_lines for p in plans]
    total_mass = sum(mass)
    lo = min(p.info.weight for p in plans)
    notes: list[str] = []
    for p, m in zip(plans, mass):
        p.info.train_share = m / total_mass if total_mass else 0.0
        ratio = p.info.weight / lo
        if abs(p.info.repeat - ratio) > ROUNDING_WARN * ratio:
            notes.append(f"weight {p.info.weight:g} of {p.info.path} rounds to repeat {p.info.repeat} (ratio {ratio:g} to the smallest weight)")

    summary = MergeSummary(root=root, sources=[p.info for p in plans], skeleton=sk.name, feature_dim=int(dim), stats_split=stats_split)  # type: ignore[arg-type]
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.merge-", dir=root.parent))
    trash: Path | None = None
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # the permissions of a plain mkdir
        lay = Layout.of(tmp)
        for d in (lay.features_dir, lay.joints_dir, lay.texts_dir):
            d.mkdir()
        write_text(tmp / MANIFEST, _manifest(summary, plans, link, complete=False))

        n_files = sum(len(p.all_ids) for p in plans)
        with tqdm(total=n_files, disable=not progress, desc="merge", unit="motion") as bar:
            for plan in plans:
                src = plan.layout
                programs = plan.info.path / PROGRAMS_DIR
                for old in plan.all_ids:
                    new = plan.info.ids[old]
                    pairs = [(src.features(old), lay.features(new)), (src.text(old), lay.text(new))]
                    if src.joints(old).is_file():
                        pairs.append((src.joints(old), lay.joints(new)))
                    if (programs / f"{old}.json").is_file():
                        (tmp / PROGRAMS_DIR).mkdir(exist_ok=True)
                        pairs.append((programs / f"{old}.json", tmp / PROGRAMS_DIR / f"{new}.json"))
                        plan.info.programs += 1
                    for a, b in pairs:
                        if _transfer(a, b, link):
                            summary.linked += 1
                        else:
                            summary.copied += 1
                    bar.update(1)
                if plan.extras:
                    dest = tmp / SOURCES_DIR / plan.key
                    dest.mkdir(parents=True)
                    for e in plan.extras:
                        if e.is_dir():
                            shutil.copytree(e, dest / e.name)
                        else:
                            shutil.copyfile(e, dest / e.name)
                        plan.info.extras.append(e.name)

        # Split files: train repeated per source, the rest unrepeated unions.
        train: list[str] = []
        for plan in plans:
            mapped = [plan.info.ids[i] for i in plan.split_lists["train"]]
            train += mapped * plan.info.repeat
        uniq: dict[str, list[str]] = {}
        for s in ("train", "val", "test"):
            uniq[s] = sorted({plan.info.ids[i] for plan in plans for i in plan.split_lists[s]})
        uniq["train_val"] = sorted(set(uniq["train"]) | set(uniq["val"]))
        uniq["all"] = sorted(new for plan in plans for new in plan.info.ids.values())
        lists = {**uniq, "train": train}
        for name in ALL_SPLITS:
            write_split(lay.split(name), lists[name])
        summary.splits = {name: len(lists[name]) for name in ALL_SPLITS}
        summary.unique_train = len(uniq["train"])

        stat_ids = uniq[stats_split]
        if not stat_ids:
            notes.append(f"split {stats_split!r} is empty; Mean/Std are computed over all motions")
            stat_ids = uniq["all"]
        mean, std = compute_stats((np.load(lay.features(i), allow_pickle=False) for i in stat_ids), sk)
        save_npy(lay.mean_path, mean)
        save_npy(lay.std_path, std)
        summary.stats_motions = len(stat_ids)
        summary.warnings = notes
        write_text(tmp / MANIFEST, _manifest(summary, plans, link, complete=True))

        # Swap into place: the old OUT (force) goes only once the new one is complete.
        if root.is_dir():
            if any(root.iterdir()):
                trash = root.parent / f".{root.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(root, trash)
            else:
                root.rmdir()
        try:
            os.rename(tmp, root)
        except BaseException:
            if trash is not None:
                os.rename(trash, root)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    summary.seconds = time.perf_counter() - start_time
    return summary
