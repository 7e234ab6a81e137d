"""Run one of the paper's experiments end to end: train what it needs, evaluate every row, report.

    from ramotion.experiments import ExperimentOptions, run_experiment
    result = run_experiment(ExperimentOptions("table5", data="data/synth", out="experiments/small", scale="small"))

Output folder (shared by all tables, so that tables reuse each other's models):

    OUT/evaluator/                 the project-trained evaluator (unless --evaluator is given)
    OUT/runs/<variant>-<hash>/     one training run per distinct training config (hash of the config)
    OUT/<table>/replications/      one JSON per (row, replication) of the protocol
    OUT/<table>/semantic/, aits/   cached semantic accuracy and timing per row
    OUT/<table>.md, .json, .png    the table, everything behind it, and a plot

Every stage is resumable: a finished training run, evaluator, replication, semantic check
or timing is reused when its settings (and the model files it measured) are unchanged;
an interrupted training run continues from its last checkpoint.

This module orchestrates; the pieces it puts together live beside it: `runs.py` (training
configs, run folders, training and the evaluator), `provenance.py` (hardware, fingerprints,
cached values, run status), `timing.py` (AITS) and `report.py` (the table, JSON, plot).
"""

from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..evaluation.data import EvalDataset
from ..evaluation.evaluator import T2MEvaluator
from ..evaluation.protocol import GT_ROW, Generator, Protocol, ProtocolConfig, pipeline_generator
from ..evaluation.semantic import semantic_accuracy
from ..model.checkpoint import read_config, resolve_model_dir
from ..pipeline import RAMPipeline
from ..runtime import resolve_device
from ..train.text_features import CaptionFeatures, cached_caption_features
from .provenance import (
    MODEL_FILES,
    cached_value,
    evaluator_report,
    fingerprint,
    files_digest,
    hardware,
    hardware_line,
    run_finished,
    save_cached_value,
    slug,
    training_seconds,
)
from .report import write_experiment_report
from .runs import SHARED_MODEL_TRAIN, dataset_skeleton, ensure_evaluator, ensure_run, run_name, train_command, train_config
from .scales import Scale, get_scale
from .tables import Row, TableSpec, get_table
from .timing import aits_sentences, measure_aits

# Names that lived here before provenance.py, runs.py and timing.py were split off: still importable from here.
__all__ = [
    "MODEL_FILES",
    "SHARED_MODEL_TRAIN",
    "ExperimentOptions",
    "ExperimentResult",
    "aits_sentences",
    "cached_value",
    "dataset_skeleton",
    "ensure_evaluator",
    "ensure_run",
    "files_digest",
    "fingerprint",
    "hardware",
    "hardware_line",
    "measure_aits",
    "pipe_dir",
    "plan",
    "run_experiment",
    "run_finished",
    "run_name",
    "save_cached_value",
    "train_command",
    "train_config",
    "training_seconds",
]


@dataclass
class ExperimentOptions:
    """Everything `ramotion experiment` takes."""

    name: str
    data: str | os.PathLike
    out: str | os.PathLike
    scale: str = "small"
    model: str | os.PathLike | None = None  # the shared model (rows without their own training)
    evaluator: str | os.PathLike | None = None  # None: train one into OUT/evaluator (or reuse it)
    replications: int | None = None  # None: the scale's
    train_steps: int | None = None  # None: the scale's training length for retrained variants
    seed: int = 0  # training seed of retrained variants and the protocol seed
    device: str | None = None
    dtype: str = "auto"  # sampling precision
    semantic: str = "auto"  # auto | on | off (semantic accuracy on procedural corpora)
    mm: bool = False  # also MultiModality
    text_model: str | None = None  # text model of retrained variants (None: the offline MiniLM)
    text_cache: str | os.PathLike | None = None
    results_page: str | os.PathLike | None = None  # update this results page's section (e.g. docs/results.md)
    progress: bool = True

    def command(self) -> str:
        """The `ramotion experiment` command line that reproduces this run."""
        parts = ["ramotion", "experiment", self.name, "--data", str(self.data), "--scale", self.scale, "--out", str(self.out)]
        for flag, value in (("--model", self.model), ("--evaluator", self.evaluator), ("--replications", self.replications), ("--train-steps", self.train_steps),
                            ("--text-model", self.text_model), ("--results-page", self.results_page)):  # fmt: skip
            if value is not None:
                parts += [flag, str(value)]
        if self.seed != 0:
            parts += ["--seed", str(self.seed)]
        if self.dtype != "auto":
            parts += ["--dtype", self.dtype]
        if self.semantic != "auto":
            parts += ["--semantic", self.semantic]
        if self.mm:
            parts.append("--mm")
        return shlex.join(parts)


@dataclass
class ExperimentResult:
    """What `run_experiment` returns."""

    name: str
    rows: dict[str, dict[str, Any]]  # row -> {"params", "metrics", "semantic", "aits", "model", "sampler"}
    markdown: Path
    json: Path
    plot: Path
    trained: list[str] = field(default_factory=list)  # run folders trained or resumed in this call
    reused: list[str] = field(default_factory=list)  # run folders found finished
    wall_seconds: float = 0.0


@dataclass
class _Models:
    """The models of an experiment's rows (step 2 of `run_experiment`)."""

    dirs: dict[str, Path] = field(default_factory=dict)  # row name -> model folder
    run_of: dict[str, str] = field(default_factory=dict)  # json(overrides) -> run folder
    steps: dict[str, int] = field(default_factory=dict)  # run folder -> its training length
    trained: list[str] = field(default_factory=list)  # run folders trained or resumed now
    reused: list[str] = field(default_factory=list)  # run folders found finished

    def runs(self) -> list[str]:
        """The distinct run folders, sorted."""
        return sorted(set(self.run_of.values()))


def pipe_dir(folder: Path) -> Path:
    """The folder holding a model's config.json / weights (a run folder's top level)."""
    return resolve_model_dir(folder)


# ----------------------------------------------------------------------------- checking and planning


def _check_options(opts: ExperimentOptions) -> tuple[TableSpec, Scale, Path, Path]:
    spec = get_table(opts.name)
    scale = get_scale(opts.scale)
    root, out = Path(opts.data), Path(opts.out)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if opts.replications is not None and (isinstance(opts.replications, bool) or opts.replications < 1):
        raise ValueError(f"replications must be at least 1, got {opts.replications}")
    if opts.train_steps is not None:
        if isinstance(opts.train_steps, bool) or opts.train_steps < 1:
            raise ValueError(f"train steps must be at least 1, got {opts.train_steps}")
        kept = tuple(o for o in scale.train_overrides if not o.startswith("steps="))
        scale = replace(scale, train_overrides=(*kept, f"steps={opts.train_steps}"))
    if opts.semantic not in ("auto", "on", "off"):
        raise ValueError(f"semantic must be auto, on or off, got {opts.semantic!r}")
    if opts.semantic == "on" and not (root / "programs").is_dir():
        raise ValueError(f"semantic accuracy needs a procedural dataset: {root} has no programs/ folder (written by `ramotion synth`)")
    if opts.model is not None:
        resolve_model_dir(opts.model)  # a clear error now, before any training
        if not spec.uses_shared_model:
            raise ValueError(f"{spec.name} retrains every row; --model is only for table3 and table5 (and rows that reuse one model)")
    if opts.evaluator is not None and not Path(opts.evaluator).exists():
        raise FileNotFoundError(f"evaluator not found: {opts.evaluator}")
    return spec, scale, root, out


def plan(opts: ExperimentOptions) -> list[dict[str, Any]]:
    """The training runs an experiment needs: [{"rows", "run", "finished", "command"}], nothing run."""
    spec, scale, root, out = _check_options(opts)
    skeleton = dataset_skeleton(root)
    runs: dict[str, dict[str, Any]] = {}
    for row in spec.rows:
        if row.train is None and opts.model is not None:
            continue
        overrides = row.train if row.train is not None else SHARED_MODEL_TRAIN
        cfg = train_config(overrides, scale, skeleton, opts.seed, opts.text_model)
        run_dir = out / "runs" / run_name(cfg)
        entry = runs.setdefault(str(run_dir), {"rows": [], "run": str(run_dir), "finished": run_finished(run_dir, cfg.steps),
                                                "command": train_command(overrides, scale, skeleton, opts.seed, root, run_dir, opts.text_model)})  # fmt: skip
        entry["rows"].append(row.name)
    return list(runs.values())


# ----------------------------------------------------------------------------- the runner


def run_experiment(opts: ExperimentOptions) -> ExperimentResult:
    """Run the experiment `opts.name` at `opts.scale` and write OUT/<name>.md, .json and .png."""
    t_start = time.perf_counter()
    spec, scale, root, out = _check_options(opts)
    skeleton = dataset_skeleton(root)
    dataset = EvalDataset(root, "test")
    protocol_cfg = ProtocolConfig(**{**scale.protocol, "seed": opts.seed, "mm": opts.mm, "generation_batch": scale.generation_batch})
    if opts.replications is not None:
        protocol_cfg.replications = opts.replications
    device = resolve_device(opts.device)
    out.mkdir(parents=True, exist_ok=True)

    # 1. The evaluator: given, or trained once per output folder.
    trained_evaluator = False
    if opts.evaluator is not None:
        ev_path = Path(opts.evaluator)
    else:
        ev_path, trained_evaluator = ensure_evaluator(root, out, scale, opts.seed, opts.device, opts.text_model, opts.progress)
    evaluator = T2MEvaluator.from_pretrained(ev_path, map_location=device)
    # Checks sizes and counts before any training starts.
    checker = Protocol(evaluator, dataset, protocol_cfg, progress=False)

    # 2. The models: one training run per distinct training config; the shared model.
    models = _train_models(opts, spec, scale, skeleton, root, out, device)

    # 3. Evaluate every row (and the ground truth) under the same protocol and seeds.
    hw = hardware()
    rows_out = _evaluate_rows(opts, spec, scale, root, dataset, evaluator, ev_path, protocol_cfg, models.dirs, device, hw)

    # 4. The report, with everything needed to trust and regenerate it.
    settings = {
        "experiment": spec.name,
        "scale": asdict(scale),
        "command": opts.command(),
        "dataset": str(root),
        "evaluator": str(ev_path),
        "evaluator_trained_now": trained_evaluator,
        "evaluator_report": evaluator_report(ev_path),
        "protocol": asdict(protocol_cfg),
        "replication_seeds": [checker.replication_seeds(r) for r in range(protocol_cfg.replications)],
        "training_seed": opts.seed,
        "training_steps": models.steps,
        "dtype": opts.dtype,
        "device": str(device),
        "hardware": hw,
        "runs": models.runs(),
        "trained_now": models.trained,
        "reused": models.reused,
        "wall_seconds": time.perf_counter() - t_start,
        "training_seconds": {r: training_seconds(Path(r)) for r in models.runs()},
    }
    md, js, png = write_experiment_report(out, spec, rows_out, settings, results_page=opts.results_page)
    return ExperimentResult(spec.name, rows_out, md, js, png, models.trained, models.reused, settings["wall_seconds"])


def _train_models(opts: ExperimentOptions, spec: TableSpec, scale: Scale, skeleton: str, root: Path, out: Path, device: torch.device) -> _Models:
    """Each row's model: `opts.model` for rows without their own training when given, else the
    row's run (trained, resumed or found finished); rows defined alike share one run."""
    models = _Models()
    text_features: CaptionFeatures | None = None  # the captions' text-model states, computed once for every run that trains
    for row in spec.rows:
        overrides = row.train
        if overrides is None and opts.model is not None:
            models.dirs[row.name] = Path(opts.model)
            continue
        overrides = overrides if overrides is not None else SHARED_MODEL_TRAIN
        key = json.dumps(overrides, sort_keys=True)
        if key not in models.run_of:
            cfg = train_config(overrides, scale, skeleton, opts.seed, opts.text_model)
            if text_features is None and not run_finished(out / "runs" / run_name(cfg), cfg.steps):
                text_features = cached_caption_features(cfg.text_model, device, opts.text_cache, progress=opts.progress)
            run_dir, did_train = ensure_run(cfg, root, out / "runs", text_features, opts.progress, opts.text_cache)
            (models.trained if did_train else models.reused).append(str(run_dir))
            models.run_of[key] = str(run_dir)
            models.steps[str(run_dir)] = cfg.steps
        models.dirs[row.name] = Path(models.run_of[key])
    return models


@dataclass
class _Pipelines:
    """The rows' pipelines, each model folder loaded once; pipelines of one text model share its encoder."""

    device: torch.device
    dtype: str
    text_model: str | None
    dataset: EvalDataset
    root: Path
    encoders: dict[str, Any] = field(default_factory=dict)  # text model name -> loaded encoder
    pipes: dict[Path, RAMPipeline] = field(default_factory=dict)

    def get(self, folder: Path) -> RAMPipeline:
        """The pipeline of the model in `folder` (loaded on first use)."""
        if folder not in self.pipes:
            text_key = self.text_model or read_config(pipe_dir(folder))[0].text_model
            pipe = RAMPipeline.from_pretrained(folder, device=self.device, dtype=self.dtype, text_encoder=self.encoders.get(text_key), text_model=self.text_model)
            if pipe.config.feature_dim != self.dataset.feature_dim:
                raise ValueError(f"the model {folder} makes {pipe.config.feature_dim}-dim features but {self.root} has {self.dataset.feature_dim}")
            self.encoders.setdefault(text_key, pipe.text_encoder)
            self.pipes[folder] = pipe
        return self.pipes[folder]


def _evaluate_rows(
    opts: ExperimentOptions,
    spec: TableSpec,
    scale: Scale,
    root: Path,
    dataset: EvalDataset,
    evaluator: T2MEvaluator,
    ev_path: Path,
    protocol_cfg: ProtocolConfig,
    model_dirs: dict[str, Path],
    device: torch.device,
    hw: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The ground truth and every row under one protocol: metrics, and semantic accuracy and AITS
    where the experiment measures them, each reused from OUT/<table>/ when its identity is unchanged."""
    table_dir = Path(opts.out) / spec.name
    do_semantic = opts.semantic == "on" or (opts.semantic == "auto" and (root / "programs").is_dir())
    ev_digest = files_digest(ev_path) if ev_path.is_dir() else files_digest(ev_path.parent, [ev_path.name])
    base_identity = {"data": str(root.resolve()), "evaluator": ev_digest, "dtype": opts.dtype}
    pipelines = _Pipelines(device, opts.dtype, opts.text_model, dataset, root)
    semantic_kw = dict(max_motions=scale.semantic_motions, seed=opts.seed, batch_size=scale.generation_batch, progress=opts.progress)
    all_rows: list[tuple[str, Row | None]] = [(GT_ROW, None)] + [(row.name, row) for row in spec.rows]
    rows_out: dict[str, dict[str, Any]] = {}
    for name, row in all_rows:
        pipe: RAMPipeline | None = None
        generator: Generator | None = None
        model_digest: str | None = None
        if row is None:
            identity = dict(base_identity, row="ground truth")
        else:
            pipe = pipelines.get(model_dirs[name])
            model_digest = files_digest(pipe_dir(model_dirs[name]), MODEL_FILES)
            generator = pipeline_generator(pipe, batch_size=scale.generation_batch, **row.sampler)
            identity = dict(base_identity, model=model_digest, sampler=row.sampler)
        protocol = Protocol(evaluator, dataset, protocol_cfg, out_dir=table_dir, progress=opts.progress, identity=identity)
        metrics = protocol.run({name: generator})[name]
        entry: dict[str, Any] = {
            "params": dict(row.params) if row is not None else {},
            "metrics": metrics,
            "model": str(model_dirs[name]) if row is not None else None,
            "model_digest": model_digest,
            "sampler": dict(row.sampler) if row is not None else None,
        }
        if do_semantic:
            key = fingerprint({**identity, "semantic": semantic_kw | {"progress": None}})
            entry["semantic"] = _semantic(root, generator, semantic_kw, key, table_dir / "semantic" / f"{slug(name)}.json")
        if spec.aits and row is not None and pipe is not None:
            captions, lengths = aits_sentences(dataset, scale.aits_sentences, opts.seed)
            key = fingerprint({**identity, "sentences": captions, "lengths": lengths, "hardware": hw})
            entry["aits"] = _aits(pipe, row.sampler, captions, lengths, key, table_dir / "aits" / f"{slug(name)}.json")
        rows_out[name] = entry
    return rows_out


def _semantic(root: Path, generator: Generator | None, semantic_kw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    """Semantic accuracy of a row (None: the ground truth), saved at `path` under `key`."""
    sem = cached_value(path, key)
    if sem is None:
        sem = semantic_accuracy(root, generator, **semantic_kw)
        save_cached_value(path, key, sem)
    return sem


def _aits(pipe: RAMPipeline, sampler: dict[str, Any], captions: list[str], lengths: list[int], key: str, path: Path) -> dict[str, Any]:
    """AITS of a row's pipeline and sampler, saved at `path` under `key` (which names the hardware)."""
    aits = cached_value(path, key)
    if aits is None:
        aits = measure_aits(pipe, sampler, captions, lengths)
        save_cached_value(path, key, aits)
    return aits
