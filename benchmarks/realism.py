"""Realism and style steering of generated motion, against real motion capture.

    python benchmarks/realism.py --data build/mocap --models OLD=default NEW=runs/mocap \\
        [--split test] [--per-action 8] [--seeds 1] [--style] [--style-samples 8] \\
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

from ramotion.data.layout import Layout, load_npy, read_captions, read_split
from ramotion.evaluation.realism import (
    METRIC_HELP,
    motion_metrics,
    ratio_table,
    realism_report,
    spearman,
    walking_speed_and_stride,
    wave_amplitude,
)
from ramotion.motion.features import features_to_joints
from ramotion.pipeline import RAMPipeline

STYLES = ("active", "elderly", "exhausted", "feminine", "masculine", "normal", "youthful")
WARMUP_PROMPT = "a person walks forward"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- ids and data


def is_mirror(motion_id: str) -> bool:
    return motion_id.startswith("M")


def action_of(motion_id: str) -> str:
    """The action in an id: bn1_/bn2_<action>_<style>_<take>[_wK], hdm_<actor>_<class>_<take>, else "cmu"."""
    parts = motion_id.removeprefix("M").split("_")
    if parts[0] in ("bn1", "bn2") and len(parts) > 1:
        return parts[1]
    if parts[0] == "hdm" and len(parts) > 2:
        return parts[2]
    return "cmu" if parts[0] == "cmu" else parts[0]


def style_of(motion_id: str) -> str | None:
    parts = motion_id.removeprefix("M").split("_")
    return parts[2] if parts[0] in ("bn1", "bn2") and len(parts) > 2 else None


def load_joints(layout: Layout, motion_id: str) -> np.ndarray:
    return np.asarray(features_to_joints(load_npy(layout.features(motion_id))), dtype=np.float64)


def all_ids(layout: Layout) -> list[str]:
    path = layout.split("all")
    if path.is_file():
        return read_split(path)
    return sorted(p.stem for p in layout.features_dir.glob("*.npy"))


def sample_prompts(layout: Layout, ids: list[str], per_action: int, seed: int) -> list[dict]:
    """Up to per_action original motions per action, drawn with a fixed seed: id, action, caption, frames."""
    groups: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        if not is_mirror(i):
            groups[action_of(i)].append(i)
    rng = random.Random(seed)
    out = []
    for action in sorted(groups):
        members = sorted(groups[action])
        for i in sorted(rng.sample(members, min(per_action, len(members)))):
            caps = read_captions(layout.text(i))
            frames = int(load_npy(layout.features(i)).shape[0])
            out.append({"id": i, "action": action, "caption": caps[0].caption, "frames": frames})
    return out


# ----------------------------------------------------------------------------- generation


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


class Generator:
    """Runs a pipeline with fixed sampler overrides and keeps the honest time spent in it."""

    def __init__(self, pipe: RAMPipeline, batch_size: int, sampler: dict) -> None:
        self.pipe, self.batch_size, self.sampler = pipe, batch_size, sampler
        self.max_frames = int(pipe.config.max_frames)
        pipe([WARMUP_PROMPT], frames=20, seed=0, batch_size=1, **sampler)  # loads the text model: not timed
        self.wall, self.sentences, self.frames = 0.0, 0, 0

    def __call__(self, prompts: list[str], frames: list[int], seeds: list[int]) -> list[np.ndarray]:
        frames = [min(f, self.max_frames) for f in frames]
        t0 = time.perf_counter()
        batch = self.pipe(prompts, frames=frames, seed=seeds, batch_size=self.batch_size, **self.sampler)
        self.wall += time.perf_counter() - t0
        self.sentences += len(prompts)
        self.frames += sum(frames)
        return [np.asarray(m.joints, dtype=np.float64) for m in batch]


# ----------------------------------------------------------------------------- reports


def fmt(x: float) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.3g}"


def clean(x):  # noqa: ANN001, ANN201 - any JSON-able value
    """NaN/inf -> None and numpy scalars -> Python, so the JSON is strict."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def nanmean(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def style_block(
    layout: Layout, ids: list[str], gens: dict[str, Generator], action: str, samples: int, seed: int
) -> dict:
    """Real vs generated per-style means for one action ("walk": speed, stride; else wave amplitude)."""
    from ramotion.mocap.captions import MotionLabel, captions_for

    keys = ("speed", "stride") if action == "walk" else ("amplitude",)

    def measure(j: np.ndarray) -> dict[str, float]:
        if action == "walk":
            speed, stride = walking_speed_and_stride(j)
            return {"speed": speed, "stride": stride}
        return {"amplitude": wave_amplitude(j, "right")}

    out: dict = {"action": action, "styles": {}, "spearman": {}}
    for style in STYLES:
        prefix = f"bn2_{action}_{style}_"
        real_ids = [i for i in ids if i.startswith(prefix)]
        if not real_ids:
            log(f"no real {prefix}* clips: style {style} skipped")
            continue
        real = [load_joints(layout, i) for i in real_ids]
        rows = [measure(j) for j in real]
        frames = int(statistics.median(len(j) for j in real))
        caps = captions_for(MotionLabel("bandai-namco", action, style), samples, random.Random(seed))
        prompts = [caps[k % len(caps)] for k in range(samples)]
        seeds = [seed + k for k in range(samples)]
        entry = {"real_clips": len(real), "frames": frames, "prompts": prompts, "real": {k: nanmean([r[k] for r in rows]) for k in keys}}
        for name, gen in gens.items():
            grows = [measure(j) for j in gen(prompts, [frames] * samples, seeds)]
            entry[name] = {k: nanmean([r[k] for r in grows]) for k in keys}
        out["styles"][style] = entry
        log(f"  {action} {style}: {len(real)} real clips, {samples} generated per model")
    styles = list(out["styles"])
    for name in gens:
        out["spearman"][name] = {
            k: spearman([out["styles"][s]["real"][k] for s in styles], [out["styles"][s][name][k] for s in styles]) for k in keys
        }
    return out


def style_table(block: dict, names: list[str]) -> str:
    keys = list(next(iter(block["styles"].values()))["real"]) if block["styles"] else []
    head = ["style", "real clips"] + [f"{who} {k}" for k in keys for who in ["real", *names]]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for style, e in block["styles"].items():
        cells = [style, str(e["real_clips"])] + [fmt(e[who][k]) for k in keys for who in ["real", *names]]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["Spearman ρ (real vs model)", ""] + [
        "" if who == "real" else fmt(block["spearman"][who][k]) for k in keys for who in ["real", *names]
    ]
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    ids = read_split(layout.split(args.split))
    models = load_models(args.models, args.device, args.dtype)
    names = list(models)
    sampler = {k: v for k, v in (("steps", args.steps), ("w_reg", args.w_reg), ("w_cfg", args.w_cfg)) if v is not None}

    # Real reference.
    t0 = time.perf_counter()
    ref_ids = ids if args.max_real is None else random.Random(args.seed).sample(ids, min(args.max_real, len(ids)))
    real = realism_report([load_joints(layout, i) for i in ref_ids])
    log(f"real reference: {len(ref_ids)} {args.split} motions in {time.perf_counter() - t0:.1f} s")

    # Prompts and generation.
    prompts = sample_prompts(layout, ids, args.per_action, args.seed)
    n = len(prompts)
    texts = [p["caption"] for p in prompts] * args.seeds
    frames = [p["frames"] for p in prompts] * args.seeds
    seeds = [args.seed + i + k * n for k in range(args.seeds) for i in range(n)]
    real_sampled = realism_report([load_joints(layout, p["id"]) for p in prompts])
    log(f"{n} prompts over {len({p['action'] for p in prompts})} actions, {args.seeds} seed(s) each")

    gens: dict[str, Generator] = {}
    results: dict[str, dict] = {}
    for name, (where, pipe) in models.items():
        gens[name] = gen = Generator(pipe, args.batch_size, sampler)
        joints = gen(texts, frames, seeds)
        rows = [motion_metrics(j) for j in joints]
        results[name] = {
            "spec": where,
            "sampler": {**pipe.default_sampler(), **sampler},
            "metrics": realism_report(joints),
            "sentences": gen.sentences,
            "frames": gen.frames,
            "wall_s": gen.wall,
            "s_per_sentence": gen.wall / gen.sentences,
            "per_motion": [
                {"id": prompts[k % n]["id"], "prompt": texts[k], "seed": seeds[k], "frames": len(j), **r}
                for k, (j, r) in enumerate(zip(joints, rows))
            ],
        }
        log(f"{name}: {gen.sentences} motions in {gen.wall:.1f} s ({gen.wall / gen.sentences:.2f} s per sentence)")

    generated = {name: r["metrics"] for name, r in results.items()}
    print(f"## Realism: {', '.join(names)} vs real motion ({args.data}, {args.split} split)\n")
    print(f"Generated: {n} prompts ({args.per_action} per action) x {args.seeds} seed(s) per model.\n")
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
            block = style_block(layout, originals, gens, action, args.style_samples, args.seed)
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
