"""`ramotion train`: train RAM on a dataset in the HumanML3D layout, or resume a run.

    ramotion train --config humanml3d --data ROOT --out RUN
    ramotion train --config small --data ROOT --out RUN --set steps=2000 --set loss.w_sr=0.1
    ramotion train --resume RUN [--set steps=500000]
    accelerate launch --multi_gpu --num_processes 4 $(which ramotion) train --config humanml3d --data ROOT --out RUN

--resume continues from the latest checkpoint; a run that stopped before its first one starts
again from step 0 with its saved config, and a model whose export a crash cut short is
exported again from the checkpoint. Training stops with an error, saving nothing, when the
loss or the weights become NaN or infinite.

--config is a preset (humanml3d, kit, small, tiny) or a JSON file; --variant picks an
ablation of the paper (ours, baseline, two_stream, sr_only, A-E). Several processes on a
machine without a GPU work too (`accelerate launch --multi_gpu ...` picks gloo on CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `train` verb."""
    from ..train.config import PRESETS, VARIANTS

    p = sub.add_parser("train", help="train RAM (or resume a run)", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=None, help=f"preset ({', '.join(PRESETS)}) or a JSON config file (default: humanml3d)")
    p.add_argument("--variant", choices=sorted(VARIANTS), default=None, help="paper ablation variant (default: ours)")
    p.add_argument("--data", default=None, help="dataset root in the HumanML3D layout (with --resume: default the run's)")
    p.add_argument("--out", default=None, help="new run folder")
    p.add_argument("--resume", default=None, metavar="RUN", help="continue this run from its latest checkpoint")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config field, e.g. steps=1000 or loss.w_sr=0.1 (repeatable)")
    p.add_argument("--text-cache", default=None, help="folder of the token-feature cache (default $RAMOTION_CACHE/text_features)")
    p.add_argument("--stop-after", type=int, default=None, metavar="STEP", help="stop with a checkpoint after this step (resume later)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON (a starting point for a config file) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train or resume; prints where the run is."""
    from ..train.config import parse_override, resolve_config
    from ..train.trainer import resume_run, train

    progress = not args.no_progress
    if args.print_config and not args.resume:
        import json

        overrides = list(args.overrides) + ([f"variant={args.variant}"] if args.variant else [])
        print(json.dumps(resolve_config(args.config, overrides).to_dict(), indent=2))
        return 0
    if args.resume:
        if args.out or args.config or args.variant:
            raise UserError("--resume continues a run with its saved config: do not pass --out, --config or --variant")
        run_dir = Path(args.resume)
        if not run_dir.is_dir():
            raise UserError(f"no such run folder: {run_dir}")
        overrides = {}
        for item in args.overrides:
            keys, value = parse_override(item)
            if len(keys) != 1:
                raise UserError(f"--set {item}: only top-level fields (steps, log_every, ...) can change when resuming")
            overrides[keys[0]] = value
        result = resume_run(run_dir, args.data, overrides, stop_after=args.stop_after, progress=progress, text_cache=args.text_cache)
    else:
        if not args.data or not args.out:
            raise UserError("train needs --data ROOT and --out RUN (or --resume RUN)")
        if not Path(args.data).is_dir():
            raise UserError(f"dataset root not found: {args.data}")
        spec = args.config
        overrides = list(args.overrides)
        if args.variant:
            overrides.append(f"variant={args.variant}")
        cfg = resolve_config(spec, overrides)
        result = train(cfg, args.data, args.out, stop_after=args.stop_after, progress=progress, text_cache=args.text_cache)
    val = " ".join(f"{k}={v:.4g}" for k, v in result.last_val.items() if not k.startswith("chance"))
    print(f"step {result.step}: model in {result.run_dir}" + (f" (validation: {val})" if val else ""))
    return 0
