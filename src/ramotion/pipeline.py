"""RAMPipeline: text in, motion out (diffusers-style from_pretrained / save_pretrained).

    pipe = RAMPipeline.from_pretrained("runs/h3d")          # a model folder or a training run
    motions = pipe(["a person waves with the left hand"], seconds=4.0, seed=0)
    motions[0].save("wave.mp4")                              # .npy / .bvh / .mp4 / .gif

A pipeline folder is what `ramotion.model.checkpoint.save_model` writes: config.json
(the RAMConfig, which names the text model it was trained with), model.safetensors
and stats.safetensors (the normalisation Mean/Std); HumanML3D-style Mean.npy/Std.npy
beside them are accepted too. A folder may also hold a length predictor
(length_predictor.safetensors + .json, `ramotion.model.length`): prompts given without a
length then get the predicted one instead of 6 s.

This module loads, saves and generates. What it returns and how that is written to files
(`Motion`, `MotionBatch`, the output-path check) is `ramotion.outputs`; the device and
compute dtype are chosen by `ramotion.runtime`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .diffusion import GaussianDiffusion
from .model.checkpoint import CONFIG_NAME, load_model, load_stats, read_config, resolve_model_dir, save_model
from .model.length import LengthPredictor, load_length_predictor, remove_length_predictor, save_length_predictor
from .model.precision import matmul_weights_in, weights_version
from .model.ram import RAM
from .motion.cleanup import CleanupConfig
from .motion.normalize import Normalizer
from .editing import EditingMixin, InpaintRequest
from .outputs import Motion, MotionBatch
from .runtime import progress_bar, resolve_device, resolve_dtype
from .sampling import PerSampleNoise, RegSteps, SamplerConfig, SamplingPlan, lengths_to_mask, sample, sample_inpaint
from .skeleton import skeleton_for_feature_dim

MAX_SEED = 2**63 - 1  # torch generators take 64-bit seeds
DEFAULT_SECONDS = 6.0  # MDM's default motion length
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "default_model"


class GenerationCancelled(RuntimeError):
    """Raised by `RAMPipeline.__call__` / `generate_features` when their `cancelled()` check says stop
    (e.g. the web server's client went away): the batch is abandoned between denoising steps."""


def default_model_dir() -> Path | None:
    """The model bundled with the package (src/ramotion/assets/default_model), or None when there is none."""
    return DEFAULT_MODEL_DIR if (DEFAULT_MODEL_DIR / CONFIG_NAME).is_file() else None


def no_default_model_message() -> str:
    """What to tell a user who asked for the default model of an installation that has none."""
    return (
        "this ramotion installation has no bundled default model: pass a model folder "
        "(written by RAMPipeline.save_pretrained or a training run of `ramotion train`), e.g. --model runs/h3d"
    )


class RAMPipeline(EditingMixin):
    """A RAM model, its normalisation stats, its text model and the sampler, ready to generate."""

    def __init__(
        self,
        model: RAM,
        normalizer: Normalizer,
        text_encoder: Any | None = None,
        *,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = "auto",
        extra: dict[str, Any] | None = None,
        length_predictor: LengthPredictor | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.normalizer = normalizer.to(self.device)
        self.config = model.config
        self.skeleton = skeleton_for_feature_dim(self.config.feature_dim)
        self.diffusion = GaussianDiffusion(self.config.num_diffusion_steps, self.config.noise_schedule)
        self.dtype = resolve_dtype(dtype, self.device, model.config.dim)
        self.extra = dict(extra or {})
        self.default_sampler()  # a bad extra.sampler fails here, at load time
        self.default_cleanup()  # ... and a bad extra.cleanup
        self._text_encoder = text_encoder
        self._text_model_override: str | None = None
        self._cast: tuple[Any, RAM] | None = None  # ((dtype, weights_version), the model with bf16/fp16 matmul weights)
        if text_encoder is not None:
            self._check_text_encoder(text_encoder)
        self.length_predictor = length_predictor  # text -> frames for prompts without a length (None: 6 s)
        if length_predictor is not None and (length_predictor.config.text_model, length_predictor.config.text_dim) != (self.config.text_model, self.config.text_dim):
            raise ValueError(f"the length predictor reads {length_predictor.config.text_model} features, this RAM model {self.config.text_model}: they must share the text model")

    # ------------------------------------------------------------------ loading / saving

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike | None = None,
        *,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = "auto",
        text_model: str | os.PathLike | None = None,
        text_encoder: Any | None = None,
    ) -> RAMPipeline:
        """Load a model folder or training run (None: the bundled default model).

        The text model is the one named in the config, loaded lazily on first use;
        `text_model` points at a local copy of it instead (e.g. DistilBERT's folder), and
        `text_encoder` passes an already-loaded `ramotion.text.TextEncoder`.
        """
        if path is None:
            path = default_model_dir()
            if path is None:
                raise FileNotFoundError(no_default_model_message())
        directory = resolve_model_dir(path)
        _, extra = read_config(directory)
        dev = resolve_device(device)
        model = load_model(directory, device=dev)
        stats = load_stats(directory)
        if stats is None:
            stats = _read_npy_stats(directory)
        normalizer = Normalizer(*stats)
        if normalizer.mean.shape[0] != model.config.feature_dim:
            raise ValueError(f"{directory}: normalisation stats have {normalizer.mean.shape[0]} dims, the model {model.config.feature_dim}")
        pipe = cls(model, normalizer, text_encoder, device=dev, dtype=dtype, extra=extra, length_predictor=load_length_predictor(directory))
        pipe._text_model_override = str(text_model) if text_model is not None else None
        return pipe

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write config.json + model.safetensors + stats.safetensors (atomically, file by file), and
        the length predictor's two files when the pipeline has one (else removes any in the folder)."""
        out = Path(directory)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"cannot save a pipeline to {out}: it is a file")
        save_model(out, self.model, self.normalizer.mean.cpu(), self.normalizer.std.cpu(), extra=self.extra)
        if self.length_predictor is not None:
            save_length_predictor(out, self.length_predictor, self.length_predictor.training_report)
        else:
            remove_length_predictor(out)
        return out

    # ------------------------------------------------------------------ sampler defaults

    def default_sampler(self) -> dict[str, Any]:
        """The sampler settings used when a call leaves them out: the paper's (20 steps, REG on
        all steps but the first with w_r = 5, w_c = 1.5; w_r = 0 without a motion encoder),
        overridden by the model folder's own choice in config.json's `extra.sampler` (the
        bundled model's were chosen on the validation split)."""
        has_encoder = self.model.motion_encoder is not None
        base: dict[str, Any] = {"steps": 20, "w_reg": 5.0 if has_encoder else 0.0, "w_cfg": 1.5, "reg_steps": "all"}
        chosen = self.extra.get("sampler") or {}
        if not isinstance(chosen, dict):
            raise ValueError(f"config.json extra.sampler must be an object, got {chosen!r}")
        unknown = sorted(set(chosen) - set(base))
        if unknown:
            raise ValueError(f"config.json extra.sampler has unknown keys {unknown}; known: {sorted(base)}")
        out = {**base, **chosen}
        if isinstance(out["reg_steps"], list):
            out["reg_steps"] = tuple(out["reg_steps"])
        return out

    def default_cleanup(self) -> CleanupConfig | None:
        """The foot cleanup motions get when a call leaves it out: the model folder's
        `extra.cleanup` (config.json; the bundled model's was chosen on the validation split),
        or none -- a model trained on HumanML3D is sampled as the paper does, uncleaned."""
        chosen = self.extra.get("cleanup")
        if chosen is None:
            return None
        if not isinstance(chosen, dict):
            raise ValueError(f"config.json extra.cleanup must be an object, got {chosen!r}")
        try:
            return CleanupConfig.from_dict(chosen)
        except (TypeError, ValueError) as err:
            raise ValueError(f"config.json extra.cleanup: {err}") from None

    def resolve_cleanup(self, cleanup: CleanupConfig | dict | bool | None) -> CleanupConfig | None:
        """A call's `cleanup` argument -> the config to apply: None takes the model's default,
        False turns it off, True the default settings, a dict or CleanupConfig its own."""
        if cleanup not in (None, False) and self.skeleton.name != "humanml3d":
            raise ValueError(f"foot cleanup needs the HumanML3D skeleton; this model's is {self.skeleton.name}")
        if cleanup is None:
            return self.default_cleanup()
        if cleanup is False:
            return None
        if cleanup is True:
            return self.default_cleanup() or CleanupConfig()
        if isinstance(cleanup, dict):
            return CleanupConfig.from_dict(cleanup)
        if isinstance(cleanup, CleanupConfig):
            return cleanup.validate()
        raise TypeError(f"cleanup must be None, a bool, a dict or a CleanupConfig, got {type(cleanup).__name__}")

    # ------------------------------------------------------------------ text

    @property
    def text_encoder(self) -> Any:
        """The frozen language model named by the config, loaded on first use."""
        if self._text_encoder is None:
            from .text.encoder import TextEncoder

            name = self._text_model_override or self.config.text_model
            self._text_encoder = TextEncoder(name, device=self.device)
            self._check_text_encoder(self._text_encoder)
        return self._text_encoder

    def _check_text_encoder(self, encoder: Any) -> None:
        if int(encoder.hidden_size) != self.config.text_dim:
            raise ValueError(
                f"text model {getattr(encoder, 'name_or_path', '?')!r} has hidden size {encoder.hidden_size}, "
                f"but this RAM model was trained on {self.config.text_model!r} features of size {self.config.text_dim}"
            )

    def check_prompts(self, prompts: Sequence[str], names: Sequence[str] | None = None) -> list[str]:
        """Refuse empty prompts and prompts longer than the text model accepts (no silent
        truncation). `names` says how the errors call each prompt (default "prompt 1", ...)."""
        label = (lambda i: names[i]) if names is not None else (lambda i: f"prompt {i + 1}")
        out = []
        for i, p in enumerate(prompts):
            if not isinstance(p, str):
                raise ValueError(f"{label(i)} must be a string, got {type(p).__name__}")
            if not p.strip():
                raise ValueError(f"{label(i)} is empty: describe the motion, e.g. 'a person walks forward'")
            out.append(p.strip())
        encoder = self.text_encoder
        tokenizer = getattr(encoder, "tokenizer", None)
        if tokenizer is not None:
            limit = min(int(getattr(encoder, "max_length", 512)), self.config.max_text_tokens)
            counts = [len(ids) for ids in tokenizer(out, truncation=False, verbose=False)["input_ids"]]
            for i, n in enumerate(counts):
                if n > limit:
                    raise ValueError(f"{label(i)} is {n} tokens long; the text model accepts at most {limit}: shorten it")
        return out

    # ------------------------------------------------------------------ generation

    def lengths_for(
        self, n: int, seconds: float | Sequence[float] | None, frames: int | Sequence[int] | None, prompts: Sequence[str] | None = None
    ) -> list[int]:
        """Frame counts per prompt from `seconds` or `frames`, validated; with neither, the length
        predictor's for `prompts` (`predict_frames`) when the model has one, else 6 s."""
        fps, max_frames = float(self.skeleton.fps), self.config.max_frames
        max_seconds = max_frames / fps
        if seconds is not None and frames is not None:
            raise ValueError("give the length as seconds or as frames, not both")
        if seconds is None and frames is None and prompts is not None and self.length_predictor is not None:
            return self.predict_frames(prompts)
        if frames is None:
            secs = _per_prompt(seconds if seconds is not None else DEFAULT_SECONDS, n, "seconds")
            out = []
            for s in secs:
                if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s) or s <= 0 or s > max_seconds + 1e-9:
                    raise ValueError(f"seconds must be in (0, {max_seconds:g}] (the model makes at most {max_frames} frames at {fps:g} fps), got {s!r}")
                count = int(round(float(s) * fps))
                if count < 1:
                    raise ValueError(f"{s:g} s is shorter than one frame at {fps:g} fps")
                out.append(count)
            return out
        counts = _per_prompt(frames, n, "frames")
        for f in counts:
            if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or not 1 <= f <= max_frames:
                raise ValueError(f"frames must be whole numbers in 1..{max_frames}, got {f!r}")
        return [int(f) for f in counts]

    def __call__(
        self,
        prompts: str | Sequence[str],
        *,
        seconds: float | Sequence[float] | None = None,
        frames: int | Sequence[int] | None = None,
        seed: int | Sequence[int] | None = None,
        steps: int | None = None,
        w_reg: float | None = None,
        w_cfg: float | None = None,
        reg_steps: RegSteps | None = None,
        reg_source: str = "guided",
        timesteps: Sequence[int] | None = None,
        dtype: str | torch.dtype | None = None,
        batch_size: int | None = None,
        progress: bool = False,
        cleanup: CleanupConfig | dict | bool | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> MotionBatch:
        """Generate one motion per prompt.

        seconds / frames: one value or one per prompt (default: the model folder's length
        predictor's estimate per prompt, `predict_frames`; 6 s without one). seed: an int gives
        prompt i the seed seed+i; a list gives each its own; None draws them from
        torch's global RNG. A motion depends only on its prompt, length and seed, not on the
        rest of the batch, in every dtype (tests/test_pipeline.py checks it on the bundled
        model: to 1e-4 m). float32 batches mix lengths, with padding masked. bfloat16/float16
        round a padded attention differently from an unpadded one, and twenty steps would turn
        that rounding into another motion, so there each batch holds one length and each prompt's
        text is encoded alone (`_batches`). steps, w_reg, w_cfg and reg_steps left as None take the
        model's defaults (`default_sampler()`: the paper's 20 / 5 / 1.5 / all unless the
        model folder names its own). dtype overrides the pipeline's ("auto", "float32", "bfloat16",
        "float16"). batch_size splits long lists into batches of similar lengths. cleanup:
        the foot cleanup of the motions' joints (`resolve_cleanup`; None: the model's default,
        False: the raw joints of the features). cancelled: checked before each batch and after each
        denoising step; when it returns True the call raises GenerationCancelled (nothing is returned).
        """
        prompt_list = self._prompt_list(prompts)
        n = len(prompt_list)
        lengths = self.lengths_for(n, seconds, frames, prompt_list)
        seeds = self._seeds(seed, n)
        plan, compute_dtype = self._run_settings(steps, w_reg, w_cfg, reg_steps, reg_source, timesteps, dtype, batch_size)
        clean = self.resolve_cleanup(cleanup)

        chunks = _batches(lengths, batch_size or n, one_length=compute_dtype != torch.float32)
        results: list[Motion | None] = [None] * n
        bar = progress_bar(len(chunks) * len(plan.timesteps), progress)
        for chunk in chunks:
            feats = self.generate_features(
                [prompt_list[i] for i in chunk], [lengths[i] for i in chunk], [seeds[i] for i in chunk], plan, compute_dtype, bar=bar, cancelled=cancelled
            )
            for j, i in enumerate(chunk):
                results[i] = Motion(prompt_list[i], feats[j], seeds[i], self.skeleton, clean)
        if bar is not None:
            bar.close()
        return MotionBatch([m for m in results if m is not None])

    def predict_frames(self, prompts: str | Sequence[str]) -> list[int]:
        """The frame count a call without seconds/frames gives each prompt: the model folder's
        length predictor's estimate from the text (clamped to 1..max_frames; each prompt encoded
        alone, so it does not depend on the others), or 6 s each for a model without one."""
        prompt_list = self._prompt_list(prompts)
        if self.length_predictor is None:
            return self.lengths_for(len(prompt_list), None, None)
        frames = self.length_predictor.predict(self.text_encoder, prompt_list)
        return [min(max(int(f), 1), self.config.max_frames) for f in frames]

    def _prompt_list(self, prompts: str | Sequence[str]) -> list[str]:
        """One prompt or a list of them, checked (`check_prompts`); ValueError for none."""
        prompt_list = [prompts] if isinstance(prompts, str) else list(prompts)
        if not prompt_list:
            raise ValueError("no prompts given")
        return self.check_prompts(prompt_list)

    def _run_settings(
        self,
        steps: int | None,
        w_reg: float | None,
        w_cfg: float | None,
        reg_steps: RegSteps | None,
        reg_source: str,
        timesteps: Sequence[int] | None,
        dtype: str | torch.dtype | None,
        batch_size: int | None,
    ) -> tuple[SamplingPlan, torch.dtype]:
        """A call's sampler options (None: the model's `default_sampler()`), dtype and batch size,
        checked before any work -> (its sampling plan, compute dtype)."""
        defaults = self.default_sampler()
        steps = defaults["steps"] if steps is None else steps
        w_reg = defaults["w_reg"] if w_reg is None else w_reg
        w_cfg = defaults["w_cfg"] if w_cfg is None else w_cfg
        reg_steps = defaults["reg_steps"] if reg_steps is None else reg_steps
        config = SamplerConfig(
            steps=steps, w_reg=w_reg, w_cfg=w_cfg, reg_steps=reg_steps, reg_source=reg_source, timesteps=tuple(timesteps) if timesteps is not None else None
        )
        plan = self.sampling_plan(config)  # fails on bad weights, steps or schedules before any work
        compute_dtype = resolve_dtype(dtype, self.device, self.config.dim) if dtype is not None else self.dtype
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        return plan, compute_dtype

    def sampling_plan(self, config: SamplerConfig) -> SamplingPlan:
        """`config` checked and resolved against this model's diffusion (and whether it has E_M)."""
        return SamplingPlan.resolve(config, self.diffusion, motion_encoder=self.model.motion_encoder is not None)

    @torch.inference_mode()
    def generate_features(
        self,
        prompts: list[str],
        lengths: list[int],
        seeds: list[int],
        plan: SamplingPlan,
        dtype: torch.dtype | None = None,
        *,
        pad_to: int | None = None,
        bar: Any = None,
        cancelled: Callable[[], bool] | None = None,
        inpaint: InpaintRequest | None = None,
    ) -> list[np.ndarray]:
        """Sample one batch (text in -> raw features (L_i, D) float32 out) with a resolved plan
        (`sampling_plan`), without input checks.

        The batch runs on its longest length; `pad_to` pads it further (only to reproduce
        MDM's fixed 196-frame padding in benchmarks). `bar` gets one update per step.
        `cancelled` is called before the text encoding and after every denoising step; when it
        returns True, GenerationCancelled is raised there, so an abandoned batch costs at most
        one more step. `inpaint` (known raw features and kept mask over the batch's frames, root
        anchors, join blending) samples with that part fixed (`sampling.sample_inpaint`; see `edit`).
        """
        if pad_to is not None and pad_to < max(lengths):
            raise ValueError(f"pad_to={pad_to} is shorter than the longest sample ({max(lengths)} frames)")
        _raise_if_cancelled(cancelled, "before the first step")
        dt = dtype or self.dtype
        mask = lengths_to_mask(lengths, max_length=pad_to, device=self.device)  # (B, T)
        noise = PerSampleNoise(seeds, lengths, self.config.feature_dim, self.device)
        if pad_to is not None:
            noise = _PaddedNoise(noise, pad_to)
        model = self._compute_model(dt)
        encode_motion = model.encode_motion if model.motion_encoder is not None else None

        def step_done(k: int, t: int, x: Tensor) -> None:
            if bar is not None:
                bar.update(1)
            _raise_if_cancelled(cancelled, f"after step {k + 1}")

        callback = step_done if bar is not None or cancelled is not None else None
        with self._autocast(dt):
            if dt == torch.float32:
                z = self.encode_text(prompts, model)  # (B, d_E), once
            else:  # each prompt alone: padded tokens would round differently (see __call__)
                z = torch.cat([self.encode_text([p], model) for p in prompts])  # (B, d_E)
            if inpaint is None:
                x = sample(model.denoise, encode_motion, plan, z, mask, noise, callback)  # (B, T, D) normalised
            else:
                known = self.normalizer.normalize(inpaint.known.to(self.device, torch.float32))  # (B, T, D) normalised
                project = self._projector(inpaint) if inpaint.anchors or inpaint.bone_lengths is not None else None
                x = sample_inpaint(
                    model.denoise, encode_motion, plan, z, mask, noise, known, inpaint.keep.to(self.device), callback, project, inpaint.blend_frames
                )  # fmt: skip
        feats = self.normalizer.denormalize(x.float()).cpu().numpy()
        out = [feats[i, :n].astype(np.float32) for i, n in enumerate(lengths)]
        bad = [prompts[i] for i, f in enumerate(out) if not np.isfinite(f).all()]
        if bad:  # never hand NaN on to a file or a viewer
            raise ValueError(
                f"sampling produced NaN or infinite values for {len(bad)} of {len(out)} prompts (first: {bad[0]!r}): "
                f"lower the guidance weights (w_r={plan.w_reg:g}, w_c={plan.w_cfg:g}) or use dtype='float32'"
            )
        return out

    def encode_text(self, prompts: list[str], model: RAM | None = None) -> Tensor:
        """Prompts -> z_s (B, d_E) float32: the frozen LM's token states through E_T (in the
        caller's autocast; `model`: the one `_compute_model` gave for it, default self.model)."""
        hidden, token_mask = self.text_encoder.encode(prompts)  # (B, L, H), (B, L)
        return (model or self.model).encode_text(hidden.to(self.device), token_mask.to(self.device)).float()

    def _compute_model(self, dtype: torch.dtype) -> RAM:
        """The model to run under `_autocast(dtype)`: itself for fp32, else a copy with its matmul
        weights cast to `dtype` once (`model.precision`; the same numbers as autocast, without
        re-casting every weight at every step), rebuilt when the weights change."""
        if dtype == torch.float32:
            return self.model
        key = (dtype, weights_version(self.model))
        if self._cast is None or self._cast[0] != key:
            self._cast = None  # free the old copy before making the new one
            self._cast = (key, matmul_weights_in(self.model, dtype))
        return self._cast[1]

    def _autocast(self, dtype: torch.dtype | None = None) -> contextlib.AbstractContextManager:
        """Mixed precision for the model's matmuls (LayerNorm/softmax stay fp32); a no-op for fp32."""
        dt = dtype or self.dtype
        if dt == torch.float32:
            return contextlib.nullcontext()
        if self.device.type == "cpu" and dt == torch.float16:
            warnings.warn("float16 on CPU is slow and imprecise; prefer bfloat16 or float32", stacklevel=3)
        return torch.autocast(device_type=self.device.type, dtype=dt)

    @staticmethod
    def _seeds(seed: int | Sequence[int] | None, n: int) -> list[int]:
        if seed is None:
            base = int(torch.randint(0, 2**31 - 1, ()).item())
            return [base + i for i in range(n)]
        whole = lambda s: isinstance(s, (int, np.integer)) and not isinstance(s, bool)  # noqa: E731
        if whole(seed):
            seeds = [int(seed) + i for i in range(n)]
        elif isinstance(seed, (list, tuple, np.ndarray)) and len(seed) == n and all(whole(s) for s in seed):
            seeds = [int(s) for s in seed]
        else:
            raise ValueError(f"seed must be a whole number or {n} of them (one per prompt), got {seed!r}")
        if not all(0 <= s <= MAX_SEED for s in seeds):
            raise ValueError(f"seeds must be in 0..{MAX_SEED} (2**63 - 1), got {seed!r}" + (f" (prompt i takes seed + i, up to {seeds[-1]})" if whole(seed) else ""))
        return seeds


def _batches(lengths: list[int], size: int, *, one_length: bool) -> list[list[int]]:
    """Prompt indices in batches of at most `size`, longest first, so that each batch's samples
    have similar lengths (less padding); with `one_length`, a batch never mixes lengths."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    if not one_length:
        return [order[i : i + size] for i in range(0, len(order), size)]
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(lengths[i], []).append(i)
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def _raise_if_cancelled(cancelled: Callable[[], bool] | None, where: str) -> None:
    """Stop a generation whose `cancelled()` check says nobody wants it any more."""
    if cancelled is not None and cancelled():
        raise GenerationCancelled(f"generation cancelled {where}")


def _per_prompt(value: Any, n: int, name: str) -> list[Any]:
    """A scalar repeated n times, or a sequence of exactly n values."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = list(value)
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} values for {n} prompts")
        return values
    return [value] * n


def _read_npy_stats(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """Mean.npy / Std.npy beside the model (HumanML3D's names), never unpickled."""
    mean_p, std_p = directory / "Mean.npy", directory / "Std.npy"
    if not (mean_p.is_file() and std_p.is_file()):
        raise FileNotFoundError(f"{directory} has no normalisation stats (stats.safetensors, or Mean.npy and Std.npy)")
    try:
        return np.load(mean_p, allow_pickle=False), np.load(std_p, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{directory}: cannot read Mean.npy/Std.npy ({exc})") from None


class _PaddedNoise:
    """Zero-pads another noise source's draws to a fixed frame count."""

    def __init__(self, inner: PerSampleNoise, frames: int) -> None:
        self.inner, self.frames = inner, frames

    def draw(self) -> Tensor:
        x = self.inner.draw()  # (B, T, D)
        return torch.nn.functional.pad(x, (0, 0, 0, self.frames - x.shape[1]))
