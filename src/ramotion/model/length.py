"""The length predictor: text -> number of frames, for prompts that come without a length.

T2M (Guo et al. 2022) and MoMask estimate a motion's length from its text with a small
classifier over length bins of 4 frames (one "unit"). Ours does the same over the frozen
text model the pipeline already runs: the prompt's token states (B, L, H) are mean-pooled
over its tokens into one sentence embedding (B, H) (sentence-transformers' pooling of
all-MiniLM-L6-v2), and a small MLP classifies it into `num_bins` bins of `unit` frames,
bin k holding the lengths k*unit+1 .. (k+1)*unit, so that the bins cover every length the
model can make, 1..max_frames (49 bins for 196 frames). The classifier's distribution over
bins becomes one length by `point` (config): its mean, its median (the estimate with the
smallest expected absolute error) or its mode; the training chooses one on the validation
split (`ramotion.train.length`).

A model folder holds it as `length_predictor.safetensors` (the weights, metadata format
"ramotion-length") and `length_predictor.json` (its `LengthConfig`, format tag and version,
and what its training measured). Nothing is unpickled; a foreign or corrupt file is refused
with one line naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..config_utils import dataclass_from_dict
from ..io_utils import atomic_path, read_tagged_json, write_text
from .config import _shown, check_choice, check_float, check_int

FORMAT = "ramotion-length"
FORMAT_VERSION = 1
WEIGHTS_NAME = "length_predictor.safetensors"
CONFIG_NAME = "length_predictor.json"
POINTS = ("mean", "median", "mode")


@dataclass
class LengthConfig:
    """The predictor's sizes, its bins and how a distribution becomes one length."""

    text_model: str = "all-MiniLM-L6-v2"  # the frozen LM whose pooled token states it reads
    text_dim: int = 384  # that LM's hidden size
    hidden: int = 128  # the MLP's hidden width
    dropout: float = 0.1
    unit: int = 4  # frames per bin (T2M / MoMask's unit length)
    max_frames: int = 196  # the longest length it predicts (bins cover 1..max_frames)
    point: str = "median"  # mean | median | mode of the predicted distribution

    def __post_init__(self) -> None:
        if not isinstance(self.text_model, str) or not self.text_model.strip():
            raise ValueError(f"LengthConfig.text_model must be a non-empty string, got {_shown(self.text_model)}")
        check_int("LengthConfig.text_dim", self.text_dim, 1, 16384)
        check_int("LengthConfig.hidden", self.hidden, 1, 8192)
        self.dropout = check_float("LengthConfig.dropout", self.dropout, 0.0, 1.0, high_open=True, rule="a number in [0, 1)")
        check_int("LengthConfig.unit", self.unit, 1, 100)
        check_int("LengthConfig.max_frames", self.max_frames, 1, 20000)
        check_choice("LengthConfig.point", self.point, POINTS)

    @property
    def num_bins(self) -> int:
        """ceil(max_frames / unit): 49 bins of 4 frames for 196 frames."""
        return math.ceil(self.max_frames / self.unit)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> LengthConfig:
        return dataclass_from_dict(cls, data, "length predictor config")


def frames_to_bins(frames: Tensor, unit: int) -> Tensor:
    """Lengths (N,) in 1..max_frames -> bin indices (N,) long: (frames - 1) // unit."""
    return (frames.long() - 1) // unit


def pool_tokens(hidden: Tensor, mask: Tensor) -> Tensor:
    """Token states (B, L, H) and their mask (B, L) -> the mean over each row's tokens (B, H) float32."""
    m = mask.to(hidden.dtype)[..., None]  # (B, L, 1)
    return ((hidden * m).sum(1) / m.sum(1).clamp_min(1.0)).float()


class LengthPredictor(nn.Module):
    """Sentence embedding (B, H) -> logits over length bins (B, num_bins)."""

    def __init__(self, config: LengthConfig | None = None) -> None:
        super().__init__()
        self.config = config or LengthConfig()
        self.training_report: dict[str, Any] = {}  # what its training measured (length_predictor.json's "training")
        c = self.config
        self.net = nn.Sequential(
            nn.LayerNorm(c.text_dim),  # the LM's pooled states are small and uneven in scale
            nn.Linear(c.text_dim, c.hidden),
            nn.GELU(),
            nn.Dropout(c.dropout),
            nn.Linear(c.hidden, c.num_bins),
        )

    def forward(self, embedding: Tensor) -> Tensor:
        """embedding (B, H) -> logits (B, num_bins)."""
        return self.net(embedding)

    def bin_edges(self) -> tuple[Tensor, Tensor]:
        """Each bin's first and last length (num_bins,), (num_bins,) float32: k*unit+1 .. min((k+1)*unit, max_frames)."""
        c = self.config
        k = torch.arange(c.num_bins, dtype=torch.float32)
        return k * c.unit + 1, torch.clamp((k + 1) * c.unit, max=float(c.max_frames))

    def frames_from_logits(self, logits: Tensor, point: str | None = None) -> Tensor:
        """logits (B, num_bins) -> lengths (B,) long in 1..max_frames, by `point` (default the config's).

        mean: the expectation over bin centres; median: where the distribution's CDF reaches
        1/2, each bin's mass spread evenly over its lengths; mode: the centre of the likeliest bin.
        """
        point = check_choice("point", point or self.config.point, POINTS)
        probs = torch.softmax(logits.float(), dim=-1)  # (B, K)
        lo, hi = (t.to(probs.device) for t in self.bin_edges())  # (K,), (K,)
        centre = (lo + hi) / 2
        if point == "mean":
            value = probs @ centre  # (B,)
        elif point == "mode":
            value = centre[probs.argmax(-1)]
        else:
            cdf = probs.cumsum(-1)  # (B, K)
            k = torch.searchsorted(cdf, torch.full_like(cdf[:, :1], 0.5)).clamp(max=probs.shape[-1] - 1)[:, 0]  # (B,) the median's bin
            before = torch.where(k > 0, cdf.gather(1, (k - 1).clamp_min(0)[:, None])[:, 0], torch.zeros_like(k, dtype=cdf.dtype))
            mass = probs.gather(1, k[:, None])[:, 0].clamp_min(1e-12)
            value = lo[k] - 0.5 + (hi[k] - lo[k] + 1) * ((0.5 - before) / mass).clamp(0.0, 1.0)
        return torch.floor(value + 0.5).long().clamp(1, self.config.max_frames)

    @torch.no_grad()
    def predict_embeddings(self, embedding: Tensor, point: str | None = None) -> list[int]:
        """Sentence embeddings (B, H) -> one length per row (frames), in eval mode on the CPU."""
        was = self.training
        self.eval()
        try:
            return [int(f) for f in self.frames_from_logits(self(embedding.detach().to("cpu", torch.float32)), point)]
        finally:
            self.train(was)

    @torch.no_grad()
    def predict(self, encoder: Any, prompts: Sequence[str], point: str | None = None) -> list[int]:
        """Prompts -> lengths in frames through `encoder` (a `ramotion.text.TextEncoder`, or
        anything with its `encode`). Each distinct prompt is encoded alone, so that its length
        never depends on the other prompts of a call (padding rounds differently)."""
        if isinstance(prompts, str):
            raise TypeError("predict() takes a list of prompts, not one string")
        if not prompts:
            raise ValueError("no prompts given: predict() needs at least one")
        distinct = list(dict.fromkeys(prompts))
        pooled = torch.cat([pool_tokens(*encoder.encode([p])).cpu() for p in distinct])  # (U, H)
        if pooled.shape[-1] != self.config.text_dim:
            raise ValueError(f"the text model gives {pooled.shape[-1]}-d features; this length predictor reads {self.config.text_dim}-d ({self.config.text_model})")
        frames = dict(zip(distinct, self.predict_embeddings(pooled, point)))
        return [frames[p] for p in prompts]


# ----------------------------------------------------------------------------- files


def save_length_predictor(directory: str | os.PathLike, predictor: LengthPredictor, training: dict[str, Any] | None = None) -> Path:
    """Write length_predictor.safetensors and length_predictor.json into `directory`
    (created if missing), each atomically. `training`: what the training measured (kept in
    the JSON under "training"). Returns the folder."""
    from safetensors.torch import save_file

    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot save a length predictor to {out}: it is a file")
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in predictor.state_dict().items()}
    with atomic_path(out / WEIGHTS_NAME) as tmp:
        save_file(weights, str(tmp), metadata={"format": FORMAT, "version": str(FORMAT_VERSION)})
    payload = {"format": FORMAT, "version": FORMAT_VERSION, "config": predictor.config.to_dict(), "training": training or {}}
    write_text(out / CONFIG_NAME, json.dumps(payload, indent=2) + "\n")
    return out


def has_length_predictor(directory: str | os.PathLike) -> bool:
    """Whether a folder holds a length predictor (either of its two files)."""
    d = Path(directory)
    return (d / WEIGHTS_NAME).exists() or (d / CONFIG_NAME).exists()


def read_length_config(directory: str | os.PathLike) -> tuple[LengthConfig, dict[str, Any]]:
    """Parse and validate length_predictor.json -> (LengthConfig, training report)."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {Path(directory)}: its {WEIGHTS_NAME} needs the config beside it")
    payload = read_tagged_json(path, FORMAT, "a ramotion length predictor config")
    if payload.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {payload.get('version')!r}; this ramotion reads version {FORMAT_VERSION}")
    try:
        config = LengthConfig.from_dict(payload.get("config"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid length predictor config: {exc}") from None
    training = payload.get("training") or {}
    if not isinstance(training, dict):
        raise ValueError(f"{path}: \"training\" must be a JSON object, got {_shown(training)}")
    return config, training


def load_length_predictor(directory: str | os.PathLike) -> LengthPredictor | None:
    """The length predictor of a folder (eval mode, CPU), or None when it has neither file.

    A folder with only one of the two files, a foreign or corrupt file, or weights that do
    not match the config are refused with a ValueError / FileNotFoundError naming the file.
    """
    from safetensors import SafetensorError, safe_open

    d = Path(directory)
    if not has_length_predictor(d):
        return None
    config, training = read_length_config(d)
    path = d / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{d / CONFIG_NAME} has no {WEIGHTS_NAME} beside it")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path} is not a ramotion length predictor (safetensors metadata format={meta.get('format')!r})")
            weights = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path} is corrupt or not a safetensors file ({exc})") from None
    predictor = LengthPredictor(config)
    expected = predictor.state_dict()
    if set(weights) != set(expected):
        missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise ValueError(f"{path} does not match its config: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, value in weights.items():
        if value.shape != expected[key].shape:
            raise ValueError(f"{path}: tensor {key} has shape {tuple(value.shape)}, {CONFIG_NAME} implies {tuple(expected[key].shape)}")
        if not torch.isfinite(value).all():
            raise ValueError(f"{path}: tensor {key} holds NaN or infinite values")
    predictor.load_state_dict(weights)
    predictor.training_report = training
    return predictor.eval()


def remove_length_predictor(directory: str | os.PathLike) -> None:
    """Delete a folder's length predictor files (when a pipeline without one is saved over it)."""
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        (Path(directory) / name).unlink(missing_ok=True)
