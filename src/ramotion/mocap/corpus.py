"""The real mocap corpus: Bandai-Namco, HDM05 and CMU capture in the HumanML3D layout.

`build_mocap_corpus(mocap_root, out)` (CLI: `ramotion data build-mocap`) lists every clip
of the shared mocap folder with its label, imports it through its skeleton preset, cuts
it to the loader's lengths, captions it from its label and writes the dataset with
`data.build.build_dataset` (features, mirrors, Mean/Std, word/POS tokens).

Decisions (docs/mocap.md repeats them for users):
- Ids say where a motion came from: `bn1_`/`bn2_` (Bandai-Namco dataset 1/2), `hdm_`,
  `cmu_`. Windows of a long clip get `_w<k>`.
- Lengths. The loader keeps 40 <= T < 200 frames at 20 fps. A clip longer than 196 frames
  is cut into equal consecutive windows of at most 196 (HumanML3D's crop); one shorter than
  40 is padded to 40 by holding its first and last poses (the HDM05 one-repetition cuts
  are 1-2 s long and start and end at rest).
- Splits are made per *take*, so windows of one take never straddle splits. Bandai-Namco:
  seeded 80/10/10 over takes. HDM05: by actor, as the source splits it (bd, bk, dg train,
  1 take in 10 of theirs to val; mm, tr test). CMU: HumanML3D's own split of each segment.
- Held-out compositions: whole (action, style) pairs of Bandai-Namco are kept out of
  training and validation (all their takes go to test), listed in
  `held_out_compositions.json` and as a split file `held_out.txt` (with mirrors), as the
  procedural corpus does. A pair with a side is held out with its mirror image
  (raise-up-left-hand x elderly with raise-up-right-hand x elderly): otherwise the mirrored
  copies of the training takes would teach the held-out pair.
- Captions: `captions_per_motion` paraphrases from the label grammar (`mocap.captions`);
  the 15 CMU segments with real HumanML3D captions keep those, verbatim. A mirrored copy
  is captioned from the mirrored *label* (wave-left-hand -> wave-right-hand), except the
  verbatim captions, whose words are swapped.
- Atomic: the dataset is built in `<out>.partial` (where `--resume` continues) and renamed
  to `<out>` only when complete, with `mocap_summary.json`/`.md` and `mocap.json` beside it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.build import BuildItem, BuildSummary, CaptionSpec, build_dataset
from ..io_utils import write_text
from ..motion.resample import resample
from ..skeleton import HUMANML3D
from .captions import MotionLabel, captions_for, cmu_captions, hdm05_class_from_filename
from .importing import read_source, source_to_joints
from .presets import PRESETS
from .source import MocapFormatError

SOURCES = ("bandai-namco", "hdm05", "cmu")
FPS = HUMANML3D.fps  # 20
MAX_WINDOW = HUMANML3D.max_frames  # 196 frames
MIN_FRAMES = HUMANML3D.min_frames  # 40 frames
HDM05_FPS = 120.0
SOURCE_PRESET = {"bandai-namco": "bandai-namco", "hdm05": "hdm05", "cmu": "cmu-bvh"}  # source -> its preset
HDM05_TRAIN_ACTORS = ("bd", "bk", "dg")
BANDAI_SPLIT = (0.8, 0.1, 0.1)
# (dataset, action, style) pairs held out of training: one arm action, one locomotion
# variant and one gesture, each with a style that training still sees elsewhere.
HELD_OUT: tuple[tuple[str, str, str], ...] = (
    ("bn2", "raise-up-left-hand", "elderly"),
    ("bn2", "wave-both-hands", "masculine"),
    ("bn2", "walk-turn-right", "youthful"),
    ("bn1", "bow", "sad"),
    ("bn1", "walk-back", "tired"),
)
ATTRIBUTION = {
    "bandai-namco": "Bandai-Namco Research Motion Dataset 1 and 2, (c) 2022 Bandai Namco Research Inc., CC BY-NC 4.0 (non-commercial)",
    "hdm05": "HDM05: M. Mueller et al., Documentation Mocap Database HDM05, Tech. Rep. CG-2007-2, Universitaet Bonn, 2007 (free for research)",
    "cmu": "CMU Graphics Lab Motion Capture Database, mocap.cs.cmu.edu, funded by NSF EIA-0196217 (free for any use); HumanML3D captions MIT",
}


def held_out_pair(dataset: str, label: MotionLabel) -> tuple[str, str, str] | None:
    """The HELD_OUT pair a Bandai-Namco label (of dataset "bn1"/"bn2") is, or is the mirror image of; None if neither."""
    return next((p for lab in (label, label.mirrored()) if (p := (dataset, lab.action, lab.style)) in HELD_OUT), None)


def is_held_out(dataset: str, label: MotionLabel) -> bool:
    """Whether a Bandai-Namco label is a held-out pair or its mirror image."""
    return held_out_pair(dataset, label) is not None


@dataclass
class Clip:
    """One take (or one HumanML3D segment of a CMU take) to import."""

    id: str
    source: str  # one of SOURCES
    path: Path
    label: MotionLabel
    take: str  # split group: windows of one take share a split
    split: str | None = None  # forced split, None: seeded by take
    start: int | None = None  # CMU segments: frame range at 20 fps
    end: int | None = None
    verbatim: list[str] = field(default_factory=list)  # real captions, kept as they are
    asf: Path | None = None


# ----------------------------------------------------------------------------- listing


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"missing mocap file: {path} ({what}); see ../shared/data/mocap/NOTICE.md")
    return path


def _bandai_clips(root: Path) -> list[Clip]:
    clips = []
    for n in (1, 2):
        folder = _require(root / "bandai-namco" / f"dataset-{n}", f"Bandai-Namco dataset {n}")
        prefix = f"dataset-{n}_"
        contents = [line.strip().removeprefix(prefix) for line in _require(folder / "cfg" / "content_label.txt", "content labels").read_text().splitlines() if line.strip()]
        styles = [line.strip().removeprefix(prefix) for line in _require(folder / "cfg" / "style_label.txt", "style labels").read_text().splitlines() if line.strip()]
        for path in sorted((folder / "data").glob("*.bvh.gz")):
            meta_path = path.with_name(path.name.removesuffix(".bvh.gz") + ".json")
            try:
                meta = json.loads(_require(meta_path, "the clip's label").read_text())
                action, style = contents[int(meta["content"])], styles[int(meta["style"])]
            except (json.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as exc:
                raise MocapFormatError(f"{meta_path}: bad label file ({exc!r})") from None
            take = path.name.removesuffix(".bvh.gz").removeprefix(prefix)  # <content>_<style>_<take>
            label = MotionLabel("bandai-namco", action, style)
            held = is_held_out(f"bn{n}", label)
            clips.append(Clip(f"bn{n}_{take}", "bandai-namco", path, label, take=f"bn{n}_{take}", split="test" if held else None))
    return clips


def _hdm05_clips(root: Path, seed: int) -> list[Clip]:
    folder = _require(root / "hdm05", "HDM05")
    clips = []
    for path in sorted(folder.glob("amc/*/*.amc.gz")):
        parts = path.name.split("_")  # HDM_<actor>_<class>_<take>_120.amc.gz
        if len(parts) != 5 or parts[0] != "HDM":
            raise MocapFormatError(f"{path}: expected a name HDM_<actor>_<class>_<take>_120.amc.gz")
        actor, cls, take = parts[1], hdm05_class_from_filename(path.name), parts[3]
        if actor in HDM05_TRAIN_ACTORS:
            split = "val" if _unit(f"{seed}:{path.name}") < 0.1 else "train"
        else:
            split = "test"
        asf = _require(folder / "asf" / f"HDM_{actor}.asf", f"the skeleton of actor {actor}")
        clips.append(Clip(f"hdm_{actor}_{cls}_{take}", "hdm05", path, MotionLabel("hdm05", cls), take=f"hdm_{actor}_{cls}_{take}", split=split, asf=asf))
    return clips


def _cmu_clips(root: Path) -> list[Clip]:
    folder = _require(root / "cmu", "CMU")
    clips = []
    with _require(folder / "humanml3d_rows.csv", "CMU segments").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            path = _require(folder / row["bvh"], f"CMU take of HumanML3D row {row['humanml3d_id']}")
            verbatim = [c.strip() for c in (row.get("captions") or "").split(" | ") if c.strip()]
            clips.append(
                Clip(
                    f"cmu_{row['humanml3d_id']}", "cmu", path, MotionLabel("cmu", row["cmu_description"]),
                    take=f"cmu_{Path(row['bvh']).name.split('.')[0]}", split=row["split"],
                    start=int(row["start_frame_20fps"]), end=int(row["end_frame_20fps"]), verbatim=verbatim,
                )
            )  # fmt: skip
    return clips


def list_clips(mocap_root: str | os.PathLike, sources: tuple[str, ...] = SOURCES, seed: int = 0) -> list[Clip]:
    """Every clip of the chosen sources, labelled and with its split rule."""
    root = Path(mocap_root)
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown mocap sources {unknown}; choose from {', '.join(SOURCES)}")
    if not root.is_dir():
        raise FileNotFoundError(f"no mocap folder at {root} (expected ../shared/data/mocap with bandai-namco/, hdm05/, cmu/)")
    listing = {"bandai-namco": lambda: _bandai_clips(root), "hdm05": lambda: _hdm05_clips(root, seed), "cmu": lambda: _cmu_clips(root)}
    return [c for s in sources for c in listing[s]()]


def _unit(key: str) -> float:
    """A number in [0, 1) from a string, the same on every machine (for seeded split rules)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def assign_take_splits(clips: list[Clip], seed: int, fractions: tuple[float, float, float] = BANDAI_SPLIT) -> dict[str, str]:
    """take -> split for clips without a forced split: seeded, by take, in `fractions`."""
    out: dict[str, str] = {}
    for take in sorted({c.take for c in clips if c.split is None}):
        u = _unit(f"{seed}:{take}")
        out[take] = "train" if u < fractions[0] else "val" if u < fractions[0] + fractions[1] else "test"
    return out


# ----------------------------------------------------------------------------- one clip


def clip_joints(clip: Clip) -> np.ndarray:
    """The clip's HumanML3D joints at 20 fps (T, 22, 3), metres, y up (CMU: its segment)."""
    motion = read_source(clip.path, asf=clip.asf, source_fps=HDM05_FPS if clip.source == "hdm05" else None)
    preset = PRESETS[SOURCE_PRESET[clip.source]]
    joints = resample(source_to_joints(motion, preset), motion.fps, FPS)  # (T, 22, 3)
    if clip.start is not None:
        # HumanML3D's rows index the take at 20 fps from its first motion frame.
        segment = joints[clip.start : clip.end]
        if len(segment) < 2:
            raise ValueError(f"{clip.path}: segment {clip.start}-{clip.end} of row {clip.id} is outside the take ({len(joints)} frames at 20 fps)")
        joints = segment
    return joints


def windows(joints: np.ndarray) -> list[np.ndarray]:
    """Cut (T, 22, 3) into loader-sized pieces: equal windows of <= MAX_WINDOW frames, or pad
    a clip shorter than MIN_FRAMES by holding its first and last poses."""
    T = len(joints)
    if T < MIN_FRAMES + 1:  # features have T-1 frames
        missing = MIN_FRAMES + 1 - T
        before = missing // 2
        return [np.concatenate([joints[:1]] * before + [joints] + [joints[-1:]] * (missing - before))]
    if T <= MAX_WINDOW + 1:
        return [joints]
    n = -(-(T - 1) // MAX_WINDOW)  # windows of at most MAX_WINDOW feature frames
    bounds = np.linspace(0, T - 1, n + 1).round().astype(int)
    return [joints[a : b + 1] for a, b in zip(bounds[:-1], bounds[1:])]


def clip_captions(clip: Clip, n: int) -> tuple[list[str], list[str] | None]:
    """(captions, captions of the mirror or None to swap words). Seeded by the clip id."""
    rng = random.Random(int(_unit(f"captions:{clip.id}") * 2**32))
    if clip.verbatim:
        return list(clip.verbatim), None
    if clip.source == "cmu":
        return cmu_captions(clip.label.action, n, rng), cmu_captions(clip.label.mirrored().action, n, rng)
    return captions_for(clip.label, n, rng), captions_for(clip.label.mirrored(), n, rng)


# ----------------------------------------------------------------------------- build


@dataclass
class MocapSummary:
    """What `build_mocap_corpus` wrote: the dataset build and counts per source/action/style."""

    build: BuildSummary
    root: Path
    rows: list[dict] = field(default_factory=list)  # one per item: source, action, style, split, seconds, captions

    def table(self, key: str) -> list[tuple[str, int, float, int]]:
        """(value, items, hours, captions) per value of `key` ("source", "action", "style"), mirrors excluded."""
        agg: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
        for r in self.rows:
            a = agg[str(r[key])]
            a[0] += 1
            a[1] += r["seconds"] / 3600.0
            a[2] += r["captions"]
        return [(k, int(v[0]), v[1], int(v[2])) for k, v in sorted(agg.items())]

    def markdown(self) -> str:
        """The summary as Markdown tables (items and hours exclude mirrors)."""
        lines = [f"# Mocap corpus: {len(self.rows)} motions + mirrors, {sum(r['seconds'] for r in self.rows) / 3600:.2f} h before mirroring", ""]
        lines.append(f"Splits (mirrors included): {self.build.splits}")
        for key in ("source", "split", "action", "style"):
            lines += ["", f"| {key} | motions | hours | captions |", "|---|---:|---:|---:|"]
            lines += [f"| {k} | {n} | {h:.3f} | {c} |" for k, n, h, c in self.table(key)]
        return "\n".join(lines) + "\n"


def build_mocap_corpus(
    mocap_root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    sources: tuple[str, ...] = SOURCES,
    captions_per_motion: int = 3,
    seed: int = 0,
    workers: int = 1,
    force: bool = False,
    resume: bool = False,
    progress: bool = True,
    tagger: str = "auto",
    limit: int | None = None,
) -> MocapSummary:
    """Build the mocap corpus in the HumanML3D layout at `out` (see the module docstring).

    limit: use only the first `limit` clips of each source (for tests and quick looks).
    """
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} already holds a dataset; pass force=True (--force) to rebuild it")
    if captions_per_motion < 1:
        raise ValueError(f"captions_per_motion must be >= 1, got {captions_per_motion}")
    clips = list_clips(mocap_root, sources, seed)
    if limit is not None:
        per: dict[str, int] = defaultdict(int)
        kept = []
        for c in clips:
            if per[c.source] < limit:
                kept.append(c)
                per[c.source] += 1
        clips = kept
    if not clips:
        raise ValueError(f"no clips found in {mocap_root} for sources {', '.join(sources)}")
    take_split = assign_take_splits(clips, seed)
    rows: list[dict] = []

    def items() -> Iterator[BuildItem]:
        for clip in clips:
            split = clip.split or take_split[clip.take]
            caps, mirror_caps = clip_captions(clip, captions_per_motion)
            pieces = windows(clip_joints(clip))
            for k, piece in enumerate(pieces):
                item_id = clip.id if len(pieces) == 1 else f"{clip.id}_w{k}"
                rows.append({"id": item_id, "source": clip.source, "action": clip.label.action if clip.source != "cmu" else "cmu: " + clip.label.action.split(" - ")[0],
                             "style": clip.label.style or "-", "split": split, "seconds": (len(piece) - 1) / FPS, "captions": len(caps)})  # fmt: skip
                yield BuildItem(item_id, piece, FPS, [CaptionSpec(c) for c in caps], split, None if mirror_caps is None else [CaptionSpec(c) for c in mirror_caps])

    if force and partial.exists() and not resume:
        shutil.rmtree(partial)
    summary = build_dataset(partial, items(), seed=seed, force=force and not resume, resume=resume, workers=workers, progress=progress, tagger=tagger, total=len(clips))
    result = MocapSummary(build=summary, root=out, rows=rows)
    held_ids: dict[str, list[str]] = {f"{a}+{st} ({d})": [] for d, a, st in HELD_OUT}
    for r in rows:
        pair = held_out_pair(r["id"].split("_")[0], MotionLabel("bandai-namco", r["action"], r["style"])) if r["source"] == "bandai-namco" else None
        if pair is not None:
            held_ids[f"{pair[1]}+{pair[2]} ({pair[0]})"].append(r["id"])
    held = {"pairs": [list(p) for p in HELD_OUT], "ids": {k: sorted(v) for k, v in held_ids.items()}}
    write_text(partial / "held_out_compositions.json", json.dumps(held, indent=1))
    write_text(partial / "held_out.txt", "".join(f"{i}\nM{i}\n" for i in sorted(i for ids in held_ids.values() for i in ids)))
    write_text(partial / "mocap_summary.json", json.dumps({"rows": rows, "splits": summary.splits, "hours": summary.hours}, indent=0))
    write_text(partial / "mocap_summary.md", result.markdown())
    write_text(partial / "mocap.json", json.dumps({
        "sources": list(sources), "seed": seed, "captions_per_motion": captions_per_motion, "limit": limit,
        "attribution": {s: ATTRIBUTION[s] for s in sources}, "held_out": [list(p) for p in HELD_OUT],
        "presets": {s: asdict(PRESETS[SOURCE_PRESET[s]]) | {"joints": dict(PRESETS[SOURCE_PRESET[s]].joints)} for s in sources},
    }, indent=1, default=str))  # fmt: skip
    if out.exists():
        shutil.rmtree(out)
    os.replace(partial, out)
    summary.root = out
    return result
