"""Realism and style steering of generated motion, against real motion capture.

    python benchmarks/realism.py --data build/mocap --models OLD=default NEW=runs/mocap \\
        [--split test] [--per-action 8] [--seeds 1] [--style] [--style-samples 8] [--no-cleanup] \\
        [--out docs/results/realism.json]

Models: NAME=SPEC, SPEC "default" for the bundled model (RAMPipeline.from_pretrained()),
otherwise a model folder or a training run folder.

1. Realism (`ramotion.evaluation.realism`): the metrics of the split's real motions
   (features -> features_to_joints, originals and mirrors) against those of generated ones.
   Prompts: up to --per-action original motions of the split per action (the action read
   from the id: `bn1_<action>_<style>_<take>`, `hdm_<actor>_<class>_<take>`, "cmu" for CMU),
   drawn with --seed; each is generated from the motion's first caption at the motion's own
   length (capped at the model's maximum), --seeds times, with the same prompts and seeds for
   every model. Two tables: against the whole split, and against the sampled prompts' own
   motions (same actions and lengths as the generated set, so the fairer comparison).
   Generation time per sentence: wall time of the pipeline calls (text model, every
   denoising step; model loading and one warm-up call excluded) / sentences, in batches of
   --batch-size.
2. Style steering (--style): per Bandai-Namco dataset-2 style, the mean walking speed and
   stride of the real `bn2_walk_<style>_*` clips (originals, every split) against --style-samples
   generated walks per style (captions from the corpus's caption grammar,
   `captions_for(MotionLabel("bandai-namco", "walk", style), ...)`, at the style's median real
   clip length), and the Spearman rank correlation of the style means real vs generated;
   the same for the right wrist's vertical range in `wave-right-hand`.

Sizes: the bundled model made 29 motions (2365 frames) in 4.6 s on one busy CPU thread in
batches of 16 (0.16 s per sentence). The defaults (8 prompts per action, one seed) generate
176 motions per model on build/mocap, and --style adds 2 x 7 x --style-samples (112) more:
well under a minute per model for the bundled model; larger models scale with their size.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ramotion.data.layout import Layout
from ramotion.evaluation.mocap_suite import TimedGenerator, all_ids, clean, is_mirror, realism_suite, style_steering, style_table
from ramotion.evaluation.realism import METRIC_HELP, ratio_table
from ramotion.pipeline import RAMPipeline

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_models(specs: list[str], device: str | None, dtype: str) -> dict[str, tuple[str, RAMPipeline]]:
    models = {}
    for spec in specs:
        name, sep, where = spec.partition("=")
        if not sep:
            name, where = spec, spec
        if name in models or name in ("real", "styles", "spearman", "action"):
            raise SystemExit(f"model name {name!r} is given twice or reserved: choose another")
        log(f"loading {name} ({where})")
        pipe = RAMPipeline.from_pretrained(None if where == "default" else where, device=device, dtype=dtype)
        models[name] = (where, pipe)
    return models



# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/mocap", help="dataset root in the HumanML3D layout (default build/mocap)")
    ap.add_argument("--models", nargs="+", default=["OLD=default"], help="NAME=SPEC, SPEC 'default' (bundled) or a model/run folder")
    ap.add_argument("--split", default="test", help="split of the real reference and the prompts (default test)")
    ap.add_argument("--per-action", type=int, default=8, help="prompts per action (default 8)")
    ap.add_argument("--seeds", type=int, default=1, help="generations per prompt, seeds seed+i+k*n (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the prompt sample and of generation (default 0)")
    ap.add_argument("--max-real", type=int, default=None, help="use at most this many real motions as the reference (default all)")
    ap.add_argument("--style", action="store_true", help="also measure style steering (walk speed/stride, wave amplitude)")
    ap.add_argument("--style-samples", type=int, default=8, help="generated motions per style and action (default 8)")
    ap.add_argument("--batch-size", type=int, default=16, help="pipeline batch size (default 16)")
    ap.add_argument("--steps", type=int, default=None, help="sampler steps (default: each model's own)")
    ap.add_argument("--w-reg", type=float, default=None, help="REG weight (default: each model's own)")
    ap.add_argument("--w-cfg", type=float, default=None, help="CFG weight (default: each model's own)")
    ap.add_argument("--no-cleanup", action="store_true", help="raw samples: skip each model's saved foot cleanup (default: apply it, as users get)")
    ap.add_argument("--device", default=None, help="torch device (default: CUDA when available, else CPU)")
    ap.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16 (default auto)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--out", default="docs/results/realism.json", help="JSON output (default docs/results/realism.json)")
    args = ap.parse_args()
    if args.per_action < 1 or args.seeds < 1 or args.style_samples < 1 or args.batch_size < 1:
        ap.error("--per-action, --seeds, --style-samples and --batch-size must be positive")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()

    layout = Layout.of(args.data)
    models = load_models(args.models, args.device, args.dtype)
    names = list(models)
    sampler = {k: v for k, v in (("steps", args.steps), ("w_reg", args.w_reg), ("w_cfg", args.w_cfg)) if v is not None}
    if args.no_cleanup:
        sampler["cleanup"] = False
    gens = {name: TimedGenerator(pipe, args.batch_size, sampler) for name, (_, pipe) in models.items()}
    suite = realism_suite(layout, args.split, gens, args.per_action, args.seeds, args.seed, args.max_real)
    real, real_sampled, prompts, results = suite["real"], suite["real_sampled"], suite["prompts"], suite["models"]
    ref_ids, n = range(suite["real_motions"]), len(prompts)
    for name, (where, pipe) in models.items():
        results[name] = {"spec": where, "sampler": {**pipe.default_sampler(), **sampler}, **results[name]}
        log(f"{name}: {results[name]['sentences']} motions in {results[name]['wall_s']:.1f} s ({results[name]['s_per_sentence']:.2f} s per sentence)")

    generated = {name: r["metrics"] for name, r in results.items()}
    print(f"## Realism: {', '.join(names)} vs real motion ({args.data}, {args.split} split)\n")
    what = "raw (no foot cleanup)" if args.no_cleanup else "with each model's saved foot cleanup"
    print(f"Generated: {n} prompts ({args.per_action} per action) x {args.seeds} seed(s) per model, {what}.\n")
    print(f"### Against the whole {args.split} split ({len(ref_ids)} motions, mirrors included)\n")
    print(ratio_table(generated, real) + "\n")
    print(f"### Against the sampled prompts' own motions ({n}: same actions and lengths)\n")
    print(ratio_table(generated, real_sampled) + "\n")
    print("Metrics: " + "; ".join(f"{k}: {v}" for k, v in METRIC_HELP.items()) + ".\n")
    print("### Generation time\n")
    print("| model | sentences | frames | wall s | s / sentence | batch |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['sentences']} | {r['frames']} | {r['wall_s']:.1f} | {r['s_per_sentence']:.3f} | {args.batch_size} |")
    print(f"\n{torch.get_num_threads()} torch threads; text model included, loading and one warm-up call excluded.\n")

    style: dict = {}
    if args.style:
        every = all_ids(layout)
        originals = [i for i in every if not is_mirror(i)]
        for action, title in (("walk", "Walking speed (m/s) and stride (m)"), ("wave-right-hand", "Right wrist vertical range (m)")):
            log(f"style steering: {action}")
            block = style_steering(layout, originals, gens, action, args.style_samples, args.seed)
            style[action] = block
            print(f"## Style steering: {action} — {title} per style\n")
            print(f"{args.style_samples} generated per style and model; real: bn2_{action}_<style>_* originals, every split.\n")
            print(style_table(block, names) + "\n")

    total = time.perf_counter() - started
    print(f"Total benchmark time {total:.0f} s.")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "args": vars(args),
            "real": {"split": args.split, "motions": len(ref_ids), "metrics": real},
            "real_sampled": {"motions": n, "metrics": real_sampled},
            "prompts": prompts,
            "models": results,
            "style": style,
            "generation_total": {name: {"sentences": g.sentences, "wall_s": g.wall} for name, g in gens.items()},
            "total_s": total,
        }
        out.write_text(json.dumps(clean(payload), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
