"""Rebuild the bundled default model: corpus -> training -> evaluator -> guidance sweep on
validation -> test evaluation -> save_pretrained into the package -> model card.

    python scripts/build_default_model.py                  # ~70 min on 2 idle CPU cores, writes src/ramotion/assets/default_model
    python scripts/build_default_model.py --tiny --work /tmp/b   # seconds; writes /tmp/b/default_model

Synthesis, training and the evaluator run through the `ramotion` command line itself
(the commands are recorded in the model card); the sweep and the test evaluation use the
evaluation API, because `ramotion evaluate` only reads the test split. Every stage is
resumable: rerun the same command after an interruption.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..io_utils import write_text
from .model_card import FOUND_FINISHED, MODEL_CARD_NAME, render_model_card
from .runner import MODEL_FILES, cached_value, files_digest, fingerprint, hardware, hardware_line, run_finished, save_cached_value, training_seconds

MAX_WEIGHT_MB = 25.0
GUIDANCE_GRID: tuple[tuple[float, float], ...] = tuple((wr, wc) for wr in (0.0, 2.5, 5.0) for wc in (0.0, 1.5, 2.5))
SELECTION_RULE = (
    "highest semantic accuracy (rounded to 0.01), ties broken by the lower FID; "
    "without programs in the corpus, the lowest FID"
)


@dataclass(frozen=True)
class BuildSettings:
    """Everything that decides what the build makes."""

    motions: int = 2000
    corpus_seed: int = 0
    workers: int = 2
    # `ramotion train --config` file contents: the small CPU preset, trained ~1 h on 2 cores.
    # Measured: 2.7 steps/s on 2 idle cores (43 min); 1.26 M parameters (5 MB).
    train: dict[str, Any] = field(default_factory=lambda: {"preset": "small", "steps": 6000, "log_every": 50, "val_every": 500, "ckpt_every": 500})
    evaluator_args: tuple[str, ...] = ("--preset", "small", "--epochs", "20")
    grid: tuple[tuple[float, float], ...] = GUIDANCE_GRID
    val_protocol: dict[str, Any] = field(default_factory=lambda: {"replications": 3, "max_samples": 128, "diversity_times": 100})
    val_semantic_motions: int | None = 128
    # The community's 20 replications of the whole test split would take over an hour of
    # generation on 2 CPU cores; 3 give intervals about 2.6 times as wide.
    test_protocol: dict[str, Any] = field(default_factory=lambda: {"replications": 3})
    test_semantic_motions: int | None = None
    generation_batch: int = 64
    gif_prompts: tuple[str, ...] = ("a person walks forward then waves with the left hand", "a person jumps twice and then turns left")
    # Example prompts for the web page: test-split captions the chosen setting gets right.
    example_candidates: int = 48  # test motions of one or two actions tried
    example_seeds: int = 3  # a prompt counts as validated only when every seed passes the checker
    example_keep: int = 8


FULL = BuildSettings()
TINY = BuildSettings(
    motions=100,
    workers=1,
    train={"preset": "tiny", "steps": 3, "log_every": 3, "val_every": 3, "ckpt_every": 3},
    evaluator_args=("--preset", "small", "--epochs", "1"),
    grid=((0.0, 0.0), (5.0, 1.5)),
    val_protocol={"replications": 1, "batch_size": 8, "max_samples": 8, "diversity_times": 4},
    val_semantic_motions=2,
    test_protocol={"replications": 2, "batch_size": 8, "max_samples": 8, "diversity_times": 4},
    test_semantic_motions=3,
    generation_batch=16,
    gif_prompts=(),
    example_candidates=3,
    example_seeds=1,
    example_keep=2,
)


def weights_megabytes(folder: str | Path) -> float:
    """Size of a model folder's weight files (model.safetensors + stats.safetensors) in MB (10^6 bytes)."""
    from ..model.checkpoint import STATS_NAME, WEIGHTS_NAME

    return sum((Path(folder) / n).stat().st_size for n in (WEIGHTS_NAME, STATS_NAME) if (Path(folder) / n).is_file()) / 1e6


def check_weight_size(folder: str | Path, limit_mb: float = MAX_WEIGHT_MB) -> float:
    """The weights' size in MB, or a ValueError when they exceed `limit_mb` (the package must stay small)."""
    size = weights_megabytes(folder)
    if size > limit_mb:
        raise ValueError(f"the weights in {folder} take {size:.1f} MB, over the {limit_mb:g} MB limit for the bundled model: use a smaller preset")
    return size


def choose_guidance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep row chosen by SELECTION_RULE. Each row: {"w_reg", "w_cfg", "metrics": {"fid": {"mean"}}, "semantic"?}."""
    if not rows:
        raise ValueError("the guidance sweep is empty")

    def key(r: dict[str, Any]) -> tuple[float, float]:
        sem = ((r.get("semantic") or {}).get("overall") or {}).get("accuracy")
        return (-round(sem, 2) if sem is not None else 0.0, r["metrics"]["fid"]["mean"])

    best = min(rows, key=key)
    return {"w_reg": best["w_reg"], "w_cfg": best["w_cfg"]}


def _cli(argv: list[str], commands: list[str]) -> None:
    """Run one `ramotion` command in this process; record it; fail loudly."""
    import shlex

    from ..cli import main

    commands.append(shlex.join(["ramotion", *argv]))
    print(f"$ {commands[-1]}", flush=True)
    status = main(argv)
    if status != 0:
        raise RuntimeError(f"`{commands[-1]}` failed with status {status}")


def _corpus_done(root: Path, motions: int, seed: int) -> bool:
    meta = root / "synth.json"
    if not meta.is_file():
        return False
    info = json.loads(meta.read_text(encoding="utf-8"))
    return info.get("motions") == motions and info.get("seed") == seed and (root / "Mean.npy").is_file()


def _protocol_text(cfg: Any, pairs: int) -> str:
    return (
        f"{cfg.replications} replication(s) of {pairs} (caption, motion) pairs in batches of {cfg.batch_size}, "
        f"Diversity over {cfg.diversity_times} pairs; mean ± 95% interval (1.96·std/√{cfg.replications})"
    )


def build_default_model(
    work: str | Path,
    dest: str | Path | None = None,
    settings: BuildSettings = FULL,
    *,
    limit_mb: float = MAX_WEIGHT_MB,
    rebuild_command: str = "python scripts/build_default_model.py",
    progress: bool = True,
) -> dict[str, Any]:
    """Build the default model under `work` and save it (with MODEL_CARD.md) to `dest`
    (default: the package's assets/default_model). Returns the info the card was made from."""
    import torch

    from ..evaluation.data import EvalDataset
    from ..evaluation.evaluator import T2MEvaluator
    from ..evaluation.protocol import GT_ROW, Protocol, ProtocolConfig, pipeline_generator
    from ..evaluation.semantic import semantic_accuracy
    from ..pipeline import DEFAULT_MODEL_DIR, RAMPipeline
    from ..synth import ACTIONS

    t0 = time.perf_counter()
    work = Path(work)
    dest = Path(dest) if dest is not None else DEFAULT_MODEL_DIR
    work.mkdir(parents=True, exist_ok=True)
    corpus, run, ev_dir = work / "corpus", work / "run", work / "evaluator"
    commands: list[str] = []
    quiet = [] if progress else ["--quiet"]

    # 1. The procedural corpus (fixed seed: the same bytes every time).
    if not _corpus_done(corpus, settings.motions, settings.corpus_seed):
        _cli(["synth", "--motions", str(settings.motions), "--seed", str(settings.corpus_seed), "--out", str(corpus), "--workers", str(settings.workers), "--force", *quiet], commands)
    else:
        commands.append(f"ramotion synth --motions {settings.motions} --seed {settings.corpus_seed} --out {corpus} --workers {settings.workers}{FOUND_FINISHED}")

    # 2. Training, through `ramotion train` with a config file.
    from ..train.config import resolve_config
    from ..train.state import checkpoint_dirs

    config_file = work / "train_config.json"
    write_text(config_file, json.dumps(settings.train, indent=2) + "\n")
    cfg = resolve_config(config_file)
    no_bar = [] if progress else ["--no-progress"]
    if run_finished(run, cfg.steps):
        commands.append(f"ramotion train --config {config_file} --data {corpus} --out {run}{FOUND_FINISHED}")
    elif checkpoint_dirs(run):
        _cli(["train", "--resume", str(run), *no_bar], commands)
    else:
        if run.exists():
            import shutil

            shutil.rmtree(run)  # died before its first checkpoint
        _cli(["train", "--config", str(config_file), "--data", str(corpus), "--out", str(run), *no_bar], commands)
    train_seconds = training_seconds(run)

    # 3. The evaluator.
    from ..evaluation.evaluator import CONFIG_NAME as EV_CONFIG

    if not ((ev_dir / EV_CONFIG).is_file() and (ev_dir / "train_report.json").is_file()):
        _cli(["evaluator", "train", "--data", str(corpus), "--out", str(ev_dir), *settings.evaluator_args, "--force", *quiet], commands)
    else:
        commands.append(f"ramotion evaluator train --data {corpus} --out {ev_dir} {' '.join(settings.evaluator_args)}{FOUND_FINISHED}")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    evaluator = T2MEvaluator.from_pretrained(ev_dir, map_location=device)
    pipe = RAMPipeline.from_pretrained(run, device=device)
    identity = {"model": files_digest(run, MODEL_FILES), "evaluator": files_digest(ev_dir)}
    has_programs = (corpus / "programs").is_dir()

    def evaluate(split: str, protocol: dict[str, Any], semantic_motions: int | None, sampler: dict[str, Any] | None, name: str, out: Path) -> dict[str, Any]:
        """Protocol metrics (+ semantic accuracy) of one sampler setting (None: ground truth) on a split, cached."""
        data = EvalDataset(corpus, split)
        pcfg = ProtocolConfig(**{**protocol, "generation_batch": settings.generation_batch})
        pairs = data.num_batches(pcfg.batch_size, pcfg.max_samples) * pcfg.batch_size
        if pairs <= pcfg.diversity_times:  # small corpora: Diversity over half the pairs
            pcfg.diversity_times = max(1, pairs // 2)
        gen = pipeline_generator(pipe, batch_size=settings.generation_batch, **sampler) if sampler is not None else None
        ident = {**identity, "split": split, "sampler": sampler}
        metrics = Protocol(evaluator, data, pcfg, out_dir=out, progress=progress, identity=ident).run({name: gen})[name]
        row = {"metrics": metrics, "protocol": asdict(pcfg), "pairs": pairs}
        if has_programs:
            kw = dict(split=split, max_motions=semantic_motions, seed=0, batch_size=settings.generation_batch)
            fp = fingerprint({**ident, **kw})
            path = out / "semantic" / f"{name.replace(' ', '_')}.json"
            sem = cached_value(path, fp)
            if sem is None:
                sem = semantic_accuracy(corpus, gen, progress=progress, **kw)
                save_cached_value(path, fp, sem)
            row["semantic"] = sem
        return row

    # 4. The REG/CFG sweep on the validation split.
    sweep = []
    for wr, wc in settings.grid:
        sampler = {"steps": 20, "w_reg": wr, "w_cfg": wc, "reg_steps": "all" if wr else "none"}
        row = evaluate("val", settings.val_protocol, settings.val_semantic_motions, sampler, f"w_r={wr:g}_w_c={wc:g}", work / "sweep")
        sweep.append({"w_reg": wr, "w_cfg": wc, **row})
    chosen = choose_guidance(sweep)
    chosen_sampler = {"steps": 20, "w_reg": chosen["w_reg"], "w_cfg": chosen["w_cfg"], "reg_steps": "all" if chosen["w_reg"] else "none"}

    # 5. The test split: ground truth and the chosen setting, under the same protocol and seeds.
    gt = evaluate("test", settings.test_protocol, settings.test_semantic_motions, None, GT_ROW, work / "test")
    model = evaluate("test", settings.test_protocol, settings.test_semantic_motions, chosen_sampler, "default model", work / "test")

    # 6. Example prompts that the chosen setting demonstrably handles (for the web page).
    examples = []
    if has_programs:
        ex_path = work / "examples.json"
        ex_fp = fingerprint({**identity, "sampler": chosen_sampler, "candidates": settings.example_candidates, "seeds": settings.example_seeds})
        examples = cached_value(ex_path, ex_fp)
        if examples is None:
            gen = pipeline_generator(pipe, batch_size=settings.generation_batch, **chosen_sampler)
            examples = validated_examples(corpus, gen, candidates=settings.example_candidates, seeds=settings.example_seeds, keep=settings.example_keep)
            save_cached_value(ex_path, ex_fp, examples)

    # 7. Save into the package (or `dest`), check the size, write the card.
    pipe.extra.update({"sampler": chosen_sampler, "built_by": "scripts/build_default_model.py"})
    if examples:
        pipe.extra["example_prompts"] = [e["prompt"] for e in examples]
    dest.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(dest)
    size = check_weight_size(dest, limit_mb)
    model_cfg = pipe.config.to_dict()
    synth_meta = json.loads((corpus / "synth.json").read_text(encoding="utf-8"))
    held = json.loads((corpus / "held_out_compositions.json").read_text(encoding="utf-8")) if (corpus / "held_out_compositions.json").is_file() else {"pairs": []}
    splits = {s: len((corpus / f"{s}.txt").read_text().split()) for s in ("train", "val", "test")}
    frames = sum(int(v) for v in _feature_frames(corpus))
    from .. import __version__

    pcfg_val = ProtocolConfig(**sweep[0]["protocol"])
    pcfg_test = ProtocolConfig(**model["protocol"])
    info: dict[str, Any] = {
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "corpus": {"motions": synth_meta["motions"], "seed": synth_meta["seed"], "hours": frames / 20.0 / 3600.0, "splits": splits, "held_out_pairs": len(held["pairs"])},
        "train": {"preset": cfg.preset, "variant": cfg.variant, "overrides": {k: v for k, v in settings.train.items() if k != "preset"}, "steps": cfg.steps, "batch_size": cfg.batch_size},
        "model": model_cfg,
        "params": sum(p.numel() for p in pipe.model.parameters()),
        "train_seconds": train_seconds,
        "hardware": hardware_line(hardware()),
        "weights_mb": size,
        "limit_mb": limit_mb,
        "chosen": chosen,
        "rule": SELECTION_RULE,
        "sweep": sweep,
        "val_protocol": _protocol_text(pcfg_val, sweep[0]["pairs"]),
        "test_protocol": _protocol_text(pcfg_test, model["pairs"]),
        "test": {GT_ROW: gt["metrics"], "default model": model["metrics"]},
        "semantic": {GT_ROW: gt["semantic"], "default model": model["semantic"]} if has_programs else {},
        "actions": sorted(ACTIONS),
        "max_seconds": pipe.config.max_frames / 20.0,
        "examples": examples,
        "example_rule": f"test-split captions of one or two actions ({settings.example_candidates} tried); kept when all "
        f"{settings.example_seeds} seeds pass the checker at the program's length",
        "rebuild": rebuild_command,
        "commands": commands,
        "wall_seconds": None,
    }
    gifs = []
    for i, prompt in enumerate(settings.gif_prompts):
        gif = work / "gifs" / f"default_model_{i}.gif"
        gif.parent.mkdir(parents=True, exist_ok=True)
        pipe(prompt, seconds=6.0, seed=0, **chosen_sampler).save(gif)
        gifs.append(str(gif))
    info["gifs"] = gifs
    info["wall_seconds"] = time.perf_counter() - t0
    write_text(dest / MODEL_CARD_NAME, render_model_card(info))
    for f in dest.iterdir():  # package data: readable by everyone, whatever the builder's umask
        if f.is_file():
            f.chmod(0o644)
    write_text(work / "build_report.json", json.dumps(info, indent=2, default=str))
    return info


def validated_examples(
    corpus: Path,
    generator: Any,
    *,
    candidates: int = 48,
    seeds: int = 3,
    keep: int = 8,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Prompts the model demonstrably gets right, for the web page's examples.

    Tries `candidates` test motions of one or two actions (drawn with `seed`), each with its
    shortest caption, generated with `seeds` seeds at the program's length; a prompt is kept
    when the corpus's checker passes every action for every seed. Returns up to `keep`
    of them, one per action combination, shortest first: {"prompt", "actions", "seconds"}.
    """
    import numpy as np

    from ..data.layout import Layout, read_captions, read_split
    from ..evaluation.semantic import PROGRAMS_DIR, result_passed
    from ..motion.features import features_to_joints
    from ..synth import check
    from ..synth.program import Program

    layout = Layout.of(corpus)
    ids = []
    for i in read_split(layout.split("test")):
        path = corpus / PROGRAMS_DIR / f"{i}.json"
        if path.is_file():
            program = Program.from_json(path.read_text(encoding="utf-8"))
            if len(program.names()) <= 2:
                ids.append((i, program))
    rng = np.random.default_rng(seed)
    picked = [ids[k] for k in sorted(rng.permutation(len(ids))[:candidates].tolist())]
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for i, program in picked:
        caption = min((c.caption for c in read_captions(layout.text(i))), key=len)
        frames = int(program.num_frames)
        feats = generator([caption] * seeds, [frames] * seeds, list(range(seeds)))
        ok = True
        for f in feats:
            results = check(program, np.asarray(features_to_joints(np.asarray(f, dtype=np.float32)[:frames])))
            results = list(results.values()) if isinstance(results, dict) else list(results)
            ok = ok and all(result_passed(r) for r in results)
        key = tuple(program.names())
        if ok and (key not in found or len(caption) < len(found[key]["prompt"])):
            found[key] = {"prompt": caption, "actions": list(key), "seconds": frames / float(program.fps)}
    return sorted(found.values(), key=lambda e: len(e["prompt"]))[:keep]


def _feature_frames(root: Path) -> list[int]:
    """Frame counts of every motion in the corpus (mirrors included)."""
    from ..data.layout import Layout, npy_shape

    layout = Layout.of(root)
    return [npy_shape(p)[0][0] for p in sorted(layout.features_dir.glob("*.npy"))]
