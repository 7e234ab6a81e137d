"""Rebuild the bundled default model: corpus -> training -> evaluator -> length predictor ->
guidance sweep on validation -> test evaluation -> save_pretrained into the package -> model card.

    python scripts/build_default_model.py                  # the real mocap corpus; ~1.5 h on 2 idle CPU cores
    python scripts/build_default_model.py --tiny --work /tmp/b   # seconds; writes /tmp/b/default_model

The corpus (`BuildSettings.corpus`): "mocap", the real capture of ../shared/data/mocap
(what `ramotion data build-mocap` builds; the default since the model must move like a person);
"synth", the procedural corpus (the earlier default, and the tiny test build); or "mixed",
both merged with per-source weights. With mocap in the corpus, realism (joint acceleration
and foot skating against the real validation motions) is part of the guidance rule, and the
test report adds realism, the held-out (action, style) pairs and style steering.

The corpus, training, the evaluator and the length predictor call the library functions the
`ramotion` verbs call, with the same arguments; the equivalent `ramotion ...` command lines are
recorded in the model card. The sweep and the test evaluation use the evaluation API, because
`ramotion evaluate` only reads the test split. Every stage is resumable: rerun the same command
after an interruption. `build_default_model` runs the steps below it in order, one function each.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..data.layout import Layout, npy_shape, read_captions, read_split
from ..data.merge import merge_datasets
from ..data.tagging import get_tagger
from ..evaluation.data import EvalDataset
from ..evaluation.evaluator import CONFIG_NAME as EVALUATOR_CONFIG
from ..evaluation.evaluator import T2MEvaluator
from ..evaluation.mocap_suite import TimedGenerator, action_of, all_ids, clean, is_mirror, realism_suite, style_steering
from ..evaluation.protocol import GT_ROW, Protocol, ProtocolConfig, pipeline_generator
from ..evaluation.semantic import PROGRAMS_DIR, result_passed, semantic_accuracy
from ..evaluation.train_evaluator import TrainEvaluatorConfig, train_evaluator
from ..io_utils import write_text
from ..mocap.corpus import SOURCES, build_mocap_corpus
from ..model.checkpoint import STATS_NAME, WEIGHTS_NAME
from ..model.length import LengthPredictor, load_length_predictor
from ..motion.cleanup import CleanupConfig
from ..motion.features import features_to_joints
from ..pipeline import DEFAULT_MODEL_DIR, RAMPipeline
from ..synth import ACTIONS, check
from ..synth.corpus import write_corpus
from ..synth.program import Program
from ..train.config import TrainConfig, resolve_config
from ..train.length import LengthTrainSettings, load_report, train_length_predictor
from ..train.state import checkpoint_dirs
from ..train.trainer import resume_run, train
from .model_card import FOUND_FINISHED, MODEL_CARD_NAME, render_model_card
from .provenance import MODEL_FILES, cached_value, files_digest, fingerprint, hardware, hardware_line, run_finished, save_cached_value, training_seconds

MAX_WEIGHT_MB = 25.0
# The command-line option of each settings field the build passes to the evaluator and the
# length predictor: the recorded `ramotion ...` commands say what the build called.
EVALUATOR_FLAGS = {"preset": "--preset", "epochs": "--epochs", "warmup_epochs": "--warmup-epochs", "max_minutes": "--minutes", "batch_size": "--batch-size",
                   "lr": "--lr", "margin": "--margin", "seed": "--seed", "text_model": "--text-model", "device": "--device"}  # fmt: skip
LENGTH_FLAGS = {"epochs": "--epochs", "hidden": "--hidden", "seed": "--seed"}
GUIDANCE_GRID: tuple[tuple[float, float], ...] = tuple((wr, wc) for wr in (0.0, 2.5, 5.0) for wc in (0.0, 1.5, 2.5))
REALISM_LIMIT = 1.5  # a setting is realistic when its acceleration and skating are within 1.5x of real
REALISM_KEYS = ("acceleration", "skating")
SELECTION_RULE = (
    "highest semantic accuracy (rounded to 0.01), ties broken by the lower FID; "
    "without programs in the corpus, the lowest FID among the settings whose joint acceleration and foot "
    f"skating, as users get them (after the model's foot cleanup, when it has one), are within {REALISM_LIMIT:g}x "
    "of the real validation motions (none: the setting closest to real)"
)


@dataclass(frozen=True)
class BuildSettings:
    """Everything that decides what the build makes."""

    corpus: str = "mocap"  # mocap | synth | mixed
    mocap_root: str = "../shared/data/mocap"
    mocap_limit: int | None = None  # clips per mocap source (None: all)
    mix_weights: tuple[float, float] = (1.0, 1.0)  # (mocap, synth) sampling weights for "mixed"
    motions: int = 2000  # procedural motions (synth, mixed)
    corpus_seed: int = 0
    workers: int = 2
    # `ramotion train --config` file contents: the small CPU preset (1.26 M parameters, 5 MB).
    # Measured on 2 cores (Xeon with AMX): 3 steps/s in fp32, 0.84x that in bf16 autocast at
    # this size; a 5.4 M-parameter model (dim 256, 6 layers) ran 0.5 (fp32) / 0.6 (bf16)
    # steps/s at batch 32, too slow for this build's time on these CPUs. 16000 steps: at 8000
    # its validation losses were still falling by 4% per 1000 steps (the preset has no LR decay,
    # so a longer run is the shorter one resumed: `--set steps=`).
    train: dict[str, Any] = field(default_factory=lambda: {"preset": "small", "steps": 16000, "log_every": 50, "val_every": 500, "ckpt_every": 500})
    # The evaluator's TrainEvaluatorConfig fields (`ramotion evaluator train` options; see EVALUATOR_FLAGS).
    evaluator: dict[str, Any] = field(default_factory=lambda: {"preset": "small", "epochs": 20})
    # The length predictor's LengthTrainSettings fields (`ramotion length train` options; see LENGTH_FLAGS):
    # the predictor for prompts without a length; ~1 min on one CPU thread.
    length: dict[str, Any] = field(default_factory=dict)
    grid: tuple[tuple[float, float], ...] = GUIDANCE_GRID
    val_protocol: dict[str, Any] = field(default_factory=lambda: {"replications": 3, "max_samples": 128, "diversity_times": 100})
    val_semantic_motions: int | None = 128
    # The community's 20 replications of the whole test split would take over an hour of
    # generation on 2 CPU cores; 3 give intervals about 2.6 times as wide.
    test_protocol: dict[str, Any] = field(default_factory=lambda: {"replications": 3})
    test_semantic_motions: int | None = None
    generation_batch: int = 64
    gif_prompts: tuple[str, ...] = ("a person walks forward then waves with the left hand", "a person jumps twice and then turns left")
    # Mocap measurements: realism prompts per action on validation (sweep) and test; style samples.
    realism_val_per_action: int = 3
    realism_test_per_action: int = 8
    style_samples: int = 8
    # Example prompts for the web page: test-split captions the chosen setting gets right.
    example_candidates: int = 48  # test motions of one or two actions tried
    example_seeds: int = 3  # a prompt counts as validated only when every seed passes the checker
    example_keep: int = 8
    # The foot cleanup saved with the model (config.json extra.cleanup; None: raw joints). Real
    # mocap: `CleanupConfig()`'s defaults, chosen on its validation split (benchmarks/cleanup.py).
    cleanup: dict[str, Any] | None = field(default_factory=lambda: CleanupConfig().to_dict())


FULL = BuildSettings(
    gif_prompts=(
        "a person walks forward",
        "an elderly person walks forward slowly",
        "someone walks forward like an exhausted person",
        "a person waves with the right hand happily",
        "a person raises both hands",
        "a person jumps forward",
    ),
)
# The earlier default: the procedural corpus, 6000 steps (the model the small-scale tables of
# docs/results.md sample from; `--corpus synth`).
SYNTH = BuildSettings(corpus="synth", cleanup=None, train={"preset": "small", "steps": 6000, "log_every": 50, "val_every": 500, "ckpt_every": 500})
TINY = BuildSettings(
    corpus="synth",
    motions=100,
    workers=1,
    train={"preset": "tiny", "steps": 3, "log_every": 3, "val_every": 3, "ckpt_every": 3},
    evaluator={"preset": "small", "epochs": 1},
    length={"epochs": 2},
    grid=((0.0, 0.0), (5.0, 1.5)),
    val_protocol={"replications": 1, "batch_size": 8, "max_samples": 8, "diversity_times": 4},
    val_semantic_motions=2,
    test_protocol={"replications": 2, "batch_size": 8, "max_samples": 8, "diversity_times": 4},
    test_semantic_motions=3,
    generation_batch=16,
    gif_prompts=(),
    cleanup=None,
    example_candidates=3,
    example_seeds=1,
    example_keep=2,
    realism_val_per_action=1,
    realism_test_per_action=1,
    style_samples=1,
)
# The tiny build on a few clips of the real mocap (tests with ../shared/data).
TINY_MOCAP = dataclasses.replace(TINY, corpus="mocap", mocap_limit=40, cleanup=CleanupConfig().to_dict(), evaluator={"preset": "small", "epochs": 1, "batch_size": 8})


def weights_megabytes(folder: str | Path) -> float:
    """Size of a model folder's weight files (model.safetensors + stats.safetensors) in MB (10^6 bytes)."""
    return sum((Path(folder) / n).stat().st_size for n in (WEIGHTS_NAME, STATS_NAME) if (Path(folder) / n).is_file()) / 1e6


def check_weight_size(folder: str | Path, limit_mb: float = MAX_WEIGHT_MB) -> float:
    """The weights' size in MB, or a ValueError when they exceed `limit_mb` (the package must stay small)."""
    size = weights_megabytes(folder)
    if size > limit_mb:
        raise ValueError(f"the weights in {folder} take {size:.1f} MB, over the {limit_mb:g} MB limit for the bundled model: use a smaller preset")
    return size


def realism_distance(row: dict[str, Any]) -> float | None:
    """The worst of max(ratio, 1/ratio) over REALISM_KEYS of a sweep row's realism ratios to real (None: not measured)."""
    ratios = (row.get("realism") or {}).get("ratios")
    if not ratios:
        return None
    worst = 1.0
    for k in REALISM_KEYS:
        r = ratios.get(k)
        if r is None or not r > 0:
            return float("inf")
        worst = max(worst, r, 1.0 / r)
    return worst


def choose_guidance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep row chosen by SELECTION_RULE. Each row: {"w_reg", "w_cfg", "metrics": {"fid": {"mean"}},
    "semantic"?, "realism"?: {"ratios": {metric: generated / real}}}."""
    if not rows:
        raise ValueError("the guidance sweep is empty")
    has_semantic = any(r.get("semantic") for r in rows)
    distances = [realism_distance(r) for r in rows]
    if not has_semantic and all(d is not None for d in distances):
        realistic = [r for r, d in zip(rows, distances) if d <= REALISM_LIMIT]
        if realistic:
            best = min(realistic, key=lambda r: r["metrics"]["fid"]["mean"])
        else:
            best = min(zip(rows, distances), key=lambda rd: (rd[1], rd[0]["metrics"]["fid"]["mean"]))[0]
        return {"w_reg": best["w_reg"], "w_cfg": best["w_cfg"]}

    def key(r: dict[str, Any]) -> tuple[float, float]:
        sem = ((r.get("semantic") or {}).get("overall") or {}).get("accuracy")
        return (-round(sem, 2) if sem is not None else 0.0, r["metrics"]["fid"]["mean"])

    best = min(rows, key=key)
    return {"w_reg": best["w_reg"], "w_cfg": best["w_cfg"]}


def _sampler(w_reg: float, w_cfg: float) -> dict[str, Any]:
    """The sampler setting of guidance weights (20 steps; REG on every step when w_r > 0)."""
    return {"steps": 20, "w_reg": w_reg, "w_cfg": w_cfg, "reg_steps": "all" if w_reg else "none"}


def _flags(options: dict[str, Any], flags: dict[str, str], verb: str) -> list[str]:
    """Settings fields -> the `ramotion VERB` options that pass them, in order ({"batch_size": 8} -> ["--batch-size", "8"])."""
    unknown = sorted(set(options) - set(flags))
    if unknown:
        raise ValueError(f"`ramotion {verb}` has no option for {', '.join(unknown)}: the build records its steps as commands (options: {', '.join(flags)})")
    return [item for key, value in options.items() for item in (flags[key], str(value))]


# ----------------------------------------------------------------------------- steps 1-3: corpus, training, evaluator, length predictor


def _run_step(argv: list[str], commands: list[str], step: Callable[[], Any]) -> Any:
    """Run one build step (what `ramotion ARGV` does), recording and printing its command line."""
    commands.append(shlex.join(["ramotion", *argv]))
    print(f"$ {commands[-1]}", flush=True)
    return step()


def _found(argv: list[str], commands: list[str]) -> None:
    """Record a step found finished (its command, without --force or --quiet)."""
    commands.append(f"ramotion {' '.join(argv)}{FOUND_FINISHED}")


def _corpus_done(root: Path, motions: int, seed: int) -> bool:
    meta = root / "synth.json"
    if not meta.is_file():
        return False
    info = json.loads(meta.read_text(encoding="utf-8"))
    return info.get("motions") == motions and info.get("seed") == seed and (root / "Mean.npy").is_file()


def _mocap_done(root: Path, settings: BuildSettings) -> bool:
    meta = root / "mocap.json"
    if not meta.is_file() or not (root / "Mean.npy").is_file():
        return False
    info = json.loads(meta.read_text(encoding="utf-8"))
    return info.get("seed") == settings.corpus_seed and info.get("limit") == settings.mocap_limit


def _synth_corpus(settings: BuildSettings, root: Path, commands: list[str], progress: bool) -> None:
    """The procedural corpus at `root` (`ramotion synth`)."""
    argv = ["synth", "--motions", str(settings.motions), "--seed", str(settings.corpus_seed), "--out", str(root), "--workers", str(settings.workers)]
    if _corpus_done(root, settings.motions, settings.corpus_seed):
        _found(argv, commands)
        return

    def step() -> None:
        s = write_corpus(root, settings.motions, settings.corpus_seed, workers=settings.workers, force=True, progress=progress)
        print(f"wrote {s.motions} motions + {s.mirrors} mirrors ({s.hours:.2f} h, {s.captions} captions) to {s.root} in {s.seconds:.0f} s", flush=True)

    _run_step([*argv, "--force", *([] if progress else ["--quiet"])], commands, step)


def _mocap_corpus(settings: BuildSettings, root: Path, commands: list[str]) -> None:
    """The real mocap corpus at `root` (`ramotion data build-mocap`, with its default sources, captions and tagger)."""
    argv = ["data", "build-mocap", "--mocap", settings.mocap_root, "--out", str(root), "--seed", str(settings.corpus_seed), "--workers", str(settings.workers)]
    argv += ["--limit", str(settings.mocap_limit)] if settings.mocap_limit is not None else []
    if settings.mocap_limit is not None and settings.mocap_limit < 1:
        raise ValueError(f"mocap_limit must be >= 1, got {settings.mocap_limit}")
    if _mocap_done(root, settings):
        _found(argv, commands)
        return

    def step() -> None:
        result = build_mocap_corpus(
            settings.mocap_root, root, sources=SOURCES, captions_per_motion=3, seed=settings.corpus_seed, workers=settings.workers,
            force=True, resume=False, progress=sys.stderr.isatty(), tagger="auto", limit=settings.mocap_limit,
        )  # fmt: skip
        b = result.build
        print(f"wrote {b.motions} motions + {b.mirrors} mirrors ({b.hours:.2f} h, {b.captions} captions) to {result.root} in {b.seconds:.0f} s", flush=True)

    _run_step([*argv, "--force"], commands, step)


def _merged_corpus(settings: BuildSettings, mocap: Path, synth: Path, out: Path, commands: list[str]) -> None:
    """Mocap and procedural merged into `out` with the settings' weights (`ramotion data merge`)."""
    w_mocap, w_synth = settings.mix_weights
    sources = [(str(mocap), f"{w_mocap:g}", "mocap_"), (str(synth), f"{w_synth:g}", "synth_")]
    argv = ["data", "merge", "--out", str(out), *(f"{path}:{weight}" for path, weight, _ in sources), *(a for _, _, p in sources for a in ("--prefix", p))]
    if (out / ".ramotion_merge.json").is_file():
        _found(argv, commands)
        return

    def step() -> None:
        # The weights as the command line reads them back (float of the recorded text).
        summary = merge_datasets(
            out, [(path, float(weight), prefix) for path, weight, prefix in sources],
            skeleton=None, force=True, link=True, stats_split="train", progress=sys.stderr.isatty(),
        )  # fmt: skip
        print(f"merged {len(summary.sources)} datasets into {summary.root} in {summary.seconds:.1f} s", flush=True)
        for w in summary.warnings:
            print(f"warning: {w}", file=sys.stderr)

    _run_step([*argv, "--force"], commands, step)


def _build_corpus(settings: BuildSettings, work: Path, commands: list[str], progress: bool) -> Path:
    """Build (or find built) the corpus `settings.corpus` under `work`; returns the training root."""
    if settings.corpus not in ("mocap", "synth", "mixed"):
        raise ValueError(f"unknown corpus {settings.corpus!r}: choose mocap, synth or mixed")
    synth, mocap = work / "synth", work / "mocap"
    if settings.corpus == "synth":
        _synth_corpus(settings, work / "corpus", commands, progress)
        return work / "corpus"
    if settings.corpus == "mocap":
        _mocap_corpus(settings, work / "corpus", commands)
        return work / "corpus"
    _synth_corpus(settings, synth, commands, progress)
    _mocap_corpus(settings, mocap, commands)
    _merged_corpus(settings, mocap, synth, work / "corpus", commands)
    return work / "corpus"


def _train_model(settings: BuildSettings, corpus: Path, work: Path, commands: list[str], progress: bool) -> TrainConfig:
    """Train (or resume to `steps`, or find finished) the model in WORK/run from a config file
    (`ramotion train --config` / `--resume RUN --set steps=N`); returns the resolved config."""
    run, config_file = work / "run", work / "train_config.json"
    write_text(config_file, json.dumps(settings.train, indent=2) + "\n")
    cfg = resolve_config(config_file)
    no_bar = [] if progress else ["--no-progress"]
    if run_finished(run, cfg.steps):
        commands.append(f"ramotion train --config {config_file} --data {corpus} --out {run}{FOUND_FINISHED}")
        return cfg
    if checkpoint_dirs(run):  # the run may have been shorter: resumed to the settings' length, with its saved config
        argv = ["train", "--resume", str(run), "--set", f"steps={cfg.steps}", *no_bar]
        result = _run_step(argv, commands, lambda: resume_run(run, None, {"steps": cfg.steps}, progress=progress))
    else:
        if run.exists():
            shutil.rmtree(run)  # died before its first checkpoint
        argv = ["train", "--config", str(config_file), "--data", str(corpus), "--out", str(run), *no_bar]
        result = _run_step(argv, commands, lambda: train(cfg, corpus, run, progress=progress))
    print(f"step {result.step}: model in {result.run_dir}", flush=True)
    return cfg


def _train_evaluator(settings: BuildSettings, corpus: Path, ev_dir: Path, commands: list[str], progress: bool) -> None:
    """Train (or find trained) the T2M evaluator on the corpus (`ramotion evaluator train`)."""
    flags = _flags(settings.evaluator, EVALUATOR_FLAGS, "evaluator train")
    if (ev_dir / EVALUATOR_CONFIG).is_file() and (ev_dir / "train_report.json").is_file():
        commands.append(f"ramotion evaluator train --data {corpus} --out {ev_dir} {' '.join(flags)}{FOUND_FINISHED}")
        return
    argv = ["evaluator", "train", "--data", str(corpus), "--out", str(ev_dir), *flags, "--force", *([] if progress else ["--quiet"])]
    _run_step(argv, commands, lambda: train_evaluator(corpus, ev_dir, TrainEvaluatorConfig(**settings.evaluator), progress=progress))
    print(f"evaluator written to {ev_dir}", flush=True)


def _train_length_predictor(settings: BuildSettings, corpus: Path, out: Path, commands: list[str], progress: bool) -> tuple[LengthPredictor, dict[str, Any]]:
    """Train (or find trained) the length predictor on `corpus` into `out` (`ramotion length train`);
    returns it and its training report (test MAE against the baselines)."""
    argv = ["length", "train", "--data", str(corpus), "--out", str(out), *_flags(settings.length, LENGTH_FLAGS, "length train")]
    marker = out / "build_command.json"  # written once the predictor is: what made it
    done = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == argv
    if done and load_length_predictor(out) is not None:
        _found(argv, commands)
    else:

        def step() -> dict[str, Any]:
            return train_length_predictor(corpus, out, LengthTrainSettings(**settings.length), progress=progress, log=print if progress else None)

        _run_step([*argv, "--force", *([] if progress else ["--quiet"])], commands, step)
        print(f"length predictor written to {out}", flush=True)
        write_text(marker, json.dumps(argv) + "\n")
    predictor = load_length_predictor(out)
    if predictor is None:
        raise RuntimeError(f"`ramotion length train` wrote no length predictor to {out}")
    return predictor, load_report(out)


# ----------------------------------------------------------------------------- steps 4-6: measuring the model


@dataclass
class _ModelUnderTest:
    """The trained model and what measuring it needs: its evaluator, its corpus, and the
    identity (model and evaluator digests) that every cached measurement is saved under."""

    pipe: RAMPipeline
    evaluator: T2MEvaluator
    device: torch.device
    corpus: Path
    identity: dict[str, str]
    has_programs: bool
    # The mocap measurements read ids (bn2_walk_<style>_...) of the mocap corpus itself: in a
    # mixed corpus they are prefixed, so they run on its mocap part, built under work/mocap.
    mocap_root: Path | None
    layout: Layout  # of the mocap part when there is one, else of the corpus
    generation_batch: int
    progress: bool

    @classmethod
    def load(cls, work: Path, corpus: Path, settings: BuildSettings, progress: bool) -> _ModelUnderTest:
        """The model of WORK/run with the evaluator of WORK/evaluator, on the GPU when there is one."""
        run, ev_dir = work / "run", work / "evaluator"
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        evaluator = T2MEvaluator.from_pretrained(ev_dir, map_location=device)
        pipe = RAMPipeline.from_pretrained(run, device=device)
        identity = {"model": files_digest(run, MODEL_FILES), "evaluator": files_digest(ev_dir)}
        mocap_root = next((r for r in (corpus, work / "mocap") if (r / "mocap.json").is_file()), None)
        layout = Layout.of(mocap_root if mocap_root is not None else corpus)
        return cls(pipe, evaluator, device, corpus, identity, (corpus / "programs").is_dir(), mocap_root, layout, settings.generation_batch, progress)

    @property
    def has_mocap(self) -> bool:
        return self.mocap_root is not None

    def evaluate(
        self, split: str, protocol: dict[str, Any], semantic_motions: int | None, sampler: dict[str, Any] | None, name: str, out: Path, root: Path | None = None
    ) -> dict[str, Any]:
        """Protocol metrics (+ semantic accuracy) of one sampler setting (None: ground truth) on a split of `root` (default: the corpus), cached."""
        root = self.corpus if root is None else root
        data = EvalDataset(root, split)
        pcfg = ProtocolConfig(**{**protocol, "generation_batch": self.generation_batch})
        pairs = data.num_batches(pcfg.batch_size, pcfg.max_samples) * pcfg.batch_size
        if pairs <= pcfg.diversity_times:  # small corpora: Diversity over half the pairs
            pcfg.diversity_times = max(1, pairs // 2)
        gen = pipeline_generator(self.pipe, batch_size=self.generation_batch, **sampler) if sampler is not None else None
        ident = {**self.identity, "split": split, "sampler": sampler}
        metrics = Protocol(self.evaluator, data, pcfg, out_dir=out, progress=self.progress, identity=ident).run({name: gen})[name]
        row = {"metrics": metrics, "protocol": asdict(pcfg), "pairs": pairs}
        if self.has_programs and root == self.corpus:
            kw = dict(split=split, max_motions=semantic_motions, seed=0, batch_size=self.generation_batch)
            fp = fingerprint({**ident, **kw})
            path = out / "semantic" / f"{name.replace(' ', '_')}.json"
            sem = cached_value(path, fp)
            if sem is None:
                sem = semantic_accuracy(self.corpus, gen, progress=self.progress, **kw)
                save_cached_value(path, fp, sem)
            row["semantic"] = sem
        return row

    def realism(
        self, split: str, sampler: dict[str, Any], per_action: int, name: str, out: Path, others: dict[str, Any] | None = None, cleanup: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Realism against the split's real motions (cached): {"metrics", "real", "ratios", ...} of `name`
        and of each model in `others` ({name: pipeline}) with the same prompts and seeds. With a
        `cleanup`, `name` is the cleaned motions and f"{name}, raw" the same samples uncleaned."""
        ident = {"cleanup": cleanup} if cleanup else {}  # (no key without one: the sweep's caches stay valid)
        fp = fingerprint({**self.identity, "split": split, "sampler": sampler, "per_action": per_action, "others": sorted(others or {}), **ident, "real_sampled": True})
        path = out / "realism" / f"{name.replace(' ', '_')}.json"
        found = cached_value(path, fp)
        if found is None:
            gens = {name: TimedGenerator(self.pipe, self.generation_batch, {**sampler, "cleanup": cleanup or False})}
            if cleanup:
                gens[f"{name}, raw"] = TimedGenerator(self.pipe, self.generation_batch, {**sampler, "cleanup": False})
            gens.update({k: TimedGenerator(p, self.generation_batch, {}) for k, p in (others or {}).items()})
            suite = realism_suite(self.layout, split, gens, per_action=per_action, seed=0)
            found = {
                "real": suite["real"], "real_motions": suite["real_motions"], "prompts": len(suite["prompts"]), "real_sampled": suite["real_sampled"],
                "models": {k: {key: v[key] for key in ("metrics", "sentences", "frames", "wall_s", "s_per_sentence")} for k, v in suite["models"].items()},
            }  # fmt: skip
            save_cached_value(path, fp, clean(found))

        def ratios_of(who: str) -> dict[str, float | None]:
            got = found["models"][who]["metrics"]
            return {k: (got[k] / found["real"][k] if found["real"].get(k) else None) for k in got if got[k] is not None}

        raw = {"raw_ratios": ratios_of(f"{name}, raw")} if f"{name}, raw" in found["models"] else {}
        return {**found, "metrics": found["models"][name]["metrics"], "ratios": ratios_of(name), **raw}


def _sweep_guidance(model: _ModelUnderTest, settings: BuildSettings, out: Path) -> list[dict[str, Any]]:
    """Step 4: every (w_r, w_c) of the grid on the validation split (with realism when there is mocap)."""
    sweep = []
    for wr, wc in settings.grid:
        sampler, name = _sampler(wr, wc), f"w_r={wr:g}_w_c={wc:g}"
        row = model.evaluate("val", settings.val_protocol, settings.val_semantic_motions, sampler, name, out)
        if model.has_mocap:
            # What users get: the samples after the model's foot cleanup (raw beside them).
            row["realism"] = model.realism("val", sampler, settings.realism_val_per_action, name, out, cleanup=settings.cleanup)
        sweep.append({"w_reg": wr, "w_cfg": wc, **row})
    return sweep


def _mocap_report(model: _ModelUnderTest, settings: BuildSettings, sampler: dict[str, Any], work: Path, compare_with: str | Path | None) -> dict[str, Any]:
    """Step 5, with mocap: realism on the test split (beside the model in `compare_with`, same
    prompts and seeds), the held-out (action, style) pairs, and style steering."""
    assert model.mocap_root is not None
    report: dict[str, Any] = {}
    others = {"old model": RAMPipeline.from_pretrained(compare_with, device=model.device)} if compare_with is not None else {}
    report["realism"] = model.realism("test", sampler, settings.realism_test_per_action, "default model", work / "test", others, settings.cleanup)
    held_ok = model.layout.split("held_out").is_file() and model.layout.split("held_out").read_text().split()
    if held_ok:  # the protocol needs one whole batch of usable pairs
        pcfg = ProtocolConfig(**settings.test_protocol)
        held_ok = EvalDataset(model.mocap_root, "held_out").num_batches(pcfg.batch_size, pcfg.max_samples) > 0
    if held_ok:
        report["held_out"] = {
            GT_ROW: model.evaluate("held_out", settings.test_protocol, None, None, GT_ROW, work / "held_out", model.mocap_root)["metrics"],
            "default model": model.evaluate("held_out", settings.test_protocol, None, sampler, "default model", work / "held_out", model.mocap_root)["metrics"],
        }
    fp = fingerprint({**model.identity, "sampler": sampler, "samples": settings.style_samples, "others": sorted(others), "cleanup": settings.cleanup})
    style_path = work / "test" / "style.json"
    style = cached_value(style_path, fp)
    if style is None:
        gens = {"default model": TimedGenerator(model.pipe, settings.generation_batch, {**sampler, "cleanup": settings.cleanup or False})}
        gens.update({k: TimedGenerator(p, settings.generation_batch, {}) for k, p in others.items()})
        originals = [i for i in all_ids(model.layout) if not is_mirror(i)]
        style = {a: style_steering(model.layout, originals, gens, a, settings.style_samples, 0) for a in ("walk", "wave-right-hand")}
        save_cached_value(style_path, fp, clean(style))
    report["style"] = style
    return report


def _example_prompts(model: _ModelUnderTest, settings: BuildSettings, sampler: dict[str, Any], work: Path) -> list[dict[str, Any]]:
    """Step 6: example prompts that the chosen setting demonstrably handles (for the web page), cached."""
    path = work / "examples.json"
    if model.has_mocap and not model.has_programs:
        assert model.mocap_root is not None
        fp = fingerprint({**model.identity, "sampler": sampler, "seeds": settings.example_seeds, "keep": settings.example_keep, "rule": "evaluator"})
        examples = cached_value(path, fp)
        if examples is None:
            gen = pipeline_generator(model.pipe, batch_size=settings.generation_batch, **sampler)
            examples = evaluator_examples(model.mocap_root, gen, model.evaluator, seeds=settings.example_seeds, keep=settings.example_keep)
            save_cached_value(path, fp, examples)
        return examples
    if model.has_programs:
        fp = fingerprint({**model.identity, "sampler": sampler, "candidates": settings.example_candidates, "seeds": settings.example_seeds})
        examples = cached_value(path, fp)
        if examples is None:
            gen = pipeline_generator(model.pipe, batch_size=settings.generation_batch, **sampler)
            examples = validated_examples(model.corpus, gen, candidates=settings.example_candidates, seeds=settings.example_seeds, keep=settings.example_keep)
            save_cached_value(path, fp, examples)
        return examples
    return []


# ----------------------------------------------------------------------------- step 7: the saved model and its card


def _save_model(
    pipe: RAMPipeline, dest: Path, settings: BuildSettings, sampler: dict[str, Any], examples: list[dict[str, Any]], length_predictor: LengthPredictor, limit_mb: float
) -> float:
    """Step 7: save the model with its sampler, cleanup, examples and length predictor into
    `dest`; returns the weights' size in MB (a ValueError over `limit_mb`)."""
    pipe.extra.update({"sampler": sampler, "built_by": "scripts/build_default_model.py"})
    if settings.cleanup:
        pipe.extra["cleanup"] = settings.cleanup  # every output of the model is cleaned (outputs.Motion.joints)
    else:
        pipe.extra.pop("cleanup", None)
    if examples:
        pipe.extra["example_prompts"] = [e["prompt"] for e in examples]
    pipe.length_predictor = length_predictor  # saved beside the model (length_predictor.safetensors + .json)
    dest.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(dest)
    return check_weight_size(dest, limit_mb)


def _corpus_info(settings: BuildSettings, corpus: Path, work: Path) -> tuple[dict[str, Any], list[str]]:
    """What the card says about the corpus (size, splits, sources, held-out pairs) and its actions."""
    splits = {s: len((corpus / f"{s}.txt").read_text().split()) for s in ("train", "val", "test")}
    frames = sum(int(v) for v in _feature_frames(corpus))
    info: dict[str, Any] = {"kind": settings.corpus, "hours": frames / 20.0 / 3600.0, "splits": splits, "seed": settings.corpus_seed}
    actions: list[str] = []
    for meta_dir in (corpus, work / "synth"):
        if (meta_dir / "synth.json").is_file():
            info["motions"] = json.loads((meta_dir / "synth.json").read_text(encoding="utf-8"))["motions"]
            actions += sorted(ACTIONS)
    for meta_dir in (corpus, work / "mocap"):
        if (meta_dir / "mocap.json").is_file():
            meta = json.loads((meta_dir / "mocap.json").read_text(encoding="utf-8"))
            rows = json.loads((meta_dir / "mocap_summary.json").read_text(encoding="utf-8"))["rows"]
            info["mocap"] = {
                "motions": len(rows), "hours": sum(r["seconds"] for r in rows) / 3600.0, "attribution": meta["attribution"],
                "held_out": meta["held_out"], "per_source": {k: sum(r["source"] == k for r in rows) for k in meta["sources"]},
            }  # fmt: skip
            actions += sorted({r["action"] for r in rows if not r["action"].startswith("cmu:")}) + ["CMU's 63 HumanML3D segments (basketball, dance, playground, ...)"]
    held_file = corpus / "held_out_compositions.json"
    info["held_out_pairs"] = len(json.loads(held_file.read_text(encoding="utf-8"))["pairs"]) if held_file.is_file() else 0
    return info, actions


def _protocol_text(cfg: ProtocolConfig, pairs: int) -> str:
    return (
        f"{cfg.replications} replication(s) of {pairs} (caption, motion) pairs in batches of {cfg.batch_size}, "
        f"Diversity over {cfg.diversity_times} pairs; mean ± 95% interval (1.96·std/√{cfg.replications})"
    )


def _render_gifs(pipe: RAMPipeline, prompts: tuple[str, ...], sampler: dict[str, Any], folder: Path) -> list[str]:
    """One 6-second GIF per prompt (seed 0) into `folder`; returns their paths."""
    gifs = []
    for i, prompt in enumerate(prompts):
        gif = folder / f"default_model_{i}.gif"
        gif.parent.mkdir(parents=True, exist_ok=True)
        pipe(prompt, seconds=6.0, seed=0, **sampler).save(gif)
        gifs.append(str(gif))
    return gifs


# ----------------------------------------------------------------------------- the build


def build_default_model(
    work: str | Path,
    dest: str | Path | None = None,
    settings: BuildSettings = FULL,
    *,
    limit_mb: float = MAX_WEIGHT_MB,
    rebuild_command: str = "python scripts/build_default_model.py",
    progress: bool = True,
    compare_with: str | Path | None = None,
) -> dict[str, Any]:
    """Build the default model under `work` and save it (with MODEL_CARD.md) to `dest`
    (default: the package's assets/default_model). Returns the info the card was made from.
    compare_with: a model folder measured beside the new one (realism, style, speed) in the card."""
    t0 = time.perf_counter()
    if compare_with is not None and not (Path(compare_with) / "config.json").is_file():
        raise FileNotFoundError(f"--compare-with {compare_with}: no model folder there (config.json missing)")
    for options, flags, verb in ((settings.evaluator, EVALUATOR_FLAGS, "evaluator train"), (settings.length, LENGTH_FLAGS, "length train")):
        _flags(options, flags, verb)  # settings no command line can say are refused before any step runs
    work = Path(work)
    dest = Path(dest) if dest is not None else DEFAULT_MODEL_DIR
    work.mkdir(parents=True, exist_ok=True)
    commands: list[str] = []  # the `ramotion ...` command of each step, as the card records them

    # 1-3. The corpus (fixed seeds: the same bytes every time), training, the evaluator, and the
    # length predictor (text -> frames, for prompts given without a length; saved with the model).
    corpus = _build_corpus(settings, work, commands, progress)
    cfg = _train_model(settings, corpus, work, commands, progress)
    train_seconds = training_seconds(work / "run")
    _train_evaluator(settings, corpus, work / "evaluator", commands, progress)
    length_predictor, length_report = _train_length_predictor(settings, corpus, work / "length", commands, progress)

    # 4. The REG/CFG sweep on the validation split; the setting the rule chooses.
    model = _ModelUnderTest.load(work, corpus, settings, progress)
    sweep = _sweep_guidance(model, settings, work / "sweep")
    chosen = choose_guidance(sweep)
    chosen_sampler = _sampler(chosen["w_reg"], chosen["w_cfg"])

    # 5. The test split: ground truth and the chosen setting, under the same protocol and seeds; the mocap measurements.
    gt = model.evaluate("test", settings.test_protocol, settings.test_semantic_motions, None, GT_ROW, work / "test")
    tested = model.evaluate("test", settings.test_protocol, settings.test_semantic_motions, chosen_sampler, "default model", work / "test")
    mocap_report = _mocap_report(model, settings, chosen_sampler, work, compare_with) if model.has_mocap else {}

    # 6. Example prompts for the web page.
    examples = _example_prompts(model, settings, chosen_sampler, work)

    # 7. Save into the package (or `dest`), check the size, write the card.
    size = _save_model(model.pipe, dest, settings, chosen_sampler, examples, length_predictor, limit_mb)
    corpus_info, actions = _corpus_info(settings, corpus, work)
    info: dict[str, Any] = {
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "corpus": corpus_info,
        "train": {"preset": cfg.preset, "variant": cfg.variant, "overrides": {k: v for k, v in settings.train.items() if k != "preset"}, "steps": cfg.steps, "batch_size": cfg.batch_size},
        "model": model.pipe.config.to_dict(),
        "params": sum(p.numel() for p in model.pipe.model.parameters()),
        "train_seconds": train_seconds,
        "hardware": hardware_line(hardware()),
        "weights_mb": size,
        "limit_mb": limit_mb,
        "chosen": chosen,
        "rule": SELECTION_RULE,
        "sweep": sweep,
        "val_protocol": _protocol_text(ProtocolConfig(**sweep[0]["protocol"]), sweep[0]["pairs"]),
        "test_protocol": _protocol_text(ProtocolConfig(**tested["protocol"]), tested["pairs"]),
        "test": {GT_ROW: gt["metrics"], "default model": tested["metrics"]},
        "semantic": {GT_ROW: gt["semantic"], "default model": tested["semantic"]} if model.has_programs else {},
        "actions": actions,
        "mocap": mocap_report,
        "max_seconds": model.pipe.config.max_frames / 20.0,
        "cleanup": settings.cleanup,
        "examples": examples,
        "length": length_report,
        "example_rule": (
            f"test-split captions of one or two actions ({settings.example_candidates} tried); kept when all "
            f"{settings.example_seeds} seeds pass the checker at the program's length"
            if model.has_programs
            else f"the first caption of one validation motion per action; kept when, for all {settings.example_seeds} seeds, "
            "the evaluator ranks the prompt among the 3 closest of all candidate prompts to the generated motion"
        ),
        "rebuild": rebuild_command,
        "commands": commands,
        "wall_seconds": None,
    }
    info["gifs"] = _render_gifs(model.pipe, settings.gif_prompts, chosen_sampler, work / "gifs")
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


def evaluator_examples(corpus: Path, generator: Any, evaluator: Any, *, seeds: int = 3, keep: int = 8, top: int = 3) -> list[dict[str, Any]]:
    """Prompts the model demonstrably handles, for a corpus without programs (real mocap).

    Candidates: the first caption of one validation original per action (the action read from
    the id). Each is generated with `seeds` seeds at that motion's length; a prompt is kept
    when, for every seed, the evaluator ranks it among the `top` candidate prompts closest to
    the generated motion (retrieval among the candidates, as R-Precision does in a batch).
    Returns up to `keep`, one per action, best rank first: {"prompt", "actions", "seconds"}.
    """
    layout = Layout.of(corpus)
    first: dict[str, str] = {}
    for i in sorted(read_split(layout.split("val"))):
        if not is_mirror(i) and action_of(i) not in first:
            first[action_of(i)] = i
    if len(first) < 2:
        return []
    _, tagger = get_tagger("auto")
    cands = [(a, i, read_captions(layout.text(i))[0].caption, int(np.load(layout.features(i), mmap_mode="r").shape[0])) for a, i in sorted(first.items())]
    with torch.no_grad():
        texts = evaluator.embed_captions([tagger(c) for _, _, c, _ in cands])  # (N, E)
        worst = []
        for k, (_, _, caption, frames) in enumerate(cands):
            feats = generator([caption] * seeds, [frames] * seeds, list(range(seeds)))
            motion = torch.as_tensor(np.stack([np.asarray(f, dtype=np.float32)[:frames] for f in feats]))
            emb = evaluator.embed_motion(motion, torch.full((seeds,), frames))  # (S, E)
            dist = torch.cdist(emb, texts)  # (S, N)
            ranks = (dist < dist[:, k : k + 1]).sum(dim=1)  # 0 = the prompt itself is the closest
            worst.append(int(ranks.max()))
    kept = [(r, c) for r, c in zip(worst, cands) if r < top]
    kept.sort(key=lambda rc: (rc[0], len(rc[1][2])))
    return [{"prompt": c[2], "actions": [c[0]], "seconds": c[3] / 20.0, "rank": r} for r, c in kept[:keep]]


def _feature_frames(root: Path) -> list[int]:
    """Frame counts of every motion in the corpus (mirrors included)."""
    layout = Layout.of(root)
    return [npy_shape(p)[0][0] for p in sorted(layout.features_dir.glob("*.npy"))]
