"""`ramotion experiment`: reproduce one of the paper's tables (spec §9) end to end.

    ramotion experiment table3 --data data/synth --scale small --out experiments/small --model src/ramotion/assets/default_model
    ramotion experiment table4 --data data/synth --scale small --out experiments/small --results-page docs/results.md
    ramotion experiment table5 --data data/humanml3d --scale paper --out experiments/h3d --model runs/h3d --evaluator t2m_evaluator/

Tables: table3 (REG schedule vs AITS and quality, plus the MDM-style 50-step sampler),
table4 (components added one at a time; retrains), table5 (the (w_r, w_c) sweep),
table6 (latent objectives A-E vs ours; retrains), table7 (λ, τ), table8 (w_align, w_sr),
table9 (d_E). Scales: paper (the paper's settings, for GPUs), small (a 2-core CPU, hours),
tiny (seconds, for tests). Rows that only change sampling reuse --model (or one model
trained with the paper's objective when none is given). Everything is resumable: rerun
the same command after an interruption.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `experiment` verb."""
    from ..experiments.scales import SCALES
    from ..experiments.tables import TABLES

    p = sub.add_parser(
        "experiment", help="reproduce one of the paper's tables (train, evaluate, table + plot)", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("name", choices=sorted(TABLES), metavar="NAME", help=f"which experiment: {', '.join(TABLES)}")
    p.add_argument("--data", required=True, metavar="ROOT", help="dataset root in the HumanML3D layout (e.g. written by `ramotion synth`)")
    p.add_argument("--scale", choices=list(SCALES), default="small",
                   help="paper (the paper's settings, GPUs), small (fits a 2-core CPU) or tiny (tests); default small")  # fmt: skip
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (shared by tables: trained models and the evaluator are reused)")
    p.add_argument("--model", metavar="DIR", default=None, help="model for the rows that only change sampling (table3, table5); default: train one")
    p.add_argument("--evaluator", metavar="DIR", default=None, help="evaluator folder (default: train one into OUT/evaluator, or reuse it)")
    p.add_argument("--replications", type=int, default=None, help="protocol replications (default: the scale's; 20 at paper scale)")
    p.add_argument("--train-steps", type=int, default=None, metavar="N",
                   help="train each retrained variant for N steps instead of the scale's (500 at small scale); runs of other lengths are kept")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="training and protocol seed (default 0)")
    p.add_argument("--device", default=None, help="torch device for sampling and evaluation (default: cuda if available)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="sampling precision (default auto)")
    p.add_argument("--semantic", choices=("auto", "on", "off"), default="auto", help="semantic accuracy (auto: when ROOT has programs/)")
    p.add_argument("--mm", action="store_true", help="also measure MultiModality")
    p.add_argument("--text-model", metavar="PATH", default=None, help="local text model for retrained variants (default all-MiniLM-L6-v2)")
    p.add_argument("--text-cache", metavar="DIR", default=None, help="token-feature cache folder (default $RAMOTION_CACHE/text_features)")
    p.add_argument("--results-page", metavar="FILE", default=None, help="also update this experiment's section of a results page (e.g. docs/results.md)")
    p.add_argument("--plan", action="store_true",
                   help="only print the training runs the experiment needs, with the `ramotion train` command of each "
                   "(e.g. to run them under `accelerate launch` on several GPUs first), and exit")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the experiment and print its table."""
    from ..experiments.runner import ExperimentOptions, plan, run_experiment
    from ..experiments.scales import get_scale

    opts = ExperimentOptions(
        name=args.name, data=args.data, out=args.out, scale=args.scale, model=args.model, evaluator=args.evaluator, replications=args.replications, train_steps=args.train_steps,
        seed=args.seed, device=args.device, dtype=args.dtype, semantic=args.semantic, mm=args.mm, text_model=args.text_model,
        text_cache=args.text_cache, results_page=args.results_page, progress=not args.quiet,
    )  # fmt: skip
    if args.plan:
        runs = plan(opts)
        if not runs:
            print(f"{args.name} trains nothing (it samples from --model)")
        for r in runs:
            state = "finished" if r["finished"] else "to train"
            print(f"# {r['run']} ({state}) for: {', '.join(r['rows'])}\n{r['command']}")
        return 0
    if not args.quiet:
        print(f"{args.name} at scale {args.scale}; expected wall time: {get_scale(args.scale).expected}", flush=True)
    result = run_experiment(opts)
    print(result.markdown.read_text(encoding="utf-8"))
    done = f"trained {len(result.trained)} model(s), reused {len(result.reused)}" if result.trained or result.reused else "no training"
    print(f"{done}; {result.wall_seconds / 60:.1f} min. Written {result.markdown}, {result.json}, {result.plot}")
    return 0
