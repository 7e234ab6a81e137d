"""`ramotion synth`: write the procedural text-motion corpus in the HumanML3D layout."""

from __future__ import annotations

import argparse

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate a procedural text-motion dataset (HumanML3D layout, with programs)",
        description=(
            "Generate N motions of 1-3 actions (walk, jog, run, jump, hop, turn, spin, wave, raise arms, clap, "
            "punch, kick, squat, crouch, bow, lean, stand) on the HumanML3D skeleton, with 3-5 captions each, "
            "and write features, joints, tagged captions, mirrors (M<id>), Mean/Std and splits under ROOT, "
            "plus ROOT/programs/<id>.json (the ground truth the semantic checker reads) and "
            "ROOT/held_out_compositions.json (action pairs kept out of training; their motions are in test). "
            "The same seed always gives the same bytes."
        ),
    )
    p.add_argument("--motions", type=int, default=2000, help="number of motions (mirrors are added on top; default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, metavar="ROOT", help="dataset root folder to write")
    p.add_argument("--workers", type=int, default=1, help="processes for feature extraction (default 1)")
    p.add_argument("--force", action="store_true", help="overwrite a dataset already in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..synth.corpus import write_corpus

    if args.motions < 1:
        raise UserError(f"--motions must be at least 1, got {args.motions}")
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.seed < 0:
        raise UserError(f"--seed must be non-negative, got {args.seed}")
    try:
        summary = write_corpus(args.out, args.motions, args.seed, workers=args.workers, force=args.force, progress=not args.quiet)
    except FileExistsError as exc:
        raise UserError(str(exc)) from None
    splits = ", ".join(f"{k} {v}" for k, v in summary.splits.items())
    print(
        f"wrote {summary.motions} motions + {summary.mirrors} mirrors ({summary.hours:.2f} h, {summary.captions} captions) "
        f"to {summary.root} in {summary.seconds:.0f} s; splits: {splits}"
    )
    return 0
