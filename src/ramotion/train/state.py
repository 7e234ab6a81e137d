"""Resumable training state: the data position, RNG states and atomic checkpoint folders.

A checkpoint is a folder RUN/checkpoints/step_XXXXXXXX/ holding
  model.safetensors + config.json   the raw weights (ramotion.model.checkpoint format)
  ema.safetensors                   EMA weights (when EMA is on)
  optimizer.pt                      optimizer state_dict (tensors and numbers only)
  rng_rank<R>.pt                    each process's torch RNG states
  trainer_state.json                step, epoch, batch position, world size, config
It is written into a hidden temporary folder and renamed into place, so a crash never
leaves a half-written checkpoint; `.pt` files are read with torch.load(weights_only=True).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io_utils import read_tagged_json

CHECKPOINTS_DIR = "checkpoints"
STATE_NAME = "trainer_state.json"
STATE_FORMAT = "ramotion-train-state"


@dataclass
class DataPosition:
    """Where the data stream stands: the epoch and the global batches of it already consumed."""

    epoch: int = 0
    batch: int = 0


class ShardedBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Deterministic, resumable batches for data-parallel training.

    Epoch e permutes the items with a generator seeded by (seed, e); consecutive global
    batches of `batch_size × num_replicas` items are cut from it (the incomplete tail is
    dropped) and process r takes its r-th slice. `set_position(epoch, batch)` starts the
    next iteration at global batch `batch` of `epoch`, which is how resume skips exactly
    the data already seen without reading it.
    """

    def __init__(self, num_items: int, batch_size: int, num_replicas: int = 1, rank: int = 0, seed: int = 0) -> None:
        self.num_items, self.batch_size, self.num_replicas, self.rank, self.seed = num_items, batch_size, num_replicas, rank, seed
        self.global_batch = batch_size * num_replicas
        if num_items < self.global_batch:
            raise ValueError(f"the dataset has {num_items} items, fewer than one global batch of {self.global_batch} ({batch_size} × {num_replicas} processes)")
        self.position = DataPosition()

    @property
    def batches_per_epoch(self) -> int:
        return self.num_items // self.global_batch

    def set_position(self, epoch: int, batch: int = 0) -> None:
        self.position = DataPosition(epoch, batch)

    def permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng((self.seed, epoch)).permutation(self.num_items)

    def __iter__(self) -> Iterator[list[int]]:
        perm = self.permutation(self.position.epoch)
        for b in range(self.position.batch, self.batches_per_epoch):
            start = b * self.global_batch + self.rank * self.batch_size
            yield perm[start : start + self.batch_size].tolist()

    def __len__(self) -> int:
        return self.batches_per_epoch - self.position.batch


def rng_state() -> dict[str, Any]:
    """This process's torch RNG states (CPU and, when present, every CUDA device)."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def safe_torch_load(path: str | os.PathLike) -> Any:
    """torch.load with weights_only=True (never runs pickled code), with a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"missing checkpoint file {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt/foreign files
        raise ValueError(f"{path} is corrupt or not a ramotion training state ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None


def checkpoint_dirs(run: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = Path(run) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_") and (p / STATE_NAME).is_file()]
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def read_state(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """trainer_state.json of a checkpoint folder, validated."""
    path = Path(checkpoint) / STATE_NAME
    try:
        return read_tagged_json(path, STATE_FORMAT, "a ramotion training state")
    except FileNotFoundError:
        raise FileNotFoundError(f"{Path(checkpoint)} is not a training checkpoint (no {STATE_NAME})") from None


def new_state(step: int, position: DataPosition, world_size: int, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The JSON part of a checkpoint."""
    return {"format": STATE_FORMAT, "step": step, "data": asdict(position), "world_size": world_size, "config": config, **extra}


def temporary_checkpoint_dir(run: str | os.PathLike, step: int) -> Path:
    """The hidden folder a checkpoint is written into before `publish_checkpoint`."""
    return Path(run) / CHECKPOINTS_DIR / f".tmp-step_{step:08d}"


def publish_checkpoint(tmp: Path, keep: int) -> Path:
    """Rename the finished temporary folder into place and prune old checkpoints."""
    final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in checkpoint_dirs(final.parent.parent)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def remove_partial_checkpoints(run: str | os.PathLike) -> list[Path]:
    """Delete the hidden temporary folders of checkpoints a crash left unfinished; returns them.

    Call it on the main process only, before training resumes (nothing is writing them then).
    """
    root = Path(run) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    partial = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(".tmp-step_"))
    for p in partial:
        shutil.rmtree(p)
    return partial
