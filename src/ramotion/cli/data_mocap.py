"""`ramotion data build-mocap`: the real mocap corpus (Bandai-Namco, HDM05, CMU) in the HumanML3D layout."""

from __future__ import annotations

import argparse
import sys

from .common import UserError


def register(dsub: argparse._SubParsersAction) -> None:
    """Add the `build-mocap` subcommand under `ramotion data`."""
    from ..mocap.corpus import SOURCES

    m = dsub.add_parser(
        "build-mocap",
        help="build the real mocap corpus (../shared/data/mocap) in the HumanML3D layout",
        description="Import Bandai-Namco (BVH), HDM05 (ASF/AMC) and CMU (BVH) capture through their skeleton presets, "
        "cut or pad to the loader's lengths, caption from the labels (mirrors from the mirrored labels), split by take "
        "(HDM05 by actor, CMU as HumanML3D), hold out whole (action, style) pairs for a compositional test, and write "
        "features, mirrors, Mean/Std and a summary per source, action and style. Builds in OUT.partial and renames when "
        "complete; --resume continues an interrupted build. See docs/mocap.md.",
    )
    m.add_argument("--mocap", default="../shared/data/mocap", help="the mocap folder (default: %(default)s)")
    m.add_argument("--out", required=True, help="dataset folder to write")
    m.add_argument("--sources", default=",".join(SOURCES), help="comma-separated sources (default: %(default)s)")
    m.add_argument("--captions", type=int, default=3, help="captions per motion (default: %(default)s)")
    m.add_argument("--seed", type=int, default=0, help="seed of the take splits and captions (default: %(default)s)")
    m.add_argument("--limit", type=int, default=None, help="only the first N clips of each source (a quick look)")
    m.add_argument("--tagger", default="auto", choices=("auto", "spacy", "rules"), help="word/POS tagger (default: %(default)s)")
    m.add_argument("--workers", type=int, default=1, help="processes (default: %(default)s)")
    m.add_argument("--force", action="store_true", help="rebuild an existing corpus in --out")
    m.add_argument("--resume", action="store_true", help="continue an interrupted build (OUT.partial)")
    m.set_defaults(func=run_build_mocap)


def run_build_mocap(args: argparse.Namespace) -> int:
    """Build the corpus and print its summary tables."""
    from ..mocap.corpus import build_mocap_corpus

    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be >= 1, got {args.limit}")
    try:
        result = build_mocap_corpus(
            args.mocap, args.out, sources=sources, captions_per_motion=args.captions, seed=args.seed, workers=args.workers,
            force=args.force, resume=args.resume, progress=sys.stderr.isatty(), tagger=args.tagger, limit=args.limit,
        )  # fmt: skip
    except FileExistsError as exc:
        raise UserError(str(exc).replace("force=True (--force)", "--force").replace("resume=True (--resume)", "--resume")) from None
    b = result.build
    print(result.markdown())
    print(f"wrote {b.motions} motions + {b.mirrors} mirrors ({b.hours:.2f} h, {b.captions} captions) to {result.root} in {b.seconds:.0f} s")
    if b.too_short or b.too_long:
        print(f"warning: {b.too_short} motions are shorter and {b.too_long} longer than the loader keeps", file=sys.stderr)
    return 0
