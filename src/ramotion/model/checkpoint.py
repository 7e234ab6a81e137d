"""Save / load a RAM model as `config.json` + `model.safetensors` (+ optional Mean/Std).

Nothing is ever unpickled: weights are safetensors, the config is JSON. Foreign or
corrupt files are refused with a one-line message naming the file and the problem.
Directories are either a model folder (config.json + model.safetensors) or a
training run (`RUN/`, whose top level holds the latest exported model).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..io_utils import atomic_path, read_tagged_json, write_text
from .config import RAMConfig
from .ram import RAM

FORMAT = "ramotion-ram"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
STATS_NAME = "stats.safetensors"
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def save_model(
    directory: str | os.PathLike,
    model: RAM,
    mean: np.ndarray | torch.Tensor | None = None,
    std: np.ndarray | torch.Tensor | None = None,
    state_dict: dict[str, torch.Tensor] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write config.json, model.safetensors (and stats.safetensors with Mean/Std) atomically.

    `state_dict` overrides the module's own weights (e.g. the EMA weights); `extra` is
    stored under "extra" in config.json (e.g. the training step). Returns the folder.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    weights = state_dict if state_dict is not None else model.state_dict()
    weights = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    with atomic_path(out / WEIGHTS_NAME) as tmp:
        save_file(weights, str(tmp), metadata={"format": FORMAT, "version": str(FORMAT_VERSION)})
    if (mean is None) != (std is None):
        raise ValueError("save_model needs both mean and std, or neither")
    if mean is not None:
        stats = {"mean": torch.as_tensor(np.asarray(mean), dtype=torch.float32), "std": torch.as_tensor(np.asarray(std), dtype=torch.float32)}
        if stats["mean"].shape != (model.config.feature_dim,) or stats["std"].shape != (model.config.feature_dim,):
            raise ValueError(f"Mean/Std must have shape ({model.config.feature_dim},), got {tuple(stats['mean'].shape)} and {tuple(stats['std'].shape)}")
        with atomic_path(out / STATS_NAME) as tmp:
            save_file(stats, str(tmp), metadata={"format": FORMAT})
    payload = {"format": FORMAT, "version": FORMAT_VERSION, "model": model.config.to_dict(), "extra": extra or {}}
    write_text(out / CONFIG_NAME, json.dumps(payload, indent=2) + "\n")
    return out


def read_config(directory: str | os.PathLike) -> tuple[RAMConfig, dict[str, Any]]:
    """Parse and validate config.json of a model folder -> (RAMConfig, extra)."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {Path(directory)}: not a ramotion model folder")
    payload = read_tagged_json(path, FORMAT, "a ramotion RAM config")
    if payload.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {payload.get('version')!r}; this ramotion reads version {FORMAT_VERSION}")
    try:
        config = RAMConfig.from_dict(payload.get("model"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid model config: {exc}") from None
    extra = payload.get("extra")
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise ValueError(f"{path}: \"extra\" must be a JSON object (e.g. {{\"step\": 100}}), got {_JSON_KINDS.get(type(extra), type(extra).__name__)}")
    return config, dict(extra)


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a ramotion safetensors file, refusing foreign or corrupt ones."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"missing weights file {path}")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a ramotion checkpoint (safetensors metadata format={meta.get('format')!r})")
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path} is corrupt or not a safetensors file ({exc})") from None


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder, or a training run's folder (its top level holds the latest export)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such model folder or run: {p}")
    if not p.is_dir():
        raise ValueError(f"{p} is a file; expected a model folder with {CONFIG_NAME} and {WEIGHTS_NAME}")
    if (p / CONFIG_NAME).is_file():
        return p
    raise FileNotFoundError(f"{p} holds no {CONFIG_NAME}: not a ramotion model folder or run (has it saved a checkpoint yet?)")


def load_model(path: str | os.PathLike, device: torch.device | str = "cpu") -> RAM:
    """Build a RAM from a model folder / run folder and load its weights (eval mode)."""
    directory = resolve_model_dir(path)
    config, _ = read_config(directory)
    model = RAM(config)
    weights = read_weights(directory / WEIGHTS_NAME)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{directory / WEIGHTS_NAME} does not match its config: missing {missing[:3]}{'...' if len(missing) > 3 else ''}, unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''}")
    for key, value in weights.items():
        if value.shape != expected[key].shape:
            raise ValueError(f"{directory / WEIGHTS_NAME}: tensor {key} has shape {tuple(value.shape)}, config implies {tuple(expected[key].shape)}")
    model.load_state_dict(weights)
    return model.to(device).eval()


def load_stats(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean/Std (D,) float32 saved beside a model, or None when the folder has none."""
    directory = resolve_model_dir(path)
    if not (directory / STATS_NAME).is_file():
        return None
    stats = read_weights(directory / STATS_NAME)
    if set(stats) != {"mean", "std"}:
        raise ValueError(f"{directory / STATS_NAME} must hold exactly 'mean' and 'std'")
    return stats["mean"].numpy(), stats["std"].numpy()
