"""TrainConfig: everything a training run needs, with the paper presets and small CPU presets.

A config file (JSON) may name a `preset` and a `variant` (an ablation of the paper) and
override any field; nested `model` / `loss` objects override RAMConfig / LossConfig
fields. The resolved config is saved as RUN/train_config.json.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config_utils import dataclass_from_dict
from ..model.config import RAMConfig, check_choice, check_float, check_int
from .losses import LATENT_OBJECTIVES, LossConfig


@dataclass
class TrainConfig:
    """One training run: model sizes, objective, optimisation and bookkeeping."""

    model: RAMConfig = field(default_factory=RAMConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    preset: str = "humanml3d"
    variant: str = "ours"  # see VARIANTS: the paper's ablations (Tables 4 and 6)
    skeleton: str = "humanml3d"  # humanml3d | kit (feature size, fps, loading rules)
    text_model: str | None = None  # LM name or local path; None: the offline all-MiniLM-L6-v2
    batch_size: int = 64  # per process and per micro-step; effective = × processes × grad_accum
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0  # AdamW; MDM's default
    betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float | None = None
    steps: int = 450_000  # optimiser updates
    ema_decay: float | None = 0.9999  # None: no EMA; with EMA the exported weights are the EMA's
    mixed_precision: str = "no"  # no | bf16 | fp16 (fp16 needs a GPU)
    seed: int = 0
    num_workers: int = 2
    log_every: int = 100
    val_every: int = 5_000
    val_batches: int = 16  # validation batches (of batch_size) per evaluation
    ckpt_every: int = 10_000
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        """Check every field's type and range; a wrong value gets one line naming the field."""
        if not isinstance(self.model, RAMConfig):
            self.model = RAMConfig.from_dict(self.model)
        if not isinstance(self.loss, LossConfig):
            self.loss = dataclass_from_dict(LossConfig, self.loss, "loss")
        what = "train config"
        check_choice(f"{what} preset", self.preset, PRESETS)
        check_choice(f"{what} variant", self.variant, VARIANTS)
        check_choice(f"{what} skeleton", self.skeleton, ("humanml3d", "kit"))
        check_choice(f"{what} mixed_precision", self.mixed_precision, ("no", "bf16", "fp16"))
        if self.text_model is not None and (not isinstance(self.text_model, str) or not self.text_model.strip()):
            raise ValueError(f"{what} text_model must be a language model name or path, or null (the offline all-MiniLM-L6-v2), got {self.text_model!r}")
        for name in ("batch_size", "grad_accum", "steps", "log_every", "val_every", "ckpt_every", "keep_checkpoints"):
            check_int(f"{what} {name}", getattr(self, name), 1)
        for name in ("num_workers", "val_batches"):
            check_int(f"{what} {name}", getattr(self, name), 0)
        check_int(f"{what} seed", self.seed, 0, 2**32 - 1)  # numpy's seed range
        self.lr = check_float(f"{what} lr", self.lr, 0.0, low_open=True)
        self.weight_decay = check_float(f"{what} weight_decay", self.weight_decay, 0.0)
        betas = self.betas
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ValueError(f"{what} betas must be a list of two numbers in [0, 1) (AdamW's, e.g. [0.9, 0.999]), got {betas!r}")
        self.betas = tuple(check_float(f"{what} betas[{i}]", b, 0.0, 1.0, high_open=True, rule="a number in [0, 1)") for i, b in enumerate(betas))  # type: ignore[assignment]
        if self.max_grad_norm is not None:
            self.max_grad_norm = check_float(f"{what} max_grad_norm", self.max_grad_norm, 0.0, low_open=True, rule="a finite number > 0, or null (no clipping)")
        if self.ema_decay is not None:
            self.ema_decay = check_float(f"{what} ema_decay", self.ema_decay, 0.0, 1.0, low_open=True, high_open=True, rule="a number in (0, 1), or null (no EMA)")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a fully resolved dict (as saved in a run)."""
        return dataclass_from_dict(cls, data, "train config")

    @property
    def effective_batch(self) -> int:
        """Samples per optimiser update on one process (× number of processes in DDP)."""
        return self.batch_size * self.grad_accum


# Ablation variants: loss overrides (LATENT_OBJECTIVES) plus the Table-4 baseline without E_M.
VARIANTS: dict[str, dict[str, Any]] = {
    **{name: {"loss": dict(over)} for name, over in LATENT_OBJECTIVES.items()},
    "baseline": {"model": {"use_motion_encoder": False}, "loss": {"w_align": 0.0, "w_sr": 0.0}},
}

PRESETS: dict[str, dict[str, Any]] = {
    # The paper (spec §7). text_dim follows the language model actually used. On several
    # processes, L_sr's negatives are the whole global batch (LossConfig.negatives="global",
    # the default; "per_device" restricts them to each process's slice).
    "humanml3d": {},
    "kit": {"skeleton": "kit", "model": {"feature_dim": 251, "latent_dim": 192}, "steps": 400_000},
    # Small CPU preset: learns on the procedural corpus within minutes on 2 cores. fp32:
    # on CPUs without AVX512-BF16/AMX, bf16 autocast is many times slower (benchmarks/train_step.py).
    # No dropout: on CPU its mask generation costs ~15% of a step, and short runs do not overfit.
    "small": {
        "model": {"latent_dim": 128, "enc_layers": 2, "enc_heads": 4, "enc_ff": 256, "dim": 128, "layers": 4, "heads": 4, "ff": 256, "dropout": 0.0},
        "batch_size": 16,
        "lr": 3e-4,
        "max_grad_norm": 1.0,
        "steps": 400,
        "ema_decay": 0.99,
        "mixed_precision": "no",
        "num_workers": 1,
        "log_every": 10,
        "val_every": 50,
        "val_batches": 8,
        "ckpt_every": 100,
    },
    # Tiny preset for tests: a few steps in seconds.
    "tiny": {
        "model": {"latent_dim": 16, "enc_layers": 1, "enc_heads": 2, "enc_ff": 32, "dim": 32, "layers": 1, "heads": 2, "ff": 64, "max_frames": 196},
        "batch_size": 4,
        "lr": 1e-3,
        "steps": 6,
        "ema_decay": 0.9,
        "num_workers": 0,
        "log_every": 1,
        "val_every": 3,
        "val_batches": 1,
        "ckpt_every": 3,
    },
}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge (over wins)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """'loss.w_sr=0.1' -> (['loss', 'w_sr'], 0.1); values are JSON, else plain strings."""
    if "=" not in text:
        raise ValueError(f"override {text!r} must look like key=value (e.g. loss.w_sr=0.1)")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip().split("."), value


def resolve_config(spec: str | os.PathLike | dict[str, Any] | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """A preset name, a JSON file path or a dict (with optional `preset`/`variant`) -> TrainConfig.

    Order: preset, then variant, then the file's own fields, then `overrides` ('a.b=value').
    """
    if spec is None:
        user: dict[str, Any] = {}
    elif isinstance(spec, dict):
        user = dict(spec)
    elif str(spec) in PRESETS:
        user = {"preset": str(spec)}
    else:
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"no preset or config file named {str(spec)!r} (presets: {', '.join(PRESETS)})")
        try:
            user = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc})") from None
        if not isinstance(user, dict):
            raise ValueError(f"{path} must hold a JSON object")
    for item in overrides or []:
        keys, value = parse_override(item)
        target = user
        for k in keys[:-1]:
            target = target.setdefault(k, {})
            if not isinstance(target, dict):
                raise ValueError(f"override {item!r}: {k} is not a section")
        target[keys[-1]] = value
    preset = user.get("preset", "humanml3d")
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    variant = user.get("variant", "ours")
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    merged = _merge(_merge(PRESETS[preset], VARIANTS[variant]), user)
    merged["preset"], merged["variant"] = preset, variant
    return TrainConfig.from_dict(merged)
