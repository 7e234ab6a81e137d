"""The RAM trainer: Hugging Face Accelerate, AdamW, optional EMA, autocast, gradient
accumulation, exact resume, TensorBoard, a tqdm bar, periodic validation and loss curves.

The same code runs on one CPU, one GPU or many (`accelerate launch ... -m ramotion train`):
each process draws its own slice of every global batch (ShardedBatchSampler), so the
effective batch is batch_size × grad_accum × processes and the data order is a pure
function of (seed, epoch), which is what makes resume exact. The in-batch negatives of L_sr
and InfoNCE span all processes' slices of each micro-step's global batch (`loss.negatives`, see losses.py).

Run folder:
  train_config.json        the resolved TrainConfig, the data root (absolute) and the
                           working directory the run was started from
  config.json, model.safetensors, stats.safetensors
                           the latest exported model (EMA weights when EMA is on) + Mean/Std
  checkpoints/step_*/      resumable states (see ramotion.train.state)
  metrics.jsonl            logged train / validation values (a line torn by a crash is
                           dropped on resume)
  loss_curves.png          the curves, refreshed at every validation
  logs/                    TensorBoard event files
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..diffusion import GaussianDiffusion
from ..io_utils import read_tagged_json, write_text
from ..model import RAM
from ..model.checkpoint import STATS_NAME, WEIGHTS_NAME, read_config, read_weights, save_model
from .config import TrainConfig
from .curves import load_metrics, plot_curves
from .losses import LossConfig, ram_loss
from .state import (
    DataPosition,
    ShardedBatchSampler,
    checkpoint_dirs,
    new_state,
    publish_checkpoint,
    read_state,
    remove_partial_checkpoints,
    rng_state,
    safe_torch_load,
    set_rng_state,
    temporary_checkpoint_dir,
)
from .text_features import CaptionFeatures, cached_caption_features

RUN_CONFIG = "train_config.json"
RUN_FORMAT = "ramotion-train-run"
METRICS = "metrics.jsonl"
CURVES = "loss_curves.png"


class TrainingDiverged(ValueError):
    """The loss or the weights became NaN or infinite; nothing non-finite was saved."""


class _Objective(nn.Module):
    """Wraps RAM so that DDP sees one forward computing the whole objective."""

    def __init__(self, model: RAM, diffusion: GaussianDiffusion, loss: LossConfig) -> None:
        super().__init__()
        self.model = model
        self.diffusion = diffusion
        self.loss = loss

    def forward(self, motion: Tensor, mask: Tensor, text: Tensor, text_mask: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        out = ram_loss(self.model, self.diffusion, motion, mask, text, text_mask, self.loss)
        return out.total, out.terms


@dataclass
class TrainResult:
    """What `train` returns: the final step, where the run is, and the last logged values."""

    step: int
    run_dir: Path
    last_train: dict[str, float] = field(default_factory=dict)
    last_val: dict[str, float] = field(default_factory=dict)


def retrieval_at_k(z_s: Tensor, z_m: Tensor, group: int = 32, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """Text->motion retrieval in groups of `group` pairs (Euclidean distance, like R-Precision):
    the share of texts whose own motion latent is among the k nearest. z_s, z_m (N, d_E)."""
    n = len(z_s) // group * group or len(z_s)
    size = min(group, n)
    hits = {k: 0 for k in ks}
    for s in range(0, n - size + 1, size):
        d = torch.cdist(z_s[s : s + size].float(), z_m[s : s + size].float())  # (g, g)
        rank = (d < d.diagonal()[:, None]).sum(1)  # motions strictly closer than the true one
        for k in ks:
            hits[k] += int((rank < k).sum())
    total = n // size * size
    out = {f"R@{k}": hits[k] / total for k in ks}
    out.update({f"chance_R@{k}": min(k, size) / size for k in ks})
    return out


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's two groups: matrices decay by `weight_decay`; biases, LayerNorms and learned
    tokens (every parameter of fewer than 2 dimensions) never decay."""
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay, "decay": True},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, "decay": False},
    ]


def regroup_optimizer_state(state: dict[str, Any], model: torch.nn.Module) -> dict[str, Any]:
    """An optimizer state saved with one parameter group (runs before `param_groups`) in the
    layout of `param_groups`: the same per-parameter moments under the new indices, so a resume
    continues exactly. A state already in that layout is returned as it is."""
    groups = state.get("param_groups", [])
    if len(groups) != 1:
        return state
    params = list(model.parameters())
    if len(groups[0]["params"]) != len(params):
        raise ValueError(f"the saved optimizer state holds {len(groups[0]['params'])} parameters, the model {len(params)}")
    old_ids = dict(zip((id(p) for p in params), groups[0]["params"]))  # parameter -> its saved index
    layout = param_groups(model, groups[0].get("weight_decay", 0.0))
    new_groups, new_state, k = [], {}, 0
    for g in layout:
        ids = []
        for p in g["params"]:
            if old_ids[id(p)] in state["state"]:
                new_state[k] = state["state"][old_ids[id(p)]]
            ids.append(k)
            k += 1
        new_groups.append({**groups[0], "params": ids, "weight_decay": g["weight_decay"], "decay": g["decay"]})
    return {"state": new_state, "param_groups": new_groups}


def _write_run_config(run: Path, cfg: TrainConfig, data_root: Path) -> None:
    """RUN/train_config.json: the config, the data root made absolute, and the working directory
    (so that a root saved relative by an older version can still be found)."""
    payload = {"format": RUN_FORMAT, "data_root": str(Path(data_root).resolve()), "working_dir": os.getcwd(), "config": cfg.to_dict()}
    write_text(run / RUN_CONFIG, json.dumps(payload, indent=2) + "\n")


def _read_run(run: str | os.PathLike) -> tuple[TrainConfig, list[Path]]:
    """The TrainConfig of a run folder and the candidate paths of its data root, best first."""
    path = Path(run) / RUN_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{Path(run)} is not a ramotion training run (no {RUN_CONFIG})")
    payload = read_tagged_json(path, RUN_FORMAT, "a ramotion training-run config")
    root = payload.get("data_root")
    if not isinstance(root, str) or not root:
        raise ValueError(f"{path}: \"data_root\" must be the dataset folder's path, got {root!r}")
    try:
        cfg = TrainConfig.from_dict(payload.get("config"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    data_root = Path(root)
    if data_root.is_absolute():
        return cfg, [data_root]
    # Runs written before data roots were stored absolute: the root is relative to the
    # directory the run was started from, when recorded; else guess here (where older
    # versions looked), then the run folder.
    if isinstance(payload.get("working_dir"), str):
        return cfg, [Path(payload["working_dir"]) / data_root]
    return cfg, list(dict.fromkeys([Path.cwd() / data_root, Path(run) / data_root]))


def read_run_config(run: str | os.PathLike) -> tuple[TrainConfig, Path]:
    """The TrainConfig and data root saved in a run folder. A relative root (older runs) is
    resolved against the directory the run was started from when recorded, else the current
    directory or the run folder, whichever exists (the first guess when none does)."""
    cfg, candidates = _read_run(run)
    return cfg, next((c for c in candidates if c.is_dir()), candidates[0])


def _refusal_for_existing(run: Path) -> str:
    """Why a fresh run may not start in the non-empty folder `run`, and what to do instead."""
    if (run / RUN_CONFIG).is_file():
        if checkpoint_dirs(run):
            return f"run folder {run} already exists and holds a training run: pass --resume {run} to continue it, or choose a new --out"
        return f"run folder {run} already exists and holds a run that stopped before its first checkpoint: pass --resume {run} to start it again from step 0 with its saved config, or choose a new --out"
    return f"run folder {run} already exists and is not empty (and is not a training run): choose a new --out, or empty the folder"


class Trainer:
    """One training run. Build it, then call `fit()`; see `train()` for the one-call form."""

    def __init__(
        self,
        config: TrainConfig,
        data_root: str | os.PathLike,
        run_dir: str | os.PathLike,
        *,
        resume: bool = False,
        text_features: CaptionFeatures | None = None,
        progress: bool = True,
        text_cache: str | os.PathLike | None = None,
    ) -> None:
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        self.cfg = config
        self.run = Path(run_dir)
        self.data_root = Path(data_root)
        self.progress = progress
        if config.mixed_precision == "fp16" and not torch.cuda.is_available():
            raise ValueError("fp16 autocast needs a GPU; on CPU use mixed_precision='bf16' or 'no'")
        if not resume and self.run.exists() and any(self.run.iterdir()):
            raise ValueError(_refusal_for_existing(self.run))
        # Several processes on a machine without a GPU (e.g. `accelerate launch --multi_gpu
        # --num_processes 2` or torchrun on CPU): Accelerate needs cpu=True to pick gloo.
        multi_process_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available() and not (hasattr(torch, "xpu") and torch.xpu.is_available())
        self.accelerator = Accelerator(cpu=multi_process_cpu, mixed_precision=config.mixed_precision, log_with="tensorboard", project_dir=str(self.run / "logs"))
        acc = self.accelerator
        self.device = acc.device
        self.is_main = acc.is_main_process
        if self.is_main:
            self.run.mkdir(parents=True, exist_ok=True)
        acc.wait_for_everyone()

        # Data.
        from ..data.dataset import MotionTextDataset

        mf = config.model.max_frames
        self.train_set = MotionTextDataset(self.data_root, "train", skeleton=config.skeleton, seed=config.seed, max_frames=mf)
        self.val_set = None
        if config.val_batches > 0 and (self.data_root / "val.txt").is_file():
            self.val_set = MotionTextDataset(self.data_root, "val", skeleton=config.skeleton, seed=config.seed, max_frames=mf, mean=self.train_set.mean, std=self.train_set.std)
        if self.train_set.skeleton.feature_dim != config.model.feature_dim:
            raise ValueError(f"the data has {self.train_set.skeleton.feature_dim}-d features, the model config expects {config.model.feature_dim} (wrong preset? use 'kit' for KIT-ML)")
        self.sampler = ShardedBatchSampler(len(self.train_set), config.batch_size, acc.num_processes, acc.process_index, config.seed)

        # Frozen-LM token features, encoded once (main process first fills the cache).
        if text_features is None:
            text_features = cached_caption_features(config.text_model, self.device, text_cache, progress=progress and self.is_main)
        self.text = text_features
        captions = [c.caption for ds in (self.train_set, self.val_set) if ds is not None for e in ds.entries for c in e.captions]
        with acc.main_process_first():
            self.text.prepare(captions)
        # The model reads this LM's token states; the caller's config is left as it was.
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, text_dim=self.text.hidden_size, text_model=self.text.name))
        self.cfg = config

        # Model, EMA, optimiser: identical initial weights on every process.
        torch.manual_seed(config.seed)
        self.model = RAM(config.model)
        self.diffusion = GaussianDiffusion(config.model.num_diffusion_steps, config.model.noise_schedule)
        self.ema = None
        if config.ema_decay is not None:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            self.ema = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=False)
            self.ema.to(self.device)
        optimizer = torch.optim.AdamW(param_groups(self.model, config.weight_decay), lr=config.lr, betas=config.betas)
        self.objective, self.optimizer = acc.prepare(_Objective(self.model, self.diffusion, config.loss), optimizer)
        self.step = 0
        self.position = DataPosition()
        self.last_checkpoint: Path | None = None
        set_seed(config.seed, device_specific=True)  # training draws: seed + process index
        if resume:
            self._load_latest()
        elif self.is_main:
            _write_run_config(self.run, config, self.data_root)
        if self.is_main:
            self._trim_metrics()
            if resume:
                for tmp in remove_partial_checkpoints(self.run):
                    print(f"removed {tmp}, a checkpoint left half-written by a crash")
                if self.last_checkpoint is not None:
                    self._refresh_export()
        acc.init_trackers("tensorboard", config=self._hparams())

    # -- bookkeeping -------------------------------------------------------------------------

    def _hparams(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for k, v in self.cfg.to_dict().items():
            if isinstance(v, dict):
                flat.update({f"{k}.{kk}": vv for kk, vv in v.items() if isinstance(vv, (int, float, str, bool))})
            elif isinstance(v, (int, float, str, bool)):
                flat[k] = v
        return flat

    def _trim_metrics(self) -> None:
        """On resume, drop metrics logged after the checkpoint (they will be logged again), and
        a last line torn by a crash mid-write (saying so); other damage raises, naming the line."""
        rows, torn = load_metrics(self.run / METRICS)
        if torn is not None:
            print(f"{self.run / METRICS}: dropped its last line, cut short by a crash while it was written: {torn[:80]!r}")
        rows = [r for r in rows if r["step"] <= self.step]
        write_text(self.run / METRICS, "".join(json.dumps(r) + "\n" for r in rows))

    def _log(self, split: str, values: dict[str, float]) -> None:
        self.accelerator.log({f"{split}/{k}": v for k, v in values.items()}, step=self.step)
        if self.is_main:
            with open(self.run / METRICS, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": self.step, "split": split, **values}) + "\n")

    # -- data --------------------------------------------------------------------------------

    def _loader(self, dataset: Any, sampler: ShardedBatchSampler) -> torch.utils.data.DataLoader:
        # A private generator keeps the DataLoader from drawing on the global RNG (exact resume).
        return torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=dataset.collate,
            num_workers=self.cfg.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(self.cfg.seed),
        )

    def _stream(self):
        """Endless (batch, position after it) across epochs, from the current position."""
        self.sampler.set_position(self.position.epoch, self.position.batch)
        while True:
            pos = self.sampler.position
            self.train_set.set_epoch(pos.epoch)
            b = pos.batch
            for batch in self._loader(self.train_set, self.sampler):
                b += 1
                yield batch, DataPosition(pos.epoch, b)
            self.sampler.set_position(pos.epoch + 1, 0)

    def _inputs(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """A loader batch -> the loss's inputs on the device: motion (B, T, D) and mask (B, T)
        cut to the longest motion of the batch (padding beyond it is masked anyway), and the
        captions' frozen-LM token states text (B, L, H) with text_mask (B, L) (from the cache)."""
        T = int(batch["length"].max())
        motion = batch["motion"][:, :T].to(self.device, non_blocking=True)
        mask = batch["mask"][:, :T].to(self.device, non_blocking=True)
        text, text_mask = self.text(list(batch["caption"]))  # looked up, not recomputed
        return motion, mask, text.to(self.device), text_mask.to(self.device)

    # -- checkpoints -------------------------------------------------------------------------

    def _diverged(self, step: int, what: str) -> TrainingDiverged:
        """The error for a run whose loss or weights stopped being finite at `step`."""
        if self.last_checkpoint is not None:
            kept = f"the last checkpoint, {self.last_checkpoint.name}, and the model exported from it are intact"
        else:
            kept = "no checkpoint was written"
        return TrainingDiverged(
            f"training diverged at step {step}: {what}; stopped without saving anything from that step on ({kept}). "
            f"Lower lr (now {self.cfg.lr:g}) or set max_grad_norm: ramotion train --resume {self.run} --set lr=..."
        )

    def _nonfinite_weights(self) -> str | None:
        """Which weights are NaN or infinite ("the EMA weights ... (first: name)"), or None."""
        modules = [("model", self.model)] + ([("EMA", self.ema.module)] if self.ema is not None else [])
        for label, module in modules:
            tensors = {k: v for k, v in module.state_dict().items() if v.is_floating_point()}
            if not bool(torch.stack([torch.isfinite(v).all() for v in tensors.values()]).all()):
                name = next(k for k, v in tensors.items() if not bool(torch.isfinite(v).all()))
                return f"the {label} weights are NaN or infinite (first: {name})"
        return None

    def _check_weights_finite(self) -> None:
        """Refuse to save non-finite weights (the raw model's and the EMA's)."""
        problem = self._nonfinite_weights()
        if problem is not None:
            raise self._diverged(self.step, problem)

    def _check_loss_finite(self, first_bad: Tensor) -> None:
        """Raise TrainingDiverged if any process saw a non-finite loss (`first_bad`: the first such
        step on this process, -1 for none). Collective: call it on every process at the same steps."""
        steps = [int(s) for s in self.accelerator.gather(first_bad.reshape(1)).tolist() if s >= 0]
        if steps:
            raise self._diverged(min(steps), "the loss is NaN or infinite")

    def _export_step(self) -> int | None:
        """The step of the model exported at the top of the run (None: missing or incomplete)."""
        try:
            _, extra = read_config(self.run)
        except (FileNotFoundError, ValueError):
            return None
        step = extra.get("step")
        whole = (self.run / WEIGHTS_NAME).is_file() and (self.run / STATS_NAME).is_file()
        return step if whole and isinstance(step, int) and not isinstance(step, bool) else None

    def _refresh_export(self) -> None:
        """On resume: when the exported model is not the latest checkpoint's (a crash between a
        checkpoint and its export), export it again from that checkpoint, and say so."""
        old = self._export_step()
        if old == self.step:
            return
        self._export()
        was = "missing" if old is None else f"from step {old}"
        print(f"{self.run / WEIGHTS_NAME} was {was}: re-exported the model from checkpoint {self.last_checkpoint.name} (step {self.step})")
        plot_curves(self.run / METRICS, self.run / CURVES, title=f"{self.run.name} ({self.cfg.preset}, {self.cfg.variant})")

    def _export(self) -> None:
        """Write the inference model (EMA weights when EMA is on) at the top of the run."""
        self._check_weights_finite()
        weights = self.ema.module.state_dict() if self.ema is not None else None
        save_model(self.run, self.model, self.train_set.mean, self.train_set.std, state_dict=weights, extra={"step": self.step, "ema": self.ema is not None})

    def save_checkpoint(self) -> Path:
        """Write an atomic resumable checkpoint and refresh the exported model (never of
        non-finite weights: TrainingDiverged instead, on every process)."""
        acc = self.accelerator
        self._check_weights_finite()  # the weights are the same on every process
        tmp = temporary_checkpoint_dir(self.run, self.step)
        if self.is_main:
            tmp.mkdir(parents=True, exist_ok=True)
        acc.wait_for_everyone()
        with open(tmp / f"rng_rank{acc.process_index}.pt", "wb") as f:
            torch.save(rng_state(), f)
        acc.wait_for_everyone()
        final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
        if self.is_main:
            save_model(tmp, self.model, extra={"step": self.step})
            if self.ema is not None:
                from safetensors.torch import save_file

                ema_state = {k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}
                save_file(ema_state, str(tmp / "ema.safetensors"), metadata={"format": "ramotion-ram"})
            torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
            state = new_state(self.step, self.position, acc.num_processes, self.cfg.to_dict())
            write_text(tmp / "trainer_state.json", json.dumps(state, indent=2) + "\n")
            final = publish_checkpoint(tmp, self.cfg.keep_checkpoints)
            self.last_checkpoint = final
            self._export()
        acc.wait_for_everyone()
        self.last_checkpoint = final
        return final

    def _load_latest(self) -> None:
        """Restore the latest complete checkpoint; a run without one (it stopped before its
        first) starts again from step 0 with its saved config, saying so."""
        found = checkpoint_dirs(self.run)
        if not found:
            if self.is_main:
                print(f"{self.run} has no complete checkpoint (it stopped before its first): starting it again from step 0 with its saved config")
            return
        ckpt = found[-1]
        state = read_state(ckpt)
        weights = read_weights(ckpt / WEIGHTS_NAME)
        self.model.load_state_dict(weights)
        if self.ema is not None:
            if not (ckpt / "ema.safetensors").is_file():
                raise FileNotFoundError(f"{ckpt} has no ema.safetensors but the config enables EMA")
            self.ema.load_state_dict(read_weights(ckpt / "ema.safetensors"))
        self.optimizer.load_state_dict(regroup_optimizer_state(safe_torch_load(ckpt / "optimizer.pt"), self.model))
        for group in self.optimizer.param_groups:  # the saved state's values; a resume's --set wins
            group["lr"], group["betas"] = self.cfg.lr, self.cfg.betas
            group["weight_decay"] = self.cfg.weight_decay if group["decay"] else 0.0
        problem = self._nonfinite_weights()
        if problem is not None:  # saved by a version that did not check
            raise ValueError(f"{ckpt} cannot be resumed: {problem}; delete that folder to resume from an earlier checkpoint, or start a new run with a lower lr")
        self.step = int(state["step"])
        self.position = DataPosition(**state["data"])
        self.last_checkpoint = ckpt
        rng_file = ckpt / f"rng_rank{self.accelerator.process_index}.pt"
        if state["world_size"] == self.accelerator.num_processes and rng_file.is_file():
            set_rng_state(safe_torch_load(rng_file))
        elif self.is_main:
            print(f"resuming with {self.accelerator.num_processes} processes from a checkpoint of {state['world_size']}: the data order is kept, random draws restart")

    # -- validation --------------------------------------------------------------------------

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss terms over the first `val_batches` validation batches (fixed items,
        fixed noise) and text->motion latent retrieval, over all processes."""
        if self.val_set is None:
            return {}
        acc = self.accelerator
        model = self.model
        was_training = model.training
        model.eval()
        sampler = ShardedBatchSampler(len(self.val_set), min(self.cfg.batch_size, len(self.val_set) // acc.num_processes), acc.num_processes, acc.process_index, self.cfg.seed)
        self.val_set.set_epoch(0)
        generator = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 7919 * (acc.process_index + 1))
        sums: dict[str, Tensor] = {}
        z_s, z_m = [], []
        count = 0
        for i, batch in enumerate(self._loader(self.val_set, sampler)):
            if i >= self.cfg.val_batches:
                break
            motion, mask, text, text_mask = self._inputs(batch)
            with acc.autocast():
                out = ram_loss(model, self.diffusion, motion, mask, text, text_mask, self.cfg.loss, generator=generator)
            terms = {"loss": out.total, **out.terms}
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v.detach().float()
            count += 1
            z_s.append(out.z_s.float())
            if out.z_m is not None:
                z_m.append(out.z_m.float())
        model.train(was_training)
        values = {k: float(acc.reduce(v / count, reduction="mean")) for k, v in sums.items()}
        if z_m:
            zs = acc.gather(torch.cat(z_s)).cpu()
            zm = acc.gather(torch.cat(z_m)).cpu()
            values.update(retrieval_at_k(zs, zm))
        return values

    # -- the loop ----------------------------------------------------------------------------

    def fit(self, stop_after: int | None = None) -> TrainResult:
        """Train to `cfg.steps` (or stop, with a checkpoint, after step `stop_after`).

        Raises TrainingDiverged (naming the step) when the loss becomes NaN or infinite, or
        the weights do before a checkpoint: a non-finite model is never saved. The loss is
        watched on the device and checked at every log, validation and checkpoint step
        (where values are read back anyway); with fp16, steps the gradient scaler skipped
        for overflowing gradients do not count.
        """
        from tqdm.auto import tqdm

        acc, cfg = self.accelerator, self.cfg
        end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
        if self.step >= end and self.is_main:
            more = " (pass --set steps=N to train it longer)" if end == cfg.steps else ""
            print(f"{self.run} is at step {self.step} and stops at step {end}: nothing to train{more}")
        stream = self._stream()
        bar = tqdm(total=cfg.steps, initial=self.step, desc="train", disable=not (self.progress and self.is_main), dynamic_ncols=True, unit="step")
        window: dict[str, Tensor] = {}
        window_steps, data_time, window_start = 0, 0.0, time.perf_counter()
        last_train: dict[str, float] = {}
        last_val: dict[str, float] = {}
        first_bad = torch.full((), -1, dtype=torch.long, device=self.device)  # first step with a non-finite loss
        step_no = torch.full((), self.step, dtype=torch.long, device=self.device)
        self.objective.train()
        try:
            while self.step < end:
                step_bad = torch.zeros((), dtype=torch.bool, device=self.device)
                for micro in range(cfg.grad_accum):
                    t0 = time.perf_counter()
                    batch, position = next(stream)
                    motion, mask, text, text_mask = self._inputs(batch)
                    data_time += time.perf_counter() - t0
                    sync = contextlib.nullcontext() if micro == cfg.grad_accum - 1 else acc.no_sync(self.objective)
                    with sync:
                        with acc.autocast():
                            total, terms = self.objective(motion, mask, text, text_mask)
                        acc.backward(total / cfg.grad_accum)
                    step_bad |= ~torch.isfinite(total.detach())
                    for k, v in {"loss": total, **terms}.items():
                        window[k] = window.get(k, 0.0) + v.detach().float() / cfg.grad_accum
                if cfg.max_grad_norm is not None:
                    acc.clip_grad_norm_(self.objective.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                step_no += 1
                if not (cfg.mixed_precision == "fp16" and self.optimizer.step_was_skipped):
                    first_bad = torch.where(step_bad & (first_bad < 0), step_no, first_bad)
                if self.ema is not None:
                    self.ema.update_parameters(self.model)
                self.step += 1
                self.position = position
                window_steps += 1
                bar.update(1)

                log_now = self.step % cfg.log_every == 0 or self.step == end
                val_now = self.step % cfg.val_every == 0 or self.step == end
                ckpt_now = self.step % cfg.ckpt_every == 0 or self.step == end
                if log_now or val_now or ckpt_now:
                    self._check_loss_finite(first_bad)
                if log_now:
                    elapsed = time.perf_counter() - window_start
                    values = {k: float(acc.reduce(v / window_steps, reduction="mean")) for k, v in window.items()}
                    values["steps_per_s"] = window_steps / max(elapsed, 1e-9)
                    values["data_share"] = data_time / max(elapsed, 1e-9)
                    values["epoch"] = self.position.epoch + self.position.batch / self.sampler.batches_per_epoch
                    self._log("train", values)
                    last_train = values
                    bar.set_postfix({k: f"{v:.3g}" for k, v in values.items() if k not in ("steps_per_s", "epoch")})
                    window, window_steps, data_time, window_start = {}, 0, 0.0, time.perf_counter()
                if val_now:
                    last_val = self.validate()
                    if last_val:
                        self._log("val", last_val)
                        if self.progress and self.is_main:
                            bar.write(f"step {self.step}: val " + " ".join(f"{k}={v:.4g}" for k, v in last_val.items() if not k.startswith("chance")))
                if ckpt_now:
                    self.save_checkpoint()
                    if self.is_main:
                        plot_curves(self.run / METRICS, self.run / CURVES, title=f"{self.run.name} ({cfg.preset}, {cfg.variant})")
        finally:
            bar.close()
            # Shut the DataLoader workers down now: a live iterator left for the garbage collector
            # would be collected in some later forked process, which cannot stop them (and says so).
            stream.close()
            acc.end_training()
            if acc.num_processes == 1:
                # Accelerate keeps one global state per process; release it so that a later run in
                # this process (a notebook, a test) may choose another mixed precision.
                from accelerate.state import AcceleratorState

                AcceleratorState._reset_state(reset_partial_state=True)
        return TrainResult(self.step, self.run, last_train, last_val)


def train(
    config: TrainConfig,
    data_root: str | os.PathLike,
    run_dir: str | os.PathLike,
    *,
    resume: bool = False,
    stop_after: int | None = None,
    text_features: CaptionFeatures | None = None,
    progress: bool = True,
    text_cache: str | os.PathLike | None = None,
) -> TrainResult:
    """Train (or resume) a run; see Trainer."""
    trainer = Trainer(config, data_root, run_dir, resume=resume, text_features=text_features, progress=progress, text_cache=text_cache)
    return trainer.fit(stop_after=stop_after)


def resume_run(run_dir: str | os.PathLike, data_root: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None, **kw: Any) -> TrainResult:
    """Continue a run from its latest checkpoint, with its saved config. `overrides` may change
    bookkeeping fields (steps, log/val/checkpoint intervals, workers) and the optimiser's
    settings (lr, betas, weight_decay, max_grad_norm: they replace the checkpoint's), never
    the model or loss.

    A run that stopped before its first checkpoint starts again from step 0; a run whose
    latest checkpoint was not exported (a crash in between) is exported again. `data_root`
    defaults to the run's saved one (see read_run_config; FileNotFoundError when missing)."""
    cfg, candidates = _read_run(run_dir)
    if data_root is None:
        found = [c for c in candidates if c.is_dir()]
        if not found:
            tried = " or ".join(str(c) for c in candidates)
            raise FileNotFoundError(f"the dataset root of run {run_dir} was not found at {tried} (from {Path(run_dir) / RUN_CONFIG}): pass --data ROOT")
        data_root = found[0]
    if overrides:
        bad = sorted(set(overrides) & {"model", "loss", "variant", "preset", "batch_size", "grad_accum", "seed", "skeleton", "text_model"})
        if bad:
            raise ValueError(f"cannot change {', '.join(bad)} when resuming (it would not be the same run)")
        cfg = TrainConfig.from_dict({**cfg.to_dict(), **overrides})
    return train(cfg, data_root, run_dir, resume=True, **kw)


def steps_per_epoch(num_items: int, batch_size: int, processes: int = 1) -> int:
    """Optimiser steps in one pass over `num_items` (drop_last), for planning runs."""
    return math.floor(num_items / (batch_size * processes))


@torch.no_grad()
def latent_retrieval(
    model: RAM,
    dataset: Any,
    text_features: CaptionFeatures,
    group: int = 32,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> dict[str, float]:
    """Held-out check of the shared latent space: encode every item of `dataset` (one caption
    each, fixed crops) with E_T and E_M and report text->motion R@1/R@5 within shuffled
    groups of `group` pairs (and the chance levels)."""
    if model.motion_encoder is None:
        raise ValueError("latent retrieval needs a model with a motion encoder")
    model.eval()
    dataset.set_epoch(0)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    z_s, z_m = [], []
    for s in range(0, len(order), group):
        batch = dataset.collate([dataset[i] for i in order[s : s + group]])
        T = int(batch["length"].max())
        motion, mask = batch["motion"][:, :T].to(device), batch["mask"][:, :T].to(device)
        text, text_mask = text_features(list(batch["caption"]))
        z_s.append(model.encode_text(text.to(device), text_mask.to(device)).float().cpu())
        z_m.append(model.encode_motion(motion, mask).float().cpu())
    return retrieval_at_k(torch.cat(z_s), torch.cat(z_m), group=group)
