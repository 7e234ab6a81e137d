"""Training the length predictor (`ramotion.model.length`) on a dataset in the HumanML3D layout.

    report = train_length_predictor("build/mocap", "runs/length")   # or: ramotion length train

Targets: every (caption, motion) pair the training loader makes (`MotionTextDataset`'s rules:
motions of min_frames <= T < 200 frames; a caption with a start/end span is its own entry over
frames int(start*fps)..int(end*fps), under the same rule), with the entry's length capped at
196 frames (the model's longest) as the target. Each caption is one example: a motion's three
captions are three examples of its length.

Inputs: the frozen text model's token states, read through the token-feature cache the RAM
training fills ($RAMOTION_CACHE/text_features), mean-pooled once per distinct caption; the
epochs then only run the small MLP. Cross-entropy over the bins, AdamW, a fixed seed: the same
data and seed give the same weights (on one thread; more threads may round differently).

Model selection on the validation split: after each epoch the validation mean absolute error
of each way of reading the distribution (mean, median, mode) is measured; the epoch and the
reading with the lowest one are kept. The test split is measured once, at the end, beside the
baselines of predicting the training lengths' mean and median for every caption.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..model.length import POINTS, LengthConfig, LengthPredictor, frames_to_bins, save_length_predictor

MAX_FRAMES = 196


@dataclass
class LengthTrainSettings:
    """What `train_length_predictor` trains (the defaults make the bundled model's)."""

    hidden: int = 128
    dropout: float = 0.1
    unit: int = 4  # frames per bin
    max_frames: int = MAX_FRAMES
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0

    def validate(self) -> LengthTrainSettings:
        """Refuse impossible values with one line naming the setting."""
        for name in ("hidden", "unit", "max_frames", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"length training: {name} must be a positive whole number, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"length training: dropout must be in [0, 1), got {self.dropout!r}")
        if not (self.lr > 0 and self.weight_decay >= 0):
            raise ValueError(f"length training: lr must be positive and weight_decay not negative, got {self.lr!r}, {self.weight_decay!r}")
        return self


def length_examples(root: str | os.PathLike, split: str, max_frames: int = MAX_FRAMES) -> tuple[list[str], np.ndarray]:
    """A split's (caption, target length) examples, by the training loader's rules -> (captions (N),
    lengths (N,) int64 in min_frames..max_frames). Raises ValueError when the split has none."""
    from ..data.dataset import MotionTextDataset

    dataset = MotionTextDataset(root, split, crop=False)
    captions: list[str] = []
    lengths: list[int] = []
    for entry in dataset.entries:
        for line in entry.captions:
            captions.append(line.caption)
            lengths.append(min(entry.length, max_frames))
    return captions, np.asarray(lengths, dtype=np.int64)


def pooled_caption_embeddings(captions: list[str], cache: Any, chunk: int = 1024, progress: bool = False) -> dict[str, Tensor]:
    """Distinct captions -> their mean-pooled token states (H,) float32, through a
    `ramotion.text.TextFeatureCache` (which encodes and stores the ones it lacks)."""
    distinct = list(dict.fromkeys(captions))
    cache.refresh()  # shards other processes wrote
    cache.add(distinct, progress=progress)
    out: dict[str, Tensor] = {}
    for s in range(0, len(distinct), chunk):
        part = distinct[s : s + chunk]
        for caption, tokens in zip(part, cache.get(part)):  # (L_i, H) each, valid tokens only
            out[caption] = tokens.float().mean(0)
    return out


def length_errors(predicted: np.ndarray | Tensor, real: np.ndarray, fps: float) -> dict[str, float]:
    """Errors of predicted lengths (N,) against real ones (N,): MAE in frames and seconds, the
    share within one second."""
    err = np.abs(np.asarray(predicted, dtype=np.float64) - np.asarray(real, dtype=np.float64))
    return {"mae_frames": float(err.mean()), "mae_seconds": float(err.mean() / fps), "within_1s": float((err <= fps).mean())}


def fit_length_predictor(
    x_train: Tensor,
    y_train: np.ndarray,
    x_val: Tensor,
    y_val: np.ndarray,
    config: LengthConfig,
    settings: LengthTrainSettings,
    log: Callable[[str], None] | None = None,
) -> tuple[LengthPredictor, dict[str, Any]]:
    """Train on embeddings x_train (N, H) with lengths y_train (N,); keep the epoch and the
    reading (mean / median / mode) with the lowest validation MAE on x_val (M, H), y_val (M,).
    Returns the predictor (its config's `point` set to that reading) and the history."""
    settings.validate()
    targets = frames_to_bins(torch.as_tensor(y_train), config.unit)  # (N,)
    y_val_t = torch.as_tensor(y_val, dtype=torch.float64)
    with torch.random.fork_rng(devices=[]):  # the seed decides the weights, dropout and order; the caller's RNG is untouched
        torch.manual_seed(settings.seed)
        model = LengthPredictor(config)
        order = torch.Generator().manual_seed(settings.seed)
        opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        history: list[dict[str, Any]] = []
        best: tuple[float, int, str, dict[str, Tensor]] | None = None
        for epoch in range(settings.epochs):
            model.train()
            perm = torch.randperm(len(targets), generator=order)
            total = 0.0
            for s in range(0, len(perm), settings.batch_size):
                idx = perm[s : s + settings.batch_size]
                loss = torch.nn.functional.cross_entropy(model(x_train[idx]), targets[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            model.eval()
            with torch.no_grad():
                logits = model(x_val)  # (M, K)
                maes = {p: float((model.frames_from_logits(logits, p).double() - y_val_t).abs().mean()) for p in POINTS}
            history.append({"epoch": epoch + 1, "loss": total / len(perm), "val_mae": maes})
            if log is not None:
                log(f"epoch {epoch + 1}/{settings.epochs}: loss {total / len(perm):.4f}, val MAE " + ", ".join(f"{p} {v:.2f}" for p, v in maes.items()))
            point = min(POINTS, key=lambda p: maes[p])
            if best is None or maes[point] < best[0] - 1e-9:
                best = (maes[point], epoch + 1, point, copy.deepcopy(model.state_dict()))
        assert best is not None
        _, epoch, point, state = best
        chosen = LengthPredictor(dataclasses.replace(config, point=point))  # (its initial weights drawn here, inside the fork)
        chosen.load_state_dict(state)
    return chosen.eval(), {"epoch": epoch, "point": point, "history": history}


def train_length_predictor(
    root: str | os.PathLike,
    out: str | os.PathLike,
    settings: LengthTrainSettings | None = None,
    *,
    text_model: str | None = None,
    text_cache: str | os.PathLike | None = None,
    device: str | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train on ROOT's train split, choose on val, measure on test (when ROOT has one), and
    write length_predictor.safetensors + length_predictor.json into `out` (a model folder or
    any folder). Returns the training report saved in the JSON."""
    from ..skeleton import skeleton_for_feature_dim
    from ..data.layout import Layout, load_npy
    from ..text import TextEncoder, TextFeatureCache
    from .text_features import default_cache_dir

    settings = (settings or LengthTrainSettings()).validate()
    root, out = Path(root), Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    layout = Layout.of(root)
    for split in ("train", "val"):
        if not layout.split(split).is_file():
            raise FileNotFoundError(f"{root} has no {split}.txt: the length predictor trains on train and is chosen on val")
    t0 = time.perf_counter()
    data = {split: length_examples(root, split, settings.max_frames) for split in ("train", "val", "test") if layout.split(split).is_file()}
    fps = float(skeleton_for_feature_dim(load_npy(layout.mean_path).shape[0]).fps)

    encoder = TextEncoder(text_model, device=device or "cpu")
    _check_model_folder(out, encoder.name, encoder.hidden_size)
    cache = TextFeatureCache(text_cache or default_cache_dir(), encoder, device="cpu")
    every = [c for captions, _ in data.values() for c in captions]
    table = pooled_caption_embeddings(every, cache, progress=progress)
    x = {split: torch.stack([table[c] for c in captions]) for split, (captions, _) in data.items()}  # (N_split, H) each
    t_embed = time.perf_counter() - t0

    config = LengthConfig(text_model=encoder.name, text_dim=encoder.hidden_size, hidden=settings.hidden, dropout=settings.dropout, unit=settings.unit, max_frames=settings.max_frames)
    t1 = time.perf_counter()
    predictor, fit = fit_length_predictor(x["train"], data["train"][1], x["val"], data["val"][1], config, settings, log)
    t_fit = time.perf_counter() - t1

    train_lengths = data["train"][1]
    report: dict[str, Any] = {
        "data": str(root),
        "fps": fps,
        "examples": {split: int(len(y)) for split, (_, y) in data.items()},
        "settings": dataclasses.asdict(settings),
        "train_mean": float(train_lengths.mean()),
        "train_median": float(np.median(train_lengths)),
        "epoch": fit["epoch"],
        "point": fit["point"],
        "val": {p: fit["history"][fit["epoch"] - 1]["val_mae"][p] for p in POINTS},
        "embed_seconds": round(t_embed, 2),
        "fit_seconds": round(t_fit, 2),
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in predictor.parameters()),
    }
    for split in ("val", "test"):
        if split in data:
            report[split + "_table"] = evaluation_table(predictor, x[split], data[split][1], report, fps)
    predictor.training_report = report
    save_length_predictor(out, predictor, report)
    return report


def evaluation_table(predictor: LengthPredictor, x: Tensor, y: np.ndarray, report: dict[str, Any], fps: float) -> dict[str, Any]:
    """The predictor's errors on embeddings x (N, H) with real lengths y (N,), beside the constant
    baselines of the training lengths' mean and median (from `report`)."""
    ours = predictor.predict_embeddings(x)
    return {
        "examples": int(len(y)),
        "predictor": length_errors(np.asarray(ours), y, fps),
        "train mean": length_errors(np.full(len(y), report["train_mean"]), y, fps),
        "train median": length_errors(np.full(len(y), report["train_median"]), y, fps),
    }


def evaluate_length_predictor(
    predictor: LengthPredictor,
    root: str | os.PathLike,
    split: str = "test",
    *,
    text_model: str | None = None,
    text_cache: str | os.PathLike | None = None,
    device: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """`evaluation_table` of a split of ROOT, the baselines from ROOT's train split."""
    from ..skeleton import skeleton_for_feature_dim
    from ..data.layout import Layout, load_npy
    from ..text import TextEncoder, TextFeatureCache
    from .text_features import default_cache_dir

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    captions, y = length_examples(root, split, predictor.config.max_frames)
    _, train_lengths = length_examples(root, "train", predictor.config.max_frames)
    encoder = TextEncoder(text_model, device=device or "cpu")
    if encoder.name != predictor.config.text_model or encoder.hidden_size != predictor.config.text_dim:
        raise ValueError(f"the length predictor reads {predictor.config.text_model} ({predictor.config.text_dim}-d); the text model given is {encoder.name} ({encoder.hidden_size}-d)")
    cache = TextFeatureCache(text_cache or default_cache_dir(), encoder, device="cpu")
    table = pooled_caption_embeddings(captions, cache, progress=progress)
    x = torch.stack([table[c] for c in captions])  # (N, H)
    fps = float(skeleton_for_feature_dim(load_npy(Layout.of(root).mean_path).shape[0]).fps)
    base = {"train_mean": float(train_lengths.mean()), "train_median": float(np.median(train_lengths))}
    return {"split": split, **base, **evaluation_table(predictor, x, y, base, fps)}


def format_length_table(table: dict[str, Any], title: str = "test split") -> str:
    """A Markdown table of `evaluation_table`'s rows (MAE in frames and seconds, share within 1 s)."""
    lines = [
        f"| {title} ({table['examples']} captions) | MAE (frames) ↓ | MAE (s) ↓ | within 1 s ↑ |",
        "|---|---|---|---|",
    ]
    for name in ("predictor", "train mean", "train median"):
        row = table[name]
        label = {"predictor": "length predictor", "train mean": "baseline: the training mean", "train median": "baseline: the training median"}[name]
        lines.append(f"| {label} | {row['mae_frames']:.1f} | {row['mae_seconds']:.2f} | {row['within_1s']:.1%} |")
    return "\n".join(lines)


def _check_model_folder(out: Path, text_model: str, text_dim: int) -> None:
    """Refuse to put a predictor into a RAM model folder whose text model is another one."""
    from ..model.checkpoint import CONFIG_NAME, read_config

    if not (out / CONFIG_NAME).is_file():
        return
    try:
        config, _ = read_config(out)
    except ValueError:
        return  # not a RAM model folder: a folder of anything else
    if config.text_model != text_model or config.text_dim != text_dim:
        raise ValueError(
            f"{out} holds a RAM model that reads {config.text_model} ({config.text_dim}-d); a length predictor there must use the same text model, "
            f"not {text_model} ({text_dim}-d): pass --text-model, or write it to another folder"
        )


def load_report(directory: str | os.PathLike) -> dict[str, Any]:
    """The training report saved in a folder's length_predictor.json (empty when it has none)."""
    from ..model.length import CONFIG_NAME

    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("training") or {})
