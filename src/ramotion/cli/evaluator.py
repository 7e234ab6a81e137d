"""`ramotion evaluator train`: train a T2M evaluator of the official design on a dataset.

    ramotion evaluator train --data data/synth --out data/synth/evaluator --preset small
    ramotion evaluator show data/synth/evaluator

The evaluator is written as evaluator.json + evaluator.safetensors + its vocabulary;
`ramotion evaluate ... --evaluator DIR` reads it (and also the official release's folder).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluator` verb with its `train` and `show` actions."""
    p = sub.add_parser(
        "evaluator",
        help="train or inspect a T2M evaluator (for FID / R-Precision)",
        description="Train a text-motion matching evaluator (Guo et al. design) on a dataset, or show one.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = actions.add_parser(
        "train",
        help="train an evaluator on ROOT's train split and report its retrieval accuracy on test",
        description=(
            "Train the T2M evaluator (movement conv encoder + bidirectional GRUs, hinge contrastive loss) on a "
            "dataset in the HumanML3D layout. Word vectors are the text model's input embeddings (offline)."
        ),
    )
    t.add_argument("--data", required=True, metavar="ROOT", help="dataset root (HumanML3D layout)")
    t.add_argument("--out", required=True, metavar="DIR", help="folder to write the evaluator to")
    t.add_argument("--preset", choices=("official", "small"), default="official",
                   help="sizes: official (512/1024 GRUs, for GPUs) or small (128 wide, trains in minutes on a CPU)")  # fmt: skip
    t.add_argument("--epochs", type=int, default=40, help="passes over the train split (default 40)")
    t.add_argument("--minutes", type=float, default=None, help="stop after this many minutes of training")
    t.add_argument("--warmup-epochs", type=int, default=None,
                   help="epochs of in-batch alignment warm-up before the hinge (default a quarter; 0: hinge only)")  # fmt: skip
    t.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-4 official as the original, 1e-3 small)")
    t.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    t.add_argument("--margin", type=float, default=10.0, help="hinge margin for mismatched pairs (default 10)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--text-model", metavar="PATH", default=None, help="local transformers model for the word vectors (default all-MiniLM-L6-v2)")
    t.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    t.add_argument("--force", action="store_true", help="overwrite an evaluator already in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=run_train)
    s = actions.add_parser("show", help="print an evaluator's sizes and its training report")
    s.add_argument("path", metavar="DIR", help="evaluator folder (ours or the official release's)")
    s.set_defaults(func=run_show)


def run_train(args: argparse.Namespace) -> int:
    """Train, save and print the test retrieval report."""
    from ..evaluation.evaluator import CONFIG_NAME
    from ..evaluation.train_evaluator import TrainEvaluatorConfig, train_evaluator

    root, out = Path(args.data), Path(args.out)
    if not root.is_dir():
        raise UserError(f"dataset root not found: {root}")
    if (out / CONFIG_NAME).exists() and not args.force:
        raise UserError(f"{out} already holds an evaluator: pass --force to overwrite it")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file")
    for name, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
    if (args.lr is not None and args.lr <= 0) or args.margin <= 0:
        raise UserError("--lr and --margin must be positive")
    cfg = TrainEvaluatorConfig(
        preset=args.preset, epochs=args.epochs, warmup_epochs=args.warmup_epochs, max_minutes=args.minutes, batch_size=args.batch_size, lr=args.lr,
        margin=args.margin, seed=args.seed, text_model=args.text_model, device=args.device,
    )  # fmt: skip
    report = train_evaluator(root, out, cfg, progress=not args.quiet)
    print(format_report(report))
    print(f"evaluator written to {out}")
    return 0


def format_report(report: dict) -> str:
    """The retrieval report as a few readable lines."""
    return "\n".join(
        [
            f"trained {report['epochs']} epochs ({report['warmup_epochs']} alignment warm-up) in {report['train_seconds']:.0f} s (preset {report['preset']}, "
            f"vocabulary {report['vocabulary']} words, final loss {report['final_loss']:.3f})",
            f"test split, ground truth ({report['pairs']} pairs in batches of 32):",
            f"  R-Precision top-1/2/3: {report['r_top1']:.3f} / {report['r_top2']:.3f} / {report['r_top3']:.3f}"
            f"   (chance top-1: {report['chance_top1']:.3f})",
            f"  MM-Dist matched: {report['mm_dist']:.3f}   mismatched: {report['mm_dist_mismatched']:.3f}",
            f"  FID between two halves of the test set: {report['fid_halves']:.3f};"
            f" between two passes of the loader: {report['fid_two_passes']:.3f}",
        ]
    )


def run_show(args: argparse.Namespace) -> int:
    """Print an evaluator's config (and its training report when there is one)."""
    from dataclasses import asdict

    from ..evaluation.evaluator import T2MEvaluator

    model = T2MEvaluator.from_pretrained(args.path)
    print(json.dumps(asdict(model.config), indent=2))
    words = model.word_vectors
    print(f"vocabulary: {len(words) if words is not None else 0} words of {model.config.word_dim} dims")
    report = Path(args.path) / "train_report.json"
    if report.is_file():
        print(format_report(json.loads(report.read_text(encoding="utf-8"))))
    return 0
