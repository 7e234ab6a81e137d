"""Motion-capture files in: any supported file -> HumanML3D joints (T, 22, 3), metres, y up.

`import_motion` reads BVH (`.bvh`, `.bvh.gz`) and Acclaim (`.amc`, `.amc.gz` with its
`.asf`), places the 22 joints with a preset (`mocap.presets`), and optionally resamples.
`import_bvh` is the BVH-only form used by `ramotion import-bvh` and motion loading, and
`import_bvh_text` its form for text held in memory.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..motion.resample import resample
from .bvh import BVHMotion, bvh_source, parse_bvh, read_bvh
from .presets import JointSpec, SkeletonPreset, resolve_joint_map
from .source import SourceMotion

JointMapArg = str | os.PathLike | SkeletonPreset | dict[str, JointSpec] | None


def motion_format(path: str | os.PathLike) -> str:
    """"bvh" or "amc" from a file name (a trailing .gz is allowed); ValueError otherwise."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, kind in ((".bvh", "bvh"), (".amc", "amc")):
        if name.endswith(ext):
            return kind
    raise ValueError(f"{path}: unknown motion-capture format (expected .bvh, .bvh.gz, .amc or .amc.gz)")


def read_source(path: str | os.PathLike, *, asf: str | os.PathLike | None = None, source_fps: float | None = None) -> SourceMotion:
    """The named points of a mocap file. AMC needs its skeleton (`asf`) and frame rate
    (`source_fps`: AMC files do not store one); BVH carries both."""
    kind = motion_format(path)
    if kind == "bvh":
        return bvh_source(read_bvh(path), str(path))
    if asf is None:
        raise ValueError(f"{path}: an AMC motion needs its ASF skeleton (pass asf=... / --asf)")
    if source_fps is None:
        raise ValueError(f"{path}: AMC files store no frame rate; pass it (source_fps=... / --source-fps; HDM05 and CMU use 120)")
    from .asf_amc import load_asf_amc

    return load_asf_amc(asf, path, fps=source_fps)


def source_to_joints(
    motion: SourceMotion, joint_map: JointMapArg = None, *, scale: float | None = None, fps: float | None = None, up: str | None = None
) -> np.ndarray:
    """HumanML3D joints (T, 22, 3) float64 from a source motion, through a preset.

    scale overrides the preset's; fps resamples (None keeps the source's rate); up
    overrides the preset's up axis ("auto": detect it from the rest pose).
    """
    preset = resolve_joint_map(joint_map)
    if scale is not None:
        preset = dataclasses.replace(preset, scale=scale)  # validated as the preset's own scale
    joints = preset.place(motion, up)
    if fps is not None:
        joints = resample(joints, motion.fps, fps)
    return joints


def bvh_to_joints(
    motion: BVHMotion, joint_map: JointMapArg = None, *, scale: float | None = None, fps: float | None = None, up: str | None = None
) -> np.ndarray:
    """HumanML3D joints (T, 22, 3) float64 from a parsed BVH (see `source_to_joints`)."""
    return source_to_joints(bvh_source(motion), joint_map, scale=scale, fps=fps, up=up)


def import_motion(
    path: str | os.PathLike,
    joint_map: JointMapArg = None,
    *,
    asf: str | os.PathLike | None = None,
    source_fps: float | None = None,
    scale: float | None = None,
    fps: float | None = None,
    up: str | None = None,
) -> tuple[np.ndarray, float]:
    """Read a BVH or AMC file as HumanML3D joints: returns (joints (T, 22, 3) float64, fps).

    joint_map: a preset name (`bandai-namco`, `hdm05`, `cmu-bvh`), the path of a JSON map,
    a dict, or None for files written by `ramotion export`. up: the file's up axis (None:
    the preset's; "auto": detected from the rest pose, e.g. for Blender's Z-up exports).
    """
    return _source_motion_joints(read_source(path, asf=asf, source_fps=source_fps), str(path), joint_map, scale=scale, fps=fps, up=up)


def _source_motion_joints(
    motion: SourceMotion, name: str, joint_map: JointMapArg, *, scale: float | None, fps: float | None, up: str | None
) -> tuple[np.ndarray, float]:
    """What `import_motion` and `import_bvh_text` do once the file is read: (joints, fps)."""
    if motion.num_frames < 2:
        raise ValueError(f"{name}: a motion needs at least 2 frames, the file has {motion.num_frames}")
    joints = source_to_joints(motion, joint_map, scale=scale, fps=fps, up=up)
    return joints, float(fps if fps is not None else motion.fps)


def import_bvh(
    path: str | os.PathLike, joint_map: JointMapArg = None, *, scale: float | None = None, fps: float | None = None, up: str | None = None
) -> tuple[np.ndarray, float]:
    """Read a BVH file (`.bvh` or `.bvh.gz`) as HumanML3D joints: (joints (T, 22, 3), fps)."""
    if motion_format(path) != "bvh":
        raise ValueError(f"expected a .bvh or .bvh.gz file, got {path}")
    return import_motion(path, joint_map, scale=scale, fps=fps, up=up)


def import_bvh_text(
    text: str,
    joint_map: JointMapArg = None,
    *,
    scale: float | None = None,
    fps: float | None = None,
    up: str | None = None,
    source: str = "<bvh>",
    max_seconds: float | None = None,
) -> tuple[np.ndarray, float]:
    """`import_bvh` for a BVH file's text held in memory (e.g. an upload to `ramotion serve`):
    the same parser, limits and joint mapping; errors name `source`. max_seconds: refuse a
    motion longer than this (ValueError) before its joints are placed and resampled, which
    is what costs time and memory for a long file."""
    motion = parse_bvh(text, source)
    if max_seconds is not None and motion.num_frames / motion.fps > max_seconds:
        raise ValueError(f"{source} lasts {motion.num_frames / motion.fps:.1f} s ({motion.num_frames} frames at {motion.fps:g} fps); at most {max_seconds:g} s is read")
    return _source_motion_joints(bvh_source(motion, source), source, joint_map, scale=scale, fps=fps, up=up)
