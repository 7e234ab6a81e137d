"""Provenance of measured numbers: on what machine, from which exact files, and whether a saved
result still holds.

    key = fingerprint({"model": files_digest(run, MODEL_FILES), "sampler": sampler})
    value = cached_value(path, key)          # None: not saved, or saved under other settings
    if value is None:
        value = measure()
        save_cached_value(path, key, value)

Both the experiment runner (`runner.py`) and the default-model build (`default_model.py`) keep
their results this way, so that every stage is resumable and a result is reused exactly when
the settings and the files it measured are unchanged. The fingerprints are part of the saved
caches' identity: changing how one is computed makes every saved result stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..io_utils import write_text
from ..model.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from ..train.curves import read_metrics
from ..train.state import checkpoint_dirs, read_state

# The files that decide what a model generates (hashed to know whether saved results still hold).
MODEL_FILES = ("config.json", "model.safetensors", "stats.safetensors", "Mean.npy", "Std.npy")
# The evaluator's own training numbers worth recording beside results measured with it.
EVALUATOR_REPORT_KEYS = ("r_top1", "r_top3", "mm_dist", "fid_two_passes", "epochs", "train_seconds", "preset")


# ----------------------------------------------------------------------------- the machine


def hardware() -> dict[str, Any]:
    """The machine the numbers were measured on."""
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


# ----------------------------------------------------------------------------- fingerprints


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


def slug(name: str) -> str:
    """A file-name-safe form of a row's name (the file its cached values are saved in)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "row"


# ----------------------------------------------------------------------------- cached values


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


# ----------------------------------------------------------------------------- training runs and evaluators


def run_finished(run_dir: Path, steps: int) -> bool:
    """Whether a training run has a checkpoint at (or past) `steps` and its exported model."""
    found = checkpoint_dirs(run_dir)
    if not found or not (run_dir / CONFIG_NAME).is_file() or not (run_dir / WEIGHTS_NAME).is_file():
        return False
    last = int(read_state(found[-1])["step"])
    try:  # the exported model must be the last checkpoint's (a crash between the two leaves it older)
        exported = json.loads((run_dir / CONFIG_NAME).read_text(encoding="utf-8")).get("extra", {}).get("step")
    except (OSError, ValueError, AttributeError):
        return False
    return last >= steps and exported == last


def training_seconds(run_dir: Path) -> float | None:
    """Training wall time of a run, from its logged throughput (sum of steps / steps_per_s windows)."""
    rows = [r for r in read_metrics(run_dir / "metrics.jsonl") if r.get("split") == "train" and r.get("steps_per_s")]
    if not rows:
        return None
    total, last = 0.0, 0
    for r in rows:
        total += (r["step"] - last) / r["steps_per_s"]
        last = r["step"]
    return total


def evaluator_report(ev_path: Path) -> dict[str, Any] | None:
    """The evaluator's own test numbers and training length (from its train_report.json; None without one)."""
    p = ev_path / "train_report.json"
    if not p.is_file():
        return None
    report = json.loads(p.read_text(encoding="utf-8"))
    return {k: report[k] for k in EVALUATOR_REPORT_KEYS if k in report}
