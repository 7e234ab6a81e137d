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
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..io_utils import write_text
from .scales import Scale, get_scale
from .tables import TableSpec, get_table

# The training overrides of the shared model when no --model is given: the paper's RAM.
SHARED_MODEL_TRAIN: dict[str, Any] = {"variant": "ours"}
# The files that decide what a model generates (hashed to know whether saved results still hold).
MODEL_FILES = ("config.json", "model.safetensors", "stats.safetensors", "Mean.npy", "Std.npy")
# Config fields that do not change the trained weights (left out of a run's hash).
_BOOKKEEPING = ("log_every", "val_every", "val_batches", "ckpt_every", "keep_checkpoints", "num_workers")
# Loss settings added after runs had been saved, at the value that means what those runs did
# (no negative filtering; one process, where "global" negatives are its own): left out of the
# run name when at that value, so that the saved runs keep their folders and are reused.
_LATER_LOSS_SETTINGS: dict[str, Any] = {"nce_filter_threshold": None, "negatives": "global"}


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


# ----------------------------------------------------------------------------- helpers


def hardware() -> dict[str, Any]:
    """The machine the numbers were measured on."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["gpu"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def hardware_line(info: dict[str, Any]) -> str:
    """One readable line from `hardware()`."""
    gpu = f", GPU {', '.join(info['gpu'])}" if info.get("gpu") else ", no GPU"
    return f"{info['cpu']} ({info['cpu_cores']} cores, torch {info['torch']} with {info['torch_threads']} threads){gpu}"


def files_digest(folder: str | os.PathLike, names: Sequence[str] | None = None) -> str:
    """SHA-1 over the named files (default: all top-level files) of a folder: which exact weights were measured."""
    path = Path(folder)
    files = [path / n for n in names] if names is not None else sorted(p for p in path.iterdir() if p.is_file())
    h = hashlib.sha1()
    for p in files:
        if p.is_file():
            h.update(p.name.encode())
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def fingerprint(payload: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able dict (what decides whether a saved result still holds)."""
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "row"


def cached_value(path: Path, key: str) -> Any | None:
    """The value saved at `path` if it was saved under the same fingerprint."""
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return saved.get("value") if saved.get("fingerprint") == key else None


def save_cached_value(path: Path, key: str, value: Any) -> None:
    """Save `value` at `path` under the fingerprint `key` (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps({"fingerprint": key, "value": value}, indent=1, default=float))


def dataset_skeleton(root: Path) -> str:
    """humanml3d or kit, from the dataset's feature size."""
    from ..data.layout import Layout, npy_shape, read_split

    layout = Layout.of(root)
    for split in ("train", "test"):
        if layout.split(split).is_file():
            for mid in read_split(layout.split(split)):
                if layout.features(mid).is_file():
                    dim = npy_shape(layout.features(mid))[0][-1]
                    if dim == 263:
                        return "humanml3d"
                    if dim == 251:
                        return "kit"
                    raise ValueError(f"{root}: features of {dim} dims; expected 263 (HumanML3D) or 251 (KIT-ML)")
    raise ValueError(f"{root} has no train/test motion with a features file: not a dataset in the HumanML3D layout")


# ----------------------------------------------------------------------------- training


def train_config(overrides: dict[str, Any], scale: Scale, skeleton: str, seed: int, text_model: str | None = None):  # noqa: ANN201 - TrainConfig
    """The resolved TrainConfig of a row's training overrides at a scale, for this dataset."""
    from ..train.config import resolve_config

    spec: dict[str, Any] = json.loads(json.dumps(overrides))  # deep copy
    preset = scale.train_preset or ("kit" if skeleton == "kit" else "humanml3d")
    spec["preset"] = preset
    if skeleton == "kit" and preset != "kit":
        spec["skeleton"] = "kit"
        spec.setdefault("model", {})["feature_dim"] = 251
    spec["seed"] = seed
    if text_model is not None:
        spec["text_model"] = text_model
    return resolve_config(spec, list(scale.train_overrides))


def run_name(cfg: Any) -> str:
    """`<variants>-<hash>`: one folder per distinct training config (bookkeeping fields and the
    variant's name aside), so that variants defined alike share one run (Table 4's two_stream is
    Table 6's A): the label joins the names of all variants with the same definition."""
    from ..train.config import VARIANTS

    d = cfg.to_dict()
    for k in (*_BOOKKEEPING, "variant"):
        d.pop(k, None)
    for k, v in _LATER_LOSS_SETTINGS.items():
        if d["loss"].get(k, v) == v:
            d["loss"].pop(k, None)
    d = json.loads(json.dumps(d), parse_int=float)  # 1 and 1.0 are the same setting
    label = "+".join(sorted(v for v, over in VARIANTS.items() if over == VARIANTS[cfg.variant]))
    return f"{label}-{fingerprint(d)[:10]}"


def run_finished(run_dir: Path, steps: int) -> bool:
    """Whether a training run has a checkpoint at (or past) `steps` and its exported model."""
    from ..model.checkpoint import CONFIG_NAME, WEIGHTS_NAME
    from ..train.state import checkpoint_dirs, read_state

    found = checkpoint_dirs(run_dir)
    if not found or not (run_dir / CONFIG_NAME).is_file() or not (run_dir / WEIGHTS_NAME).is_file():
        return False
    last = int(read_state(found[-1])["step"])
    try:  # the exported model must be the last checkpoint's (a crash between the two leaves it older)
        exported = json.loads((run_dir / CONFIG_NAME).read_text(encoding="utf-8")).get("extra", {}).get("step")
    except (OSError, ValueError, AttributeError):
        return False
    return last >= steps and exported == last


def _flatten(prefix: str, value: Any) -> list[str]:
    """{"loss": {"w_sr": 0.1}} -> ["loss.w_sr=0.1"] (`ramotion train --set` syntax)."""
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(f"{prefix}.{k}" if prefix else k, v)]
    return [f"{prefix}={json.dumps(value)}"]


def train_command(overrides: dict[str, Any], scale: Scale, skeleton: str, seed: int, root: Path, run_dir: Path, text_model: str | None = None) -> str:
    """The `ramotion train` command that trains exactly the run `train_config(...)` describes
    (run it under `accelerate launch` on several GPUs, then rerun the experiment: it finds the run finished)."""
    preset = scale.train_preset or ("kit" if skeleton == "kit" else "humanml3d")
    spec = json.loads(json.dumps(overrides))
    variant = spec.pop("variant", None)
    sets = _flatten("", spec)
    if skeleton == "kit" and preset != "kit":
        sets += ["skeleton=kit", "model.feature_dim=251"]
    sets.append(f"seed={seed}")
    if text_model is not None:
        sets.append(f"text_model={json.dumps(text_model)}")
    sets += list(scale.train_overrides)
    parts = ["ramotion", "train", "--config", preset] + (["--variant", variant] if variant else [])
    for item in sets:
        parts += ["--set", item]
    parts += ["--data", str(root), "--out", str(run_dir)]
    return shlex.join(parts)


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


def ensure_run(cfg: Any, root: Path, runs_dir: Path, text_features: Any = None, progress: bool = True, text_cache: Any = None) -> tuple[Path, bool]:
    """Train (or resume, or reuse) the run of `cfg` under `runs_dir` -> (run folder, whether it trained now)."""
    from ..train.state import checkpoint_dirs
    from ..train.trainer import train

    run_dir = runs_dir / run_name(cfg)
    if run_finished(run_dir, cfg.steps):
        return run_dir, False
    resume = bool(checkpoint_dirs(run_dir))
    if run_dir.exists() and not resume:
        # Started but died before its first checkpoint: nothing to resume, start again.
        shutil.rmtree(run_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    train(cfg, root, run_dir, resume=resume, text_features=text_features, progress=progress, text_cache=text_cache)
    return run_dir, True


def ensure_evaluator(root: Path, out: Path, scale: Scale, seed: int, device: str | None, text_model: str | None, progress: bool) -> tuple[Path, bool]:
    """OUT/evaluator, trained at the scale's settings unless a complete one is there -> (folder, trained now)."""
    from ..evaluation.evaluator import CONFIG_NAME, WEIGHTS_NAME
    from ..evaluation.train_evaluator import TrainEvaluatorConfig, train_evaluator

    folder = out / "evaluator"
    if (folder / CONFIG_NAME).is_file() and (folder / WEIGHTS_NAME).is_file() and (folder / "train_report.json").is_file():
        return folder, False
    cfg = TrainEvaluatorConfig(**scale.evaluator, seed=seed, device=device, text_model=text_model)
    train_evaluator(root, folder, cfg, progress=progress)
    return folder, True


# ----------------------------------------------------------------------------- timing


def aits_sentences(dataset: Any, n: int, seed: int) -> tuple[list[str], list[int]]:
    """`n` test captions with their ground-truth lengths (multiples of 4, at most 196 frames) for timing."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(dataset.entries), size=min(n, len(dataset.entries)), replace=False)
    captions, lengths = [], []
    for i in pick:
        entry = dataset.entries[int(i)]
        captions.append(entry.captions[0][0])
        lengths.append(max(4, min(len(entry.motion), 196) // 4 * 4))
    return captions, lengths


def measure_aits(pipe: Any, sampler: dict[str, Any], captions: Sequence[str], lengths: Sequence[int]) -> dict[str, Any]:
    """AITS (spec §8): seconds per sentence at batch size 1, text in -> features out (text model,
    E_T, every denoising step, REG re-encoding), model load excluded, device synchronised.
    One untimed warm-up call first."""
    import torch

    def sync() -> None:
        if pipe.device.type == "cuda":
            torch.cuda.synchronize(pipe.device)

    pipe(captions[0], frames=lengths[0], seed=0, **sampler)  # warm-up: lazy loading, allocator, kernels
    times = []
    for i, (caption, n) in enumerate(zip(captions, lengths)):
        sync()
        t0 = time.perf_counter()
        pipe(caption, frames=n, seed=i, **sampler)
        sync()
        times.append(time.perf_counter() - t0)
    from ..evaluation.metrics import mean_confidence

    mean, ci = mean_confidence(times)
    return {"mean": mean, "ci95": ci, "values": times}


# ----------------------------------------------------------------------------- the runner


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
        from ..model.checkpoint import resolve_model_dir

        resolve_model_dir(opts.model)  # a clear error now, before any training
        if not spec.uses_shared_model:
            raise ValueError(f"{spec.name} retrains every row; --model is only for table3 and table5 (and rows that reuse one model)")
    if opts.evaluator is not None and not Path(opts.evaluator).exists():
        raise FileNotFoundError(f"evaluator not found: {opts.evaluator}")
    return spec, scale, root, out


def run_experiment(opts: ExperimentOptions) -> ExperimentResult:
    """Run the experiment `opts.name` at `opts.scale` and write OUT/<name>.md, .json and .png."""
    from ..evaluation.data import EvalDataset
    from ..evaluation.evaluator import T2MEvaluator
    from ..evaluation.protocol import GT_ROW, Protocol, ProtocolConfig, pipeline_generator
    from ..pipeline import RAMPipeline
    from ..runtime import resolve_device
    from .report import write_experiment_report

    t_start = time.perf_counter()
    spec, scale, root, out = _check_options(opts)
    skeleton = dataset_skeleton(root)
    dataset = EvalDataset(root, "test")
    protocol_cfg = ProtocolConfig(**{**scale.protocol, "seed": opts.seed, "mm": opts.mm, "generation_batch": scale.generation_batch})
    if opts.replications is not None:
        protocol_cfg.replications = opts.replications
    device = resolve_device(opts.device)
    out.mkdir(parents=True, exist_ok=True)
    table_dir = out / spec.name

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
    trained, reused = [], []
    text_features = None
    model_dirs: dict[str, Path] = {}  # row name -> model folder
    run_of: dict[str, str] = {}  # json(overrides) -> run folder
    run_steps: dict[str, int] = {}  # run folder -> its training length
    for row in spec.rows:
        overrides = row.train
        if overrides is None and opts.model is not None:
            model_dirs[row.name] = Path(opts.model)
            continue
        overrides = overrides if overrides is not None else SHARED_MODEL_TRAIN
        key = json.dumps(overrides, sort_keys=True)
        if key not in run_of:
            cfg = train_config(overrides, scale, skeleton, opts.seed, opts.text_model)
            if text_features is None and not run_finished(out / "runs" / run_name(cfg), cfg.steps):
                from ..train.text_features import cached_caption_features

                text_features = cached_caption_features(cfg.text_model, device, opts.text_cache, progress=opts.progress)
            run_dir, did_train = ensure_run(cfg, root, out / "runs", text_features, opts.progress, opts.text_cache)
            (trained if did_train else reused).append(str(run_dir))
            run_of[key] = str(run_dir)
            run_steps[str(run_dir)] = cfg.steps
        model_dirs[row.name] = Path(run_of[key])

    # 3. Evaluate every row (and the ground truth) under the same protocol and seeds.
    do_semantic = opts.semantic == "on" or (opts.semantic == "auto" and (root / "programs").is_dir())
    ev_digest = files_digest(ev_path) if ev_path.is_dir() else files_digest(ev_path.parent, [ev_path.name])
    base_identity = {"data": str(root.resolve()), "evaluator": ev_digest, "dtype": opts.dtype}
    encoders: dict[str, Any] = {}  # text model name -> loaded encoder, shared by the pipelines
    pipes: dict[Path, Any] = {}
    rows_out: dict[str, dict[str, Any]] = {}
    hw = hardware()

    def pipeline_for(folder: Path) -> Any:
        if folder not in pipes:
            from ..model.checkpoint import read_config

            text_key = opts.text_model or read_config(pipe_dir(folder))[0].text_model
            pipe = RAMPipeline.from_pretrained(folder, device=device, dtype=opts.dtype, text_encoder=encoders.get(text_key), text_model=opts.text_model)
            if pipe.config.feature_dim != dataset.feature_dim:
                raise ValueError(f"the model {folder} makes {pipe.config.feature_dim}-dim features but {root} has {dataset.feature_dim}")
            encoders.setdefault(text_key, pipe.text_encoder)
            pipes[folder] = pipe
        return pipes[folder]

    semantic_kw = dict(max_motions=scale.semantic_motions, seed=opts.seed, batch_size=scale.generation_batch, progress=opts.progress)
    all_rows: list[tuple[str, Any]] = [(GT_ROW, None)] + [(row.name, row) for row in spec.rows]
    from ..evaluation.semantic import semantic_accuracy

    for name, row in all_rows:
        if row is None:
            generator, identity, model_digest = None, dict(base_identity, row="ground truth"), None
        else:
            folder = model_dirs[name]
            pipe = pipeline_for(folder)
            model_digest = files_digest(pipe_dir(folder), MODEL_FILES)
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
            fp = fingerprint({**identity, "semantic": semantic_kw | {"progress": None}})
            path = table_dir / "semantic" / f"{_slug(name)}.json"
            sem = cached_value(path, fp)
            if sem is None:
                sem = semantic_accuracy(root, generator, **semantic_kw)
                save_cached_value(path, fp, sem)
            entry["semantic"] = sem
        if spec.aits and row is not None:
            captions, lengths = aits_sentences(dataset, scale.aits_sentences, opts.seed)
            fp = fingerprint({**identity, "sentences": captions, "lengths": lengths, "hardware": hw})
            path = table_dir / "aits" / f"{_slug(name)}.json"
            aits = cached_value(path, fp)
            if aits is None:
                aits = measure_aits(pipe, row.sampler, captions, lengths)
                save_cached_value(path, fp, aits)
            entry["aits"] = aits
        rows_out[name] = entry

    wall = time.perf_counter() - t_start
    settings = {
        "experiment": spec.name,
        "scale": asdict(scale),
        "command": opts.command(),
        "dataset": str(root),
        "evaluator": str(ev_path),
        "evaluator_trained_now": trained_evaluator,
        "evaluator_report": _evaluator_report(ev_path),
        "protocol": asdict(protocol_cfg),
        "replication_seeds": [checker.replication_seeds(r) for r in range(protocol_cfg.replications)],
        "training_seed": opts.seed,
        "training_steps": run_steps,
        "dtype": opts.dtype,
        "device": str(device),
        "hardware": hw,
        "runs": sorted(set(run_of.values())),
        "trained_now": trained,
        "reused": reused,
        "wall_seconds": wall,
        "training_seconds": {r: training_seconds(Path(r)) for r in sorted(set(run_of.values()))},
    }
    md, js, png = write_experiment_report(out, spec, rows_out, settings, results_page=opts.results_page)
    return ExperimentResult(spec.name, rows_out, md, js, png, trained, reused, wall)


def pipe_dir(folder: Path) -> Path:
    """The folder holding a model's config.json / weights (a run folder's top level)."""
    from ..model.checkpoint import resolve_model_dir

    return resolve_model_dir(folder)


def _evaluator_report(ev_path: Path) -> dict[str, Any] | None:
    p = ev_path / "train_report.json"
    if not p.is_file():
        return None
    report = json.loads(p.read_text(encoding="utf-8"))
    return {k: report[k] for k in ("r_top1", "r_top3", "mm_dist", "fid_two_passes", "epochs", "train_seconds", "preset") if k in report}


def training_seconds(run_dir: Path) -> float | None:
    """Training wall time of a run, from its logged throughput (sum of steps / steps_per_s windows)."""
    from ..train.curves import read_metrics

    rows = [r for r in read_metrics(run_dir / "metrics.jsonl") if r.get("split") == "train" and r.get("steps_per_s")]
    if not rows:
        return None
    total, last = 0.0, 0
    for r in rows:
        total += (r["step"] - last) / r["steps_per_s"]
        last = r["step"]
    return total
