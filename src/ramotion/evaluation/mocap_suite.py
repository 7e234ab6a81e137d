"""Measuring generated motion against the real mocap corpus: prompts from its test split,
realism against its real motions, and style steering (walk speed and stride, wave amplitude
per Bandai-Namco style) with Spearman's rank correlation.

Used by `benchmarks/realism.py` (old model beside new) and by the default-model build
(`experiments/default_model.py`), so that both measure the same way. Ids follow
`ramotion.mocap.corpus`: `bn1_`/`bn2_<action>_<style>_<take>`, `hdm_<actor>_<class>_<take>`,
`cmu_<id>`; mirrors are `M<id>`.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict

import numpy as np

from ..data.layout import Layout, load_npy, read_captions, read_split
from ..motion.features import features_to_joints
from .realism import format_number, motion_metrics, realism_report, spearman, walking_speed_and_stride, wave_amplitude


STYLES = ("active", "elderly", "exhausted", "feminine", "masculine", "normal", "youthful")
WARMUP_PROMPT = "a person walks forward"


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


class TimedGenerator:
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


def style_steering(
    layout: Layout, ids: list[str], gens: dict[str, TimedGenerator], action: str, samples: int, seed: int
) -> dict:
    """Real vs generated per-style means for one action ("walk": speed, stride; else wave amplitude)."""
    from ..mocap.captions import MotionLabel, captions_for

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
        cells = [style, str(e["real_clips"])] + [format_number(e[who][k], 3) for k in keys for who in ["real", *names]]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["Spearman ρ (real vs model)", ""] + [
        "" if who == "real" else format_number(block["spearman"][who][k], 3) for k in keys for who in ["real", *names]
    ]
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def realism_suite(layout: Layout, split: str, generators: dict, per_action: int = 8, seeds: int = 1, seed: int = 0, max_real: int | None = None) -> dict:
    """Realism of each generator against the split's real motions, on the same prompts and seeds.

    Prompts: `sample_prompts` (per_action originals per action, first caption, own length),
    `seeds` generations each. Returns {"real": report over the split (mirrors included),
    "real_sampled": report over the prompts' own motions, "prompts": [...],
    "models": {name: {"metrics", "per_motion", "sentences", "frames", "wall_s", "s_per_sentence"}}}.
    """
    ids = read_split(layout.split(split))
    ref_ids = ids if max_real is None else random.Random(seed).sample(ids, min(max_real, len(ids)))
    real = realism_report([load_joints(layout, i) for i in ref_ids])
    prompts = sample_prompts(layout, ids, per_action, seed)
    n = len(prompts)
    texts = [p["caption"] for p in prompts] * seeds
    frames = [p["frames"] for p in prompts] * seeds
    seed_list = [seed + i + k * n for k in range(seeds) for i in range(n)]
    out: dict = {"split": split, "real_motions": len(ref_ids), "real": real, "prompts": prompts,
                 "real_sampled": realism_report([load_joints(layout, p["id"]) for p in prompts]), "models": {}}  # fmt: skip
    for name, gen in generators.items():
        before = (gen.wall, gen.sentences, gen.frames)
        joints = gen(texts, frames, seed_list)
        rows = [motion_metrics(j) for j in joints]
        wall, sentences = gen.wall - before[0], gen.sentences - before[1]
        out["models"][name] = {
            "metrics": realism_report(joints),
            "sentences": sentences,
            "frames": gen.frames - before[2],
            "wall_s": wall,
            "s_per_sentence": wall / max(sentences, 1),
            "per_motion": [{"id": prompts[k % n]["id"], "prompt": texts[k], "seed": seed_list[k], "frames": len(j), **r} for k, (j, r) in enumerate(zip(joints, rows))],
        }
    return out
