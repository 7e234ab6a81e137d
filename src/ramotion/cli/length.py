"""`ramotion length`: the length predictor (text -> number of frames), trained, measured and asked.

    ramotion length train --data build/mocap --out runs/h3d        # into a model folder: generate uses it
    ramotion length evaluate --data build/mocap                    # the bundled model's, on the test split
    ramotion length predict "a person walks forward" "a person jumps"

`train` writes length_predictor.safetensors + length_predictor.json into --out; a model
folder holding them gives prompts without a length the predicted one (`ramotion generate`
without --seconds, `RAMPipeline(...)` without seconds/frames, the web API without seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `length` verb with its `train`, `evaluate` and `predict` actions."""
    p = sub.add_parser(
        "length",
        help="train, measure or ask the length predictor (text -> number of frames)",
        description=(
            "The length predictor estimates a motion's length from its text (as T2M / MoMask do), for prompts given "
            "without one: the frozen text model's mean-pooled token states through a small MLP over length bins of 4 frames."
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = actions.add_parser(
        "train",
        help="train on ROOT's train split, choose on val, report MAE on test",
        description=(
            "Train the length predictor on a dataset in the HumanML3D layout (targets: each caption's (sub)motion length by "
            "the training loader's rules, capped at 196 frames); the epoch and the reading of its distribution (mean, "
            "median or mode) are chosen on the val split; the test split's mean absolute error is printed beside the "
            "baselines of predicting the training mean and median. Writes length_predictor.safetensors and "
            "length_predictor.json into --out (a model folder: its generations then use it)."
        ),
    )
    t.add_argument("--data", required=True, metavar="ROOT", help="dataset root (HumanML3D layout with train.txt and val.txt)")
    t.add_argument("--out", required=True, metavar="DIR", help="folder to write the predictor to (e.g. a model folder; created if missing)")
    t.add_argument("--epochs", type=int, default=40, help="passes over the train split (default 40; the best on val is kept)")
    t.add_argument("--hidden", type=int, default=128, help="the MLP's hidden width (default 128)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the text model (default all-MiniLM-L6-v2, offline)")
    t.add_argument("--text-cache", metavar="DIR", default=None, help="token-feature cache folder (default $RAMOTION_CACHE/text_features)")
    t.add_argument("--force", action="store_true", help="overwrite a length predictor already in --out")
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    t.set_defaults(func=run_train)

    e = actions.add_parser("evaluate", help="mean absolute error of a model folder's predictor on a split, against the baselines")
    e.add_argument("--data", required=True, metavar="ROOT", help="dataset root (HumanML3D layout)")
    e.add_argument("--model", metavar="DIR", default=None, help="folder with a length predictor (default: the bundled model)")
    e.add_argument("--split", default="test", help="split to measure (default test); the baselines come from train")
    e.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the predictor's text model")
    e.add_argument("--text-cache", metavar="DIR", default=None, help="token-feature cache folder (default $RAMOTION_CACHE/text_features)")
    e.set_defaults(func=run_evaluate)

    q = actions.add_parser("predict", help="print the predicted length of each TEXT")
    q.add_argument("text", nargs="+", help="prompts, e.g. 'a person walks forward'")
    q.add_argument("--model", metavar="DIR", default=None, help="folder with a length predictor (default: the bundled model)")
    q.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the predictor's text model")
    q.set_defaults(func=run_predict)


def run_train(args: argparse.Namespace) -> int:
    """Train, save, and print the validation choice and the test table."""
    from ..model.length import CONFIG_NAME, WEIGHTS_NAME, has_length_predictor
    from ..train.length import LengthTrainSettings, format_length_table, train_length_predictor

    root, out = Path(args.data), Path(args.out)
    if not root.is_dir():
        raise UserError(f"dataset root not found: {root}")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    if has_length_predictor(out) and not args.force:
        raise UserError(f"{out} already holds a length predictor ({WEIGHTS_NAME}, {CONFIG_NAME}): pass --force to overwrite it")
    for name, value in (("--epochs", args.epochs), ("--hidden", args.hidden)):
        if value < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
    if args.seed < 0:
        raise UserError(f"--seed must not be negative, got {args.seed}")
    settings = LengthTrainSettings(epochs=args.epochs, hidden=args.hidden, seed=args.seed)
    _quiet_loading()
    report = train_length_predictor(
        root, out, settings, text_model=args.text_model, text_cache=args.text_cache, progress=not args.quiet, log=None if args.quiet else print
    )
    val = ", ".join(f"{p} {v:.2f}" for p, v in report["val"].items())
    print(f"chosen on val: epoch {report['epoch']}, the distribution's {report['point']} (val MAE in frames: {val})")
    for split in ("val", "test"):
        if f"{split}_table" in report:
            print(format_length_table(report[f"{split}_table"], f"{split} split"))
    print(f"length predictor written to {out} ({report['parameters']} parameters; {report['embed_seconds'] + report['fit_seconds']:.0f} s)")
    return 0


def _quiet_loading() -> None:
    """Keep the terminal to our own lines (no transformers loading bars), as `generate` does."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _load(model: str | None):  # noqa: ANN202 - LengthPredictor (torch imported lazily)
    from ..model.length import load_length_predictor
    from ..pipeline import default_model_dir, no_default_model_message

    folder = Path(model) if model is not None else default_model_dir()
    if folder is None:
        raise UserError(no_default_model_message())
    if not folder.is_dir():
        raise UserError(f"no such folder: {folder}")
    predictor = load_length_predictor(folder)
    if predictor is None:
        raise UserError(f"{folder} holds no length predictor: train one with `ramotion length train --data ROOT --out {folder}`")
    return predictor


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the split's MAE table."""
    from ..train.length import evaluate_length_predictor, format_length_table

    if not Path(args.data).is_dir():
        raise UserError(f"dataset root not found: {args.data}")
    predictor = _load(args.model)
    _quiet_loading()
    table = evaluate_length_predictor(predictor, args.data, args.split, text_model=args.text_model, text_cache=args.text_cache)
    print(format_length_table(table, f"{args.split} split"))
    print(f"(the distribution's {predictor.config.point}; baselines: the train split's mean {table['train_mean']:.1f} and median {table['train_median']:.1f} frames)")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Print one line per prompt: frames, seconds, prompt."""
    from ..text import TextEncoder

    prompts = [t.strip() for t in args.text]
    if not all(prompts):
        raise UserError("a prompt is empty: describe the motion, e.g. 'a person walks forward'")
    predictor = _load(args.model)
    _quiet_loading()
    encoder = TextEncoder(args.text_model if args.text_model is not None else predictor.config.text_model)
    fps = float(predictor.training_report.get("fps", 20.0))  # the training corpus's frame rate (HumanML3D: 20)
    for prompt, frames in zip(prompts, predictor.predict(encoder, prompts)):
        print(f"{frames}\t{frames / fps:.2f} s\t{prompt}")
    return 0
