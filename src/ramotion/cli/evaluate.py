"""`ramotion evaluate`: the community's text-to-motion table for a model, with 95% intervals.

    ramotion evaluate runs/synth --data data/synth                       # 20 replications
    ramotion evaluate runs/synth --data data/synth --quick               # CI-sized
    ramotion evaluate runs/synth --data data/synth --mm --evaluator ~/t2m   # official evaluator
    ramotion evaluate gt --data data/synth                                # the ground-truth row only

Writes results.md and results.json (with the sampler settings, seeds and wall time)
into --out (default RUN_OR_MODEL/evaluation); finished replications are kept there,
so an interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

from .common import UserError

GT_NAMES = ("gt", "ground-truth", "ground_truth")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluate` verb."""
    p = sub.add_parser(
        "evaluate",
        help="FID, R-Precision, MM-Dist, Diversity, MultiModality (and semantic accuracy) of a model",
        description=(
            "Run the T2M evaluation protocol on a dataset's test split: shuffled batches of 32, ground-truth "
            "lengths, N replications, mean ± 1.96·std/√N, with a ground-truth row. RUN_OR_MODEL is a model folder "
            "or training run, or 'gt' for the ground-truth row alone."
        ),
    )
    p.add_argument("model", metavar="RUN_OR_MODEL", help="model folder or training run (or 'gt')")
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset root (HumanML3D layout) with a test split")
    p.add_argument("--evaluator", metavar="DIR", default=None,
                   help="evaluator folder: ours (`ramotion evaluator train`) or the official release (default ROOT/evaluator)")  # fmt: skip
    p.add_argument("--out", metavar="DIR", default=None, help="results folder (default RUN_OR_MODEL/evaluation, or ./evaluation for gt)")
    p.add_argument("--replications", type=int, default=None, help="replications (default 20; 3 with --quick)")
    p.add_argument("--quick", action="store_true", help="CI-sized: 3 replications of 256 test pairs, Diversity over 100 pairs, small MM")
    p.add_argument("--mm", action="store_true", help="also measure MultiModality (100 captions x 30 generations)")
    p.add_argument("--max-samples", type=int, default=None, help="use at most this many test pairs per replication")
    p.add_argument("--no-gt", action="store_true", help="skip the ground-truth row")
    p.add_argument("--semantic", choices=("auto", "on", "off"), default="auto",
                   help="semantic accuracy with the procedural checker (auto: when ROOT has programs/)")  # fmt: skip
    p.add_argument("--semantic-motions", type=int, default=None, help="check at most this many test motions (default all; 64 with --quick)")
    p.add_argument("--seed", type=int, default=0, help="protocol seed (default 0)")
    p.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    p.add_argument("--w-reg", type=float, default=None, help="REG weight w_r (default 5; 0 turns REG off)")
    p.add_argument("--w-cfg", type=float, default=1.5, help="classifier-free guidance weight w_c (default 1.5)")
    p.add_argument("--reg-steps", default="all", help="where REG runs: all, none, first:K, or timesteps like 46,44")
    p.add_argument("--reg-source", choices=("guided", "cond"), default="guided", help="estimate re-encoded by REG (default guided)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="compute precision (default auto)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    p.add_argument("--batch-size", type=int, default=64, help="captions per generation batch (default 64)")
    p.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the model's text model")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate everything, then run the protocol and write the report."""
    import torch

    from ..evaluation.data import EvalDataset
    from ..evaluation.evaluator import T2MEvaluator
    from ..evaluation.protocol import GT_ROW, Protocol, ProtocolConfig, pipeline_generator
    from ..evaluation.report import markdown_table, semantic_table, write_report

    t_start = time.perf_counter()
    root = Path(args.data)
    if not root.is_dir():
        raise UserError(f"dataset root not found: {root}")
    if args.replications is not None and args.replications < 1:
        raise UserError(f"--replications must be at least 1, got {args.replications}")
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    only_gt = args.model.lower() in GT_NAMES
    if not only_gt and not Path(args.model).exists():
        raise UserError(f"no such model folder or run: {args.model}")

    # Everything that can be wrong is checked before any generation starts.
    ev_path = Path(args.evaluator) if args.evaluator else root / "evaluator"
    if not ev_path.exists():
        hint = "" if args.evaluator else f": train one with `ramotion evaluator train --data {root} --out {ev_path}` or pass --evaluator DIR"
        raise UserError(f"evaluator not found: {ev_path}{hint}")
    device = torch.device(args.device) if args.device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    evaluator = T2MEvaluator.from_pretrained(ev_path, map_location=device)
    dataset = EvalDataset(root, "test")
    if dataset.feature_dim != evaluator.config.dim_pose:
        raise UserError(
            f"the dataset's features have {dataset.feature_dim} dims but the evaluator expects {evaluator.config.dim_pose}: "
            "use an evaluator trained for this dataset"
        )
    overrides = dict(replications=args.replications, max_samples=args.max_samples, mm=args.mm or None, seed=args.seed, generation_batch=args.batch_size)
    if args.quick:
        config = ProtocolConfig.quick(**overrides)
    else:
        config = ProtocolConfig(**{k: v for k, v in overrides.items() if v is not None})
    out = Path(args.out) if args.out else (Path("evaluation") if only_gt else Path(args.model) / "evaluation")
    protocol = Protocol(evaluator, dataset, config, out_dir=out, progress=not args.quiet)  # checks sizes and counts
    do_semantic = args.semantic == "on" or (args.semantic == "auto" and (root / "programs").is_dir())
    if args.semantic == "on" and not (root / "programs").is_dir():
        raise UserError(f"--semantic on needs a procedural dataset: {root} has no programs/ folder")

    rows = {} if args.no_gt and not only_gt else {GT_ROW: None}
    sampler: dict = {}
    generator = None
    name = "ground truth"
    if not only_gt:
        from ..pipeline import RAMPipeline

        pipe = RAMPipeline.from_pretrained(args.model, device=device, dtype=args.dtype, text_model=args.text_model)
        if pipe.config.feature_dim != dataset.feature_dim:
            raise UserError(f"the model makes {pipe.config.feature_dim}-dim features but {root} has {dataset.feature_dim}")
        sampler = dict(steps=args.steps, w_reg=args.w_reg, w_cfg=args.w_cfg, reg_steps=args.reg_steps, reg_source=args.reg_source)
        pipe(["a person walks forward"], frames=[40], seed=0, **sampler)  # fail on bad sampler settings now
        name = Path(args.model).resolve().name
        generator = pipeline_generator(pipe, batch_size=args.batch_size, **sampler)
        rows[name] = generator
    protocol.identity = {"data": str(root.resolve()), "evaluator": _stamp(ev_path), "model": None if only_gt else _stamp(Path(args.model)),
                         "sampler": sampler, "dtype": args.dtype}  # fmt: skip

    t_eval = time.perf_counter()
    results = protocol.run(rows)
    eval_s = time.perf_counter() - t_eval
    semantic = None
    if do_semantic:
        from ..evaluation.semantic import semantic_accuracy

        limit = args.semantic_motions if args.semantic_motions is not None else (64 if args.quick else None)
        kw = dict(max_motions=limit, seed=args.seed, batch_size=args.batch_size, progress=not args.quiet)
        semantic = {GT_ROW: semantic_accuracy(root, None, **kw)}  # the checker on the dataset's own motions
        if generator is not None:
            semantic[name] = semantic_accuracy(root, generator, **kw)
    wall = time.perf_counter() - t_start
    settings = {
        "model": str(args.model),
        "dataset": str(root),
        "evaluator": str(ev_path),
        "evaluator_config": asdict(evaluator.config),
        "protocol": asdict(config),
        "sampler": {**sampler, "dtype": args.dtype, "batch_size": args.batch_size} if sampler else None,
        "device": str(device),
        "replication_seeds": [protocol.replication_seeds(r) for r in range(config.replications)],
        "test_pairs_per_replication": dataset.num_batches(config.batch_size, config.max_samples) * config.batch_size,
        "wall_seconds": wall,
        "protocol_seconds": eval_s,
        "seconds_per_replication": eval_s / config.replications,
    }
    md, js = write_report(out, results, settings, semantic, title=f"Evaluation of {name} on {root.name}")
    print(markdown_table(results))
    if semantic:
        print()
        print(semantic_table(semantic))
    print(f"\n{config.replications} replications in {eval_s:.1f} s ({eval_s / config.replications:.1f} s each); wall {wall:.1f} s")
    print(f"written {md} and {js}")
    return 0


def _stamp(path: Path) -> str:
    """A path and the modification times of its files: saved replications are reused only for the same files."""
    path = path.resolve()
    files = sorted(p for p in (path.iterdir() if path.is_dir() else [path]) if p.is_file())
    return f"{path}:" + ",".join(f"{p.name}@{p.stat().st_mtime_ns}" for p in files)
