"""`ramotion data`: check, build and compute statistics of datasets in the HumanML3D layout."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from .common import UserError, input_path

CAPTION_COLUMNS = ("id", "caption")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `data` verb and its subcommands."""
    p = sub.add_parser("data", help="check, build and summarise datasets (HumanML3D / KIT-ML layout)")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    c = dsub.add_parser("check", help="validate a dataset folder and print a summary per split")
    c.add_argument("root", help="dataset folder (new_joint_vecs/, texts/, train.txt, Mean.npy, ...)")
    c.add_argument("--skeleton", choices=("humanml3d", "kit"), help="default: from the size of Mean.npy")
    c.add_argument("--splits", default="train,val,test", help="comma-separated split files to check (default: %(default)s)")
    c.add_argument("--quiet", action="store_true", help="print errors and warnings only, not the summary")
    c.set_defaults(func=run_check)

    b = dsub.add_parser(
        "build",
        help="build a dataset from joint sequences (.npy / .bvh) and captions",
        description="Write the HumanML3D layout from joints and captions: resampled to the skeleton's fps, "
        "features, recovered joints, mirrored copies (M<id>, left/right swapped in captions, same split), "
        "seeded train/val/test splits, word/POS tokens (spaCy when installed, else ramotion's rule tagger), "
        "and Mean/Std over the train split and its mirrors.",
    )
    b.add_argument("--joints", required=True, help="folder of <id>.npy (T, 22, 3) joint positions in metres, y up, or <id>.bvh(.gz) / <id>.amc(.gz) mocap files")
    b.add_argument("--captions", required=True, help="CSV (header: id,caption[,start,end][,split]) or JSON lines with those keys")
    b.add_argument("--out", required=True, help="dataset folder to write")
    b.add_argument("--fps", type=float, help="frame rate of the .npy and .amc files (required for them; BVH files carry theirs)")
    b.add_argument("--asf", help="the ASF skeleton of the .amc files")
    b.add_argument("--joint-map", help="skeleton preset (bandai-namco, hdm05, cmu-bvh) or JSON joint map for the mocap files (see docs/mocap.md)")
    b.add_argument("--scale", type=float, help="multiply BVH positions by this to get metres")
    b.add_argument("--skeleton", default="humanml3d", choices=("humanml3d", "kit"), help="target skeleton (default: %(default)s; kit needs --no-retarget)")
    b.add_argument("--seed", type=int, default=0, help="seed of the random splits (default: %(default)s)")
    b.add_argument("--split-fractions", default="0.8,0.1,0.1", help="train,val,test fractions (default: %(default)s)")
    b.add_argument("--stats-split", default="train", choices=("train", "train_val", "all"), help="split whose motions (with mirrors) give Mean/Std (default: %(default)s)")
    b.add_argument("--no-mirror", action="store_true", help="do not write mirrored copies")
    b.add_argument("--no-retarget", action="store_true", help="keep the source bone lengths (default: retarget to the reference skeleton)")
    b.add_argument("--tagger", default="auto", choices=("auto", "spacy", "rules"), help="word/POS tagger (default: %(default)s)")
    b.add_argument("--workers", type=int, default=1, help="processes (default: %(default)s)")
    b.add_argument("--force", action="store_true", help="overwrite an existing dataset in --out")
    b.add_argument("--resume", action="store_true", help="continue an interrupted build in --out")
    b.set_defaults(func=run_build)

    s = dsub.add_parser("stats", help="write Mean.npy/Std.npy (group-averaged Std) for a dataset folder")
    s.add_argument("root", help="dataset folder")
    s.add_argument("--split", default="train", help="split file whose motions to use, or '*' for every file (default: %(default)s)")
    s.add_argument("--evaluator", action="store_true", help="write eval_mean.npy/eval_std.npy (root and contact groups / 25)")
    s.set_defaults(func=run_stats)

    from .data_mocap import register as register_build_mocap

    register_build_mocap(dsub)

    m = dsub.add_parser(
        "merge",
        help="merge datasets into one training set with a weight per source",
        description="Merge complete datasets of one feature size into --out. Ids get a prefix per source "
        "(<prefix><id>; mirrors M<id> become M<prefix><id>). A source's WEIGHT multiplies how often each of its "
        "motions is drawn relative to the other sources' motions: its train ids are listed round(WEIGHT / smallest "
        "weight) times in train.txt (val/test/all/train_val are plain unions). Mean/Std are recomputed over the "
        "unique motions of the merged train split (repeats do not weight them). Files are hard-linked where "
        "possible; the merge is written to a temporary folder and renamed into place when complete.",
    )
    m.add_argument("sources", nargs="+", metavar="SRC[:WEIGHT]", help="dataset folder, optionally with a positive weight (default 1)")
    m.add_argument("--out", required=True, help="dataset folder to write")
    m.add_argument("--prefix", action="append", metavar="NAME",
                   help="id prefix of a source, once per source in order (default: folder name + '_'; '' keeps the ids)")  # fmt: skip
    m.add_argument("--skeleton", choices=("humanml3d", "kit"), help="default: from the size of the sources' Mean.npy")
    m.add_argument("--stats-split", default="train", choices=("train", "train_val", "all"), help="split whose unique motions give Mean/Std (default: %(default)s)")
    m.add_argument("--copy", action="store_true", help="copy files instead of hard-linking them")
    m.add_argument("--force", action="store_true", help="replace an existing dataset in --out")
    m.set_defaults(func=run_merge)


# ----------------------------------------------------------------------------- check


def run_check(args: argparse.Namespace) -> int:
    """Print errors, warnings and the summary table; 1 when the dataset has errors."""
    from ..data.check import check_dataset

    splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
    report = check_dataset(args.root, skeleton=args.skeleton, splits=splits, progress=sys.stderr.isatty())
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in report.errors:
        print(f"error: {e}", file=sys.stderr)
    if not args.quiet:
        print(f"{report.root} ({report.skeleton})")
        print(report.table())
    verdict = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    print(("FAILED: " if report.errors else "OK: ") + verdict, file=sys.stderr if report.errors else sys.stdout)
    return 1 if report.errors else 0


# ----------------------------------------------------------------------------- stats


def run_stats(args: argparse.Namespace) -> int:
    from ..data.stats import dataset_stats

    mean, _ = dataset_stats(args.root, args.split, evaluator=args.evaluator)
    names = ("eval_mean.npy", "eval_std.npy") if args.evaluator else ("Mean.npy", "Std.npy")
    print(f"wrote {Path(args.root) / names[0]} and {names[1]} ({mean.shape[0]} dims, split {args.split})")
    return 0


# ----------------------------------------------------------------------------- build


def read_caption_table(path: str | Path) -> dict[str, list[dict]]:
    """id -> caption rows ({caption, start, end, split}) from a CSV or JSON-lines file."""
    p = input_path(path)
    rows: list[tuple[str, dict]] = []  # (where, row)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson") or text.lstrip().startswith("{"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{p}:{n}: not a JSON object ({exc.msg})") from None
            if not isinstance(row, dict):
                raise UserError(f"{p}:{n}: expected a JSON object with keys id, caption")
            rows.append((f"{p}:{n}", row))
    else:
        reader = csv.DictReader(text.splitlines())
        fields = [f.strip() for f in reader.fieldnames or ()]
        if not set(CAPTION_COLUMNS) <= set(fields):
            raise UserError(f"{p}: the CSV header must name the columns id and caption (optional start, end, split), got {fields}")
        for n, row in enumerate(reader, start=2):
            rows.append((f"{p}:{n}", {k.strip(): v for k, v in row.items() if k is not None}))
    out: dict[str, list[dict]] = {}
    for where, row in rows:
        if not str(row.get("id", "")).strip() or not str(row.get("caption", "")).strip():
            raise UserError(f"{where}: needs a non-empty id and caption")
        try:
            start = float(row.get("start") or 0.0)
            end = float(row.get("end") or 0.0)
        except (TypeError, ValueError):
            raise UserError(f"{where}: start and end must be numbers (seconds)") from None
        split = (str(row.get("split") or "").strip() or None)
        out.setdefault(str(row["id"]).strip(), []).append({"caption": str(row["caption"]), "start": start, "end": end, "split": split, "where": where})
    if not out:
        raise UserError(f"{p}: no captions")
    return out


MOTION_SUFFIXES = (".npy", ".bvh", ".bvh.gz", ".amc", ".amc.gz")


def _motion_files(folder: Path) -> dict[str, Path]:
    """id -> motion file (.npy joints, BVH or AMC, optionally gzipped) in a folder."""
    if not folder.is_dir():
        raise UserError(f"joints folder not found: {folder}")
    files: dict[str, Path] = {}
    for f in sorted(folder.iterdir()):
        suffix = next((x for x in MOTION_SUFFIXES if f.name.lower().endswith(x)), None)
        if suffix is not None:
            stem = f.name[: -len(suffix)]
            if stem in files:
                raise UserError(f"two motion files for id {stem} in {folder}: {files[stem].name} and {f.name}")
            files[stem] = f
    if not files:
        raise UserError(f"no .npy, .bvh(.gz) or .amc(.gz) files in {folder}")
    return files


def run_build(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data.build import BuildItem, CaptionSpec, build_dataset
    from ..skeleton import get_skeleton

    try:
        fractions = tuple(float(x) for x in args.split_fractions.split(","))
    except ValueError:
        raise UserError(f"--split-fractions must be three numbers like 0.8,0.1,0.1, got {args.split_fractions!r}") from None
    if len(fractions) != 3:
        raise UserError(f"--split-fractions must be three numbers like 0.8,0.1,0.1, got {args.split_fractions!r}")
    files = _motion_files(Path(args.joints))
    captions = read_caption_table(args.captions)
    no_caps = [i for i in files if i not in captions]
    if no_caps:
        raise UserError(f"{len(no_caps)} motion files have no caption in {args.captions}: {', '.join(no_caps[:5])}{' ...' if len(no_caps) > 5 else ''}")
    orphans = [i for i in captions if i not in files]
    if orphans:
        print(f"warning: {len(orphans)} captioned ids have no motion file in {args.joints} and are left out: {', '.join(orphans[:5])}", file=sys.stderr)
    if any(f.name.lower().endswith((".npy", ".amc", ".amc.gz")) for f in files.values()) and args.fps is None:
        raise UserError("--fps is required for .npy and .amc files (their frame rate)")

    n_joints = get_skeleton(args.skeleton).num_joints

    def items() -> Iterator[BuildItem]:
        for motion_id, path in files.items():
            rows = captions[motion_id]
            splits = {r["split"] for r in rows}
            if len(splits) > 1:
                raise UserError(f"id {motion_id}: its caption rows name different splits {sorted(map(str, splits))}")
            if path.suffix.lower() != ".npy":
                if n_joints != 22:
                    raise UserError(f"{path}: mocap import gives HumanML3D joints; use --skeleton humanml3d")
                from ..mocap.importing import import_motion

                joints, fps = import_motion(path, args.joint_map, asf=args.asf, source_fps=args.fps, scale=args.scale)
            else:
                joints = np.load(path, allow_pickle=False)
                fps = args.fps
                if joints.ndim != 3 or joints.shape[1:] != (n_joints, 3):
                    raise UserError(f"{path}: expected joint positions of shape (frames, {n_joints}, 3), got {joints.shape}")
            yield BuildItem(motion_id, joints, float(fps), [CaptionSpec(r["caption"], r["start"], r["end"]) for r in rows], splits.pop())

    try:
        summary = build_dataset(
            args.out,
            items(),
            skeleton=args.skeleton,
            seed=args.seed,
            split_fractions=fractions,  # type: ignore[arg-type]
            mirror=not args.no_mirror,
            force=args.force,
            resume=args.resume,
            retarget=not args.no_retarget,
            workers=args.workers,
            progress=sys.stderr.isatty(),
            stats_split=args.stats_split,
            tagger=args.tagger,
            total=len(files),
        )
    except FileExistsError as exc:
        raise UserError(str(exc).replace("force=True (--force)", "--force").replace("resume=True (--resume)", "--resume")) from None
    print(
        f"wrote {summary.motions} motions + {summary.mirrors} mirrors ({summary.hours:.2f} h, {summary.captions} captions) to {summary.root}"
        f" in {summary.seconds:.1f} s; splits {summary.splits}; tagger {summary.tagger}"
        + (f"; resumed {summary.resumed}" if summary.resumed else "")
    )
    if summary.too_short or summary.too_long:
        print(f"warning: {summary.too_short} motions are shorter and {summary.too_long} longer than the loader keeps; it will skip them", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- merge


def _parse_source(spec: str) -> tuple[str, float]:
    """SRC[:WEIGHT] -> (path, weight); a path that exists as given keeps any ':' in it."""
    path, sep, tail = spec.rpartition(":")
    if not sep or Path(spec).exists():
        return spec, 1.0
    try:
        weight = float(tail)
    except ValueError:
        raise UserError(f"{spec}: the weight after ':' must be a number, got {tail!r}") from None
    if not path:
        raise UserError(f"{spec}: no dataset folder before ':'")
    return path, weight


def run_merge(args: argparse.Namespace) -> int:
    """Merge the sources into --out and print motions, repeats and train shares per source."""
    from ..data.merge import merge_datasets

    parsed = [_parse_source(s) for s in args.sources]
    prefixes = args.prefix or [None] * len(parsed)
    if len(prefixes) != len(parsed):
        raise UserError(f"--prefix was given {len(prefixes)} times for {len(parsed)} sources; give it once per source, in order, or not at all")
    try:
        summary = merge_datasets(
            args.out,
            [(path, weight, prefix) for (path, weight), prefix in zip(parsed, prefixes)],
            skeleton=args.skeleton,
            force=args.force,
            link=not args.copy,
            stats_split=args.stats_split,
            progress=sys.stderr.isatty(),
        )
    except FileExistsError as exc:
        raise UserError(str(exc).replace("force=True (--force)", "--force")) from None
    print(f"merged {len(summary.sources)} datasets into {summary.root} ({summary.linked} files linked, {summary.copied} copied) in {summary.seconds:.1f} s")
    print(summary.table())
    print(
        f"splits: train {summary.splits['train']} lines ({summary.unique_train} motions), val {summary.splits['val']}, test {summary.splits['test']}; "
        f"Mean/Std over the {summary.stats_motions} unique motions of {summary.stats_split}"
    )
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0
