"""Editing what you have: in-betweening, continuation and body-part edits by inpainting.

`EditingMixin` gives `RAMPipeline` its edit methods (`edit`, `inbetween`, `continue_motion`,
`edit_body_part`); they build a kept mask over a source motion and sample with that part fixed
through the pipeline's `generate_features(..., inpaint=InpaintRequest(...))`, which runs
`sampling.sample_inpaint`. docs/editing.md says what each edit guarantees.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from .motion.cleanup import CleanupConfig
from .motion.features import joints_to_features
from .mocap.loading import motion_from_array
from .motion.parts import bone_lengths, fix_bone_lengths, frame_keep_mask, part_feature_mask
from .motion.trajectory import RootAnchor, anchor_root, root_gaps, source_anchors
from .outputs import Motion, MotionBatch
from .runtime import progress_bar
from .sampling import RegSteps, check_known_mask

DEFAULT_CONTINUE_SECONDS = 2.0  # how far `continue_motion` goes when no length is given
DEFAULT_BLEND_SECONDS = 0.5  # edits blend each join between kept and generated frames over this long


class InpaintRequest(NamedTuple):
    """What `generate_features` needs to inpaint a batch (built by `RAMPipeline._inpaint`)."""

    known: Tensor  # (B, T, D) raw features, read where `keep` is True
    keep: Tensor  # (B, T, D) bool, True = kept
    anchors: Sequence[RootAnchor]  # root anchors of generated gaps (motion.trajectory)
    blend_frames: int  # join blending length, frames (0: none)
    bone_lengths: Tensor | None  # (J,) lengths generated joints are held to (motion.parts.fix_bone_lengths), or None


class EditingMixin:
    """The edit methods of `RAMPipeline` (they use its checks, `generate_features`, skeleton,
    config and normaliser)."""

    def source_features(self, source: Motion | np.ndarray | Tensor, name: str = "the source") -> np.ndarray:
        """A motion to edit as this model's raw features (T, D) float32.

        source: a `Motion`, features (T, D) as the dataset stores them (not normalised), or joint
        positions (T, J, 3), converted by `joints_to_features` (HumanML3D's extraction: retargeted
        to the reference skeleton, on the floor at the origin, facing +z; one frame shorter).
        ValueError naming the problem: another skeleton, NaN or infinite values, fewer than 2
        frames, or more frames than the model makes (`config.max_frames`).
        """
        arr = source.features if isinstance(source, Motion) else source
        arr = arr.detach().cpu().numpy() if isinstance(arr, Tensor) else np.asarray(arr)
        loaded = motion_from_array(arr, name)  # shape, dtype, frame-count and NaN checks
        if loaded.skeleton.name != self.skeleton.name:
            raise ValueError(f"{name} is a {loaded.skeleton.name} motion; this model makes {self.skeleton.name} motions")
        if loaded.kind == "features":
            feats = arr.astype(np.float32)
        else:
            feats = joints_to_features(loaded.joints, self.skeleton, retarget_to_reference=self.skeleton.bone_lengths is not None).astype(np.float32)
        limit = self.config.max_frames
        if len(feats) > limit:
            raise ValueError(f"{name} has {len(feats)} frames; this model handles at most {limit} ({limit / self.skeleton.fps:g} s): cut it first")
        return feats

    def edit(
        self,
        prompts: str | Sequence[str],
        source: Motion | np.ndarray | Tensor,
        keep: np.ndarray | Tensor,
        *,
        keep_world: bool = True,
        blend_seconds: float = DEFAULT_BLEND_SECONDS,
        rigid_bones: bool = True,
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
        cleanup: CleanupConfig | dict | bool | None = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> MotionBatch:
        """Regenerate what `keep` does not keep of `source`, once per prompt (inpainting).

        source: a Motion, raw features (T, D) or joints (T, J, 3) (`source_features`). keep: bool,
        True = kept, over the source's frames: (T,) keeps whole frames, (T, D) single features
        (`ramotion.motion.parts` builds body-part masks). Every motion has the source's T frames
        and its features equal the source's exactly where kept. keep_world: frames whose root is
        kept after a run of generated ones stay where the source has them in the world (the run's
        root velocities are corrected at every step, `motion.trajectory`); False leaves their
        place to the generated velocities. blend_seconds: every join between kept and generated
        frames is blended over up to this long of the generated side, at every step, so that each
        feature continues the kept one's value and velocity (`sampling.inpaint.join_blender`);
        0 is MDM's plain imposition. rigid_bones: generated joints are held, at every step, at the
        source's bone lengths from their parents (`motion.parts.fix_bone_lengths`), so that a
        re-generated limb stays attached to the kept body. The other options are `__call__`'s (seed i = seed + i);
        cleanup defaults to False here, because the foot cleanup moves every frame, kept ones
        too. `inbetween`, `continue_motion` and `edit_body_part` build `keep` for the common edits.
        """
        feats = self.source_features(source)
        keep_arr = keep.detach().cpu().numpy() if isinstance(keep, Tensor) else np.asarray(keep)
        if keep_arr.dtype != np.bool_:
            raise ValueError(f"keep must be a boolean mask (True = kept), got dtype {keep_arr.dtype}")
        if keep_arr.shape not in ((len(feats),), feats.shape):
            raise ValueError(f"keep has shape {keep_arr.shape}, the source {feats.shape}: give ({len(feats)},) for whole frames or {feats.shape} for single features")
        keep_arr = np.broadcast_to(keep_arr[:, None] if keep_arr.ndim == 1 else keep_arr, feats.shape)
        gaps = root_gaps(keep_arr[:, :3].all(axis=1)) if keep_world else []
        return self._inpaint(
            prompts, feats, feats, keep_arr, source_anchors(feats, gaps, [b for _, b in gaps]), blend_seconds=blend_seconds, rigid_bones=rigid_bones, seed=seed, steps=steps, w_reg=w_reg, w_cfg=w_cfg, reg_steps=reg_steps, reg_source=reg_source,
            timesteps=timesteps, dtype=dtype, batch_size=batch_size, progress=progress, cleanup=cleanup, cancelled=cancelled,
        )  # fmt: skip

    def inbetween(
        self,
        prompts: str | Sequence[str],
        source: Motion | np.ndarray | Tensor,
        *,
        keep_first: float = 1.0,
        keep_last: float = 1.0,
        keep_frames: Sequence[tuple[int, int]] | None = None,
        seconds: float | None = None,
        keep_world: bool = True,
        **options: Any,
    ) -> MotionBatch:
        """In-betweening: keep the source's first `keep_first` and last `keep_last` seconds and
        generate the frames between them from the prompt.

        seconds: the result's length (default the source's); the kept end moves to the result's
        end. keep_frames: instead of keep_first/keep_last, half-open ranges [(start, stop), ...]
        of source frames kept in place (the result then has the source's length). keep_world
        (default): the kept end also keeps its world position and heading, which the generated
        middle's root velocities are corrected to reach; False: it keeps its pose but stands where
        the generated middle leads (docs/editing.md). options: those of `edit`.
        """
        feats = self.source_features(source)
        fps, n_src = float(self.skeleton.fps), len(feats)
        if keep_frames is not None:
            if seconds is not None:
                raise ValueError("keep_frames keeps source frames in place: the result has the source's length (leave seconds out)")
            return self.edit(prompts, feats, frame_keep_mask(n_src, keep_frames), keep_world=keep_world, **options)
        total = n_src if seconds is None else self.lengths_for(1, seconds, None)[0]
        first, last = (_seconds_to_frames(v, fps, name) for v, name in ((keep_first, "keep_first"), (keep_last, "keep_last")))
        if first + last > n_src:
            raise ValueError(f"keep_first ({first} frames) and keep_last ({last} frames) overlap: the source has {n_src} frames")
        if first + last > total:
            raise ValueError(f"the kept {first} + {last} frames do not fit in a {total}-frame result: make it longer (seconds) or keep less")
        known = np.zeros((total, feats.shape[1]), np.float32)  # (T, D): the source's start and end, placed
        keep = np.zeros(total, dtype=bool)
        known[:first], keep[:first] = feats[:first], True
        if last:
            known[total - last :], keep[total - last :] = feats[n_src - last :], True
        gaps = root_gaps(keep) if keep_world else []  # [(first, total - last)] when both ends are kept
        anchors = source_anchors(feats, gaps, [n_src - last] * len(gaps))
        return self._inpaint(prompts, feats, known, np.broadcast_to(keep[:, None], known.shape), anchors, **options)

    def continue_motion(
        self,
        prompts: str | Sequence[str],
        source: Motion | np.ndarray | Tensor,
        *,
        seconds: float | None = None,
        frames: int | None = None,
        **options: Any,
    ) -> MotionBatch:
        """Continue `source` from its last frame for `seconds` (or `frames`; default 2 s).

        Each result is the source followed by the new frames; the source's features come back
        exactly, and so do its joints (a kept prefix is recovered from its own features only).
        Source and continuation together must fit in the model's `max_frames`. options: `edit`'s.
        """
        feats = self.source_features(source)
        new = self.lengths_for(1, DEFAULT_CONTINUE_SECONDS if seconds is None and frames is None else seconds, frames)[0]
        limit, fps = self.config.max_frames, float(self.skeleton.fps)
        if len(feats) + new > limit:
            room = limit - len(feats)
            raise ValueError(
                f"the source's {len(feats)} frames and {new} new ones make {len(feats) + new}; this model makes at most {limit} ({limit / fps:g} s): "
                + (f"continue for at most {room} frames ({room / fps:g} s) or cut the source" if room > 0 else "cut the source first")
            )
        known = np.concatenate([feats, np.zeros((new, feats.shape[1]), np.float32)])  # (T + new, D)
        keep = np.arange(len(known)) < len(feats)  # (T + new,)
        return self._inpaint(prompts, feats, known, np.broadcast_to(keep[:, None], known.shape), [], **options)

    def edit_body_part(
        self,
        prompts: str | Sequence[str],
        source: Motion | np.ndarray | Tensor,
        part: str | Sequence[str] = "upper_body",
        **options: Any,
    ) -> MotionBatch:
        """Regenerate one or more body parts (`ramotion.motion.parts.BODY_PARTS`: upper_body,
        lower_body, left_arm, right_arm, left_leg, right_leg, torso, root) over the whole motion
        from the prompt, keeping every other feature. The root (trajectory, heading, pelvis
        height) is kept unless "root" is named, so the kept joints come back exactly where the
        source has them. options: `edit`'s.
        """
        feats = self.source_features(source)
        keep = ~part_feature_mask(part, self.skeleton)  # (D,)
        return self._inpaint(prompts, feats, feats, np.broadcast_to(keep[None], feats.shape), [], **options)

    def _inpaint(
        self,
        prompts: str | Sequence[str],
        source: np.ndarray,
        known: np.ndarray,
        keep: np.ndarray,
        anchors: Sequence[RootAnchor],
        *,
        blend_seconds: float = DEFAULT_BLEND_SECONDS,
        rigid_bones: bool = True,
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
        cleanup: CleanupConfig | dict | bool | None = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> MotionBatch:
        """The edits' common path: the source's raw features (T_src, D), known raw features (T, D)
        and keep (T, D) bool over the result's frames, and the root anchors of its gaps -> one
        inpainted Motion per prompt, its kept features copied from `known` exactly. rigid_bones:
        generated joints keep the source's bone lengths (its medians; `motion.parts.fix_bone_lengths`)."""
        prompt_list = self._prompt_list(prompts)
        n, frames = len(prompt_list), len(known)
        if frames > self.config.max_frames:
            raise ValueError(f"the result would have {frames} frames; this model makes at most {self.config.max_frames}")
        seeds = self._seeds(seed, n)
        plan, compute_dtype = self._run_settings(steps, w_reg, w_cfg, reg_steps, reg_source, timesteps, dtype, batch_size)
        clean = self.resolve_cleanup(cleanup)
        blend = _seconds_to_frames(blend_seconds, float(self.skeleton.fps), "blend_seconds")
        lengths = torch.as_tensor(bone_lengths(source, self.skeleton), dtype=torch.float32) if rigid_bones else None  # (J,)
        known_t, keep_t = torch.tensor(known)[None], torch.tensor(keep)[None]  # (1, T, D), copies
        check_known_mask(known_t, keep_t, torch.ones(1, frames, dtype=torch.bool))  # keeps nothing / everything: before any work
        size = batch_size or n
        chunks = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
        bar = progress_bar(len(chunks) * len(plan.timesteps), progress)
        results: list[Motion] = []
        for chunk in chunks:
            b = len(chunk)
            feats = self.generate_features(
                [prompt_list[i] for i in chunk], [frames] * b, [seeds[i] for i in chunk], plan, compute_dtype,
                bar=bar, cancelled=cancelled, inpaint=InpaintRequest(known_t.expand(b, -1, -1), keep_t.expand(b, -1, -1), anchors, blend, lengths),
            )  # fmt: skip
            # The sampler returns the normalised known values; copy the raw ones so that kept features are bit-exact.
            results += [Motion(prompt_list[i], np.where(keep, known, f).astype(np.float32), seeds[i], self.skeleton, clean) for i, f in zip(chunk, feats)]
        if bar is not None:
            bar.close()
        return MotionBatch(results)

    def _projector(self, request: InpaintRequest) -> Callable[[Tensor], Tensor]:
        """Normalised x̃ (B, T, D) -> x̃ with, on generated entries only, the generated joints held
        at the source's bone lengths (`motion.parts.fix_bone_lengths`) and the gaps' root
        velocities corrected to reach their anchors (`motion.trajectory.anchor_root`)."""
        keep = request.keep.to(self.device)  # (B, T, D)
        ric = self.skeleton.feature_slices()["ric"]
        free = ~keep[..., ric].reshape(*keep.shape[:2], -1, 3).all(dim=-1)  # (B, T, J-1): ric generated
        free = torch.cat((torch.zeros_like(free[..., :1]), free), dim=-1)  # (B, T, J): the root has no ric
        lengths = None if request.bone_lengths is None else request.bone_lengths.to(self.device, torch.float32)

        def project(x: Tensor) -> Tensor:
            raw = self.normalizer.denormalize(x.float())  # (B, T, D)
            if lengths is not None:
                raw = fix_bone_lengths(raw, free, lengths, self.skeleton)
            if request.anchors:
                raw = anchor_root(raw, request.anchors)
            return torch.where(keep, x, self.normalizer.normalize(raw).to(x.dtype))

        return project


def _seconds_to_frames(value: Any, fps: float, name: str) -> int:
    """A non-negative duration in seconds -> whole frames at `fps`, or a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return int(round(float(value) * fps))
