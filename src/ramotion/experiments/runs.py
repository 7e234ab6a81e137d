"""The training an experiment needs: each row's training config, the run folder it is saved
in, the `ramotion train` command that makes exactly that run, and training (or resuming, or
reusing) it; the project-trained evaluator.

    cfg = train_config({"variant": "two_stream"}, get_scale("small"), "humanml3d", seed=0)
    run_dir, trained_now = ensure_run(cfg, data_root, out / "runs")

A run's folder is named by a hash of its training config (`run_name`), so that rows whose
training is defined alike share one run, and a finished run is found again by any table.
The names are part of saved experiments' identity: computing them otherwise would retrain
every row.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

from ..data.layout import Layout, npy_shape, read_split
from ..evaluation.evaluator import CONFIG_NAME as EVALUATOR_CONFIG
from ..evaluation.evaluator import WEIGHTS_NAME as EVALUATOR_WEIGHTS
from ..evaluation.train_evaluator import TrainEvaluatorConfig, train_evaluator
from ..train.config import VARIANTS, TrainConfig, resolve_config
from ..train.state import checkpoint_dirs
from ..train.text_features import CaptionFeatures
from ..train.trainer import train
from .provenance import fingerprint, run_finished
from .scales import Scale

# The training overrides of the shared model when no --model is given: the paper's RAM.
SHARED_MODEL_TRAIN: dict[str, Any] = {"variant": "ours"}
# Config fields that do not change the trained weights (left out of a run's hash).
_BOOKKEEPING = ("log_every", "val_every", "val_batches", "ckpt_every", "keep_checkpoints", "num_workers")
# Loss settings added after runs had been saved, at the value that means what those runs did
# (no negative filtering; one process, where "global" negatives are its own): left out of the
# run name when at that value, so that the saved runs keep their folders and are reused.
_LATER_LOSS_SETTINGS: dict[str, Any] = {"nce_filter_threshold": None, "negatives": "global"}


def dataset_skeleton(root: Path) -> str:
    """humanml3d or kit, from the dataset's feature size."""
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


def _preset(scale: Scale, skeleton: str) -> str:
    """The training preset of a scale on this dataset (the scale's, else the skeleton's own)."""
    return scale.train_preset or ("kit" if skeleton == "kit" else "humanml3d")


def train_config(overrides: dict[str, Any], scale: Scale, skeleton: str, seed: int, text_model: str | None = None) -> TrainConfig:
    """The resolved TrainConfig of a row's training overrides at a scale, for this dataset."""
    spec: dict[str, Any] = json.loads(json.dumps(overrides))  # deep copy
    preset = _preset(scale, skeleton)
    spec["preset"] = preset
    if skeleton == "kit" and preset != "kit":
        spec["skeleton"] = "kit"
        spec.setdefault("model", {})["feature_dim"] = 251
    spec["seed"] = seed
    if text_model is not None:
        spec["text_model"] = text_model
    return resolve_config(spec, list(scale.train_overrides))


def run_name(cfg: TrainConfig) -> str:
    """`<variants>-<hash>`: one folder per distinct training config (bookkeeping fields and the
    variant's name aside), so that variants defined alike share one run (Table 4's two_stream is
    Table 6's A): the label joins the names of all variants with the same definition."""
    d = cfg.to_dict()
    for k in (*_BOOKKEEPING, "variant"):
        d.pop(k, None)
    for k, v in _LATER_LOSS_SETTINGS.items():
        if d["loss"].get(k, v) == v:
            d["loss"].pop(k, None)
    d = json.loads(json.dumps(d), parse_int=float)  # 1 and 1.0 are the same setting
    label = "+".join(sorted(v for v, over in VARIANTS.items() if over == VARIANTS[cfg.variant]))
    return f"{label}-{fingerprint(d)[:10]}"


def _flatten(prefix: str, value: Any) -> list[str]:
    """{"loss": {"w_sr": 0.1}} -> ["loss.w_sr=0.1"] (`ramotion train --set` syntax)."""
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(f"{prefix}.{k}" if prefix else k, v)]
    return [f"{prefix}={json.dumps(value)}"]


def train_command(overrides: dict[str, Any], scale: Scale, skeleton: str, seed: int, root: Path, run_dir: Path, text_model: str | None = None) -> str:
    """The `ramotion train` command that trains exactly the run `train_config(...)` describes
    (run it under `accelerate launch` on several GPUs, then rerun the experiment: it finds the run finished)."""
    preset = _preset(scale, skeleton)
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


def ensure_run(
    cfg: TrainConfig,
    root: Path,
    runs_dir: Path,
    text_features: CaptionFeatures | None = None,
    progress: bool = True,
    text_cache: str | Path | None = None,
) -> tuple[Path, bool]:
    """Train (or resume, or reuse) the run of `cfg` under `runs_dir` -> (run folder, whether it trained now)."""
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
    folder = out / "evaluator"
    if (folder / EVALUATOR_CONFIG).is_file() and (folder / EVALUATOR_WEIGHTS).is_file() and (folder / "train_report.json").is_file():
        return folder, False
    cfg = TrainEvaluatorConfig(**scale.evaluator, seed=seed, device=device, text_model=text_model)
    train_evaluator(root, folder, cfg, progress=progress)
    return folder, True
