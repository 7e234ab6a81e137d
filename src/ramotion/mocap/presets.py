"""Skeleton presets: how the 22 HumanML3D (SMPL) joints are placed on a source skeleton.

A reader gives the named points of a source skeleton (`SourceMotion`); a `SkeletonPreset`
says where each SMPL joint lies among them, the units, the up axis and leading frames to
drop. A joint is one source point, or a weighted blend of several (weights sum to 1) for
joints the source lacks: e.g. SMPL's three spine joints along a two-bone spine. The
result is (T, 22, 3) joints in metres with y up, ready for `joints_to_features`, which
retargets to the reference skeleton as HumanML3D does (only bone *directions* survive
retargeting, so a preset needs the right places, not the right lengths).

Built-in presets (`--joint-map NAME`): `bandai-namco`, `hdm05` (also any CMU-style ASF)
and `cmu-bvh` (the CC_Base rig of the shared CMU BVH files). A user's own preset is a JSON
file; docs/mocap.md explains how to write one:

    {"scale": 0.01, "up": "y", "skip_frames": 0,
     "joints": {"pelvis": "Hips", "spine2": {"Spine": 0.5, "Chest": 0.5}, ...}}

"up" may also be "auto" (the default): detected from the file's rest pose. The older form,
a plain object {"pelvis": "Hips", ...} (metres, up axis detected), still reads.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..skeleton import HUMANML3D
from .source import SourceMotion

JointSpec = str | Mapping[str, float]  # one source point, or {point: weight} (weights sum to 1)
UP_AXES = ("y", "z", "-y", "-z", "x", "-x")  # and "auto": detected from the rest pose


@dataclass(frozen=True)
class SkeletonPreset:
    """Where the 22 HumanML3D joints lie on a source skeleton, and how to read its units.

    joints: HumanML3D joint name -> source point name, or {source point: weight}.
    scale: multiplies source positions to give metres. up: the source's up axis ("y",
    "z", "-y", ...), turned to +y by a rotation (never a reflection, so left stays left), or
    "auto" to detect it from the file's rest pose (`detect_up_axis`).
    skip_frames: leading frames to drop (converters that prepend a T-pose). notes: how the
    joints the source lacks are placed, for the docs.
    """

    name: str
    joints: Mapping[str, JointSpec]
    scale: float = 1.0
    up: str = "auto"
    skip_frames: int = 0
    notes: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        where = f"joint map {self.name!r}"
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"{where}: 'scale' must be a positive number, got {self.scale!r}")
        if self.up not in (*UP_AXES, "auto"):
            raise ValueError(f"{where}: 'up' must be one of {', '.join(UP_AXES)} or auto, got {self.up!r}")
        if not isinstance(self.skip_frames, int) or isinstance(self.skip_frames, bool) or self.skip_frames < 0:
            raise ValueError(f"{where}: 'skip_frames' must be a non-negative integer, got {self.skip_frames!r}")
        unknown = sorted(set(self.joints) - set(HUMANML3D.joint_names))
        if unknown:
            raise ValueError(f"{where}: unknown ramotion joint names {unknown}; expected {list(HUMANML3D.joint_names)}")
        missing = [n for n in HUMANML3D.joint_names if n not in self.joints]
        if missing:
            raise ValueError(f"{where}: missing ramotion joints {missing}")
        for ours, spec in self.joints.items():
            if isinstance(spec, str):
                continue
            if not isinstance(spec, Mapping) or not spec:
                raise ValueError(f"{where}: joint {ours!r} must be a source joint name or an object {{joint: weight}}")
            weights = list(spec.values())
            if not all(isinstance(k, str) for k in spec) or not all(
                isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in weights
            ):
                raise ValueError(f"{where}: joint {ours!r}: a blend maps source joint names to finite numbers")
            if abs(sum(weights) - 1.0) > 1e-6:
                raise ValueError(f"{where}: joint {ours!r}: blend weights sum to {sum(weights):g}, not 1")
    def source_points(self) -> list[str]:
        """Every source point the preset reads."""
        out: list[str] = []
        for spec in self.joints.values():
            for name in [spec] if isinstance(spec, str) else list(spec):
                if name not in out:
                    out.append(name)
        return out

    def place(self, motion: SourceMotion, up: str | None = None) -> np.ndarray:
        """HumanML3D joints (T', 22, 3) float64, metres, y up, from a source motion.

        up: the source's up axis, overriding the preset's; "auto" detects it from the rest
        pose (`detect_up_axis`). Raises ValueError naming the file and every joint the
        preset needs that it lacks, or when the skipped frames leave fewer than 2.
        """
        missing = [n for n in self.source_points() if n not in motion.names]
        if missing:
            raise ValueError(
                f"{motion.source}: joint map {self.name!r} names joints the file lacks: {', '.join(missing)} "
                f"(the file has: {', '.join(motion.names)})"
                + (". Not a file written by ramotion? Pass a joint map (--joint-map)" if self.name == "ramotion" else "")
            )
        if motion.num_frames - self.skip_frames < 2:
            raise ValueError(
                f"{motion.source}: {motion.num_frames} frames, {self.skip_frames} skipped by joint map {self.name!r}: "
                "a motion needs at least 2"
            )
        pos = np.asarray(motion.positions, dtype=np.float64)[self.skip_frames :]  # (T, P, 3)
        if not np.isfinite(pos).all():
            raise ValueError(f"{motion.source}: the motion holds NaN or infinite positions")
        weights = self.weights(motion.names)  # (22, P)
        joints = np.einsum("jp,tpc->tjc", weights, pos) * self.scale  # (T, 22, 3)
        up = self.up if up is None else up
        if up == "auto":
            up = detect_up_axis(weights @ (motion.rest if motion.rest is not None else pos[0]), motion.source)
        elif up not in UP_AXES:
            raise ValueError(f"up axis must be one of {', '.join(UP_AXES)} or auto, got {up!r}")
        return to_y_up(joints, up)

    def weights(self, names: list[str]) -> np.ndarray:
        """(22, P) how each HumanML3D joint is made of the source's points `names`."""
        index = {n: k for k, n in enumerate(names)}
        weights = np.zeros((len(HUMANML3D.joint_names), len(names)))
        for j, ours in enumerate(HUMANML3D.joint_names):
            spec = self.joints[ours]
            for name, w in ({spec: 1.0} if isinstance(spec, str) else spec).items():
                weights[j, index[name]] += w
        return weights


def detect_up_axis(pose: np.ndarray, source: str = "<motion>") -> str:
    """The up axis ("y", "-z", ...) of a standing pose (22, 3) of placed HumanML3D joints.

    Up is the axis along which the head lies farthest from the feet; it must carry at least
    80% of that distance, or the pose (lying, or tilted) says nothing and ValueError asks for
    the axis to be given.
    """
    names = HUMANML3D.joint_names
    feet = pose[[names.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]].mean(axis=0)
    v = pose[names.index("head")] - feet
    k = int(np.argmax(np.abs(v)))
    if not np.isfinite(v).all() or abs(v[k]) < 0.8 * np.linalg.norm(v) or np.linalg.norm(v) == 0:
        raise ValueError(
            f"{source}: cannot detect the up axis from the rest pose (head - feet = {np.round(v, 3).tolist()}): "
            "pass it (--up-axis y|z|-y|-z|x|-x)"
        )
    return ("" if v[k] > 0 else "-") + "xyz"[k]


def to_y_up(points: np.ndarray, up: str) -> np.ndarray:
    """Rotate (..., 3) points so that the axis `up` becomes +y (a proper rotation)."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    turned = {
        "y": (x, y, z),
        "-y": (x, -y, -z),  # half turn about x
        "z": (x, z, -y),  # -90 degrees about x
        "-z": (x, -z, y),
        "x": (-y, x, z),  # +90 degrees about z
        "-x": (y, -x, z),
    }[up]
    return np.stack(turned, axis=-1)


# ----------------------------------------------------------------------------- built-in presets


def _side(template: Mapping[str, JointSpec], left: tuple[str, str], right: tuple[str, str]) -> dict[str, JointSpec]:
    """Expand "{S}" in a template's left_/right_ entries with the source's side markers.

    left/right: (marker in the source names, marker in ours) e.g. ("_L", "left").
    """
    out: dict[str, JointSpec] = {}
    for ours, spec in template.items():
        if "{side}" not in ours:
            out[ours] = spec
            continue
        for theirs, word in (left, right):
            key = ours.replace("{side}", word)
            out[key] = spec.replace("{S}", theirs) if isinstance(spec, str) else {k.replace("{S}", theirs): w for k, w in spec.items()}
    return out


BANDAI_NAMCO = SkeletonPreset(
    name="bandai-namco",
    scale=0.01,  # centimetres
    up="y",
    joints=_side(
        {
            # The hips hang only 2 cm below Hips on this rig (SMPL: 9 cm below the pelvis):
            # the pelvis is put 40% of the way up to Spine, so that the hip bones slope
            # down as SMPL's do (about 52 degrees; SMPL 55).
            "pelvis": {"Hips": 0.6, "Spine": 0.4},
            "spine1": "Spine",
            "spine2": {"Spine": 0.5, "Chest": 0.5},  # the rig has two spine bones for SMPL's three
            "spine3": "Chest",  # the shoulders branch here, as SMPL's collars branch at spine3
            "neck": "Neck",
            "head": "Head",
            "{side}_hip": "UpperLeg{S}",
            "{side}_knee": "LowerLeg{S}",
            "{side}_ankle": "Foot{S}",
            "{side}_foot": "Toes{S}",  # the toe base, as SMPL's foot joint
            "{side}_collar": "Shoulder{S}",  # the clavicle's root
            "{side}_shoulder": "UpperArm{S}",
            "{side}_elbow": "LowerArm{S}",
            "{side}_wrist": "Hand{S}",
        },
        ("_L", "left"),
        ("_R", "right"),
    ),
    notes="pelvis 40% up from Hips to Spine; spine2 halfway between Spine and Chest; feet at the toe base.",
)

HDM05 = SkeletonPreset(
    name="hdm05",
    scale=1.0,  # the ASF/AMC reader gives metres
    up="y",
    joints=_side(
        {
            # Acclaim points are bone ends: "lfemur" is the knee, "ltibia" the ankle.
            "pelvis": "root",
            "spine1": "lowerback",
            "spine2": "upperback",
            "spine3": "thorax",  # the clavicles start here
            "neck": "lowerneck",
            "head": "upperneck",  # the skull's base; "head" is its top
            "{side}_hip": "{S}hipjoint",
            "{side}_knee": "{S}femur",
            "{side}_ankle": "{S}tibia",
            "{side}_foot": "{S}foot",  # the toe base
            "{side}_collar": {"thorax": 0.5, "{S}clavicle": 0.5},  # halfway along the clavicle
            "{side}_shoulder": "{S}clavicle",
            "{side}_elbow": "{S}humerus",
            "{side}_wrist": "{S}radius",
        },
        ("l", "left"),
        ("r", "right"),
    ),
    notes="Acclaim bone ends; collar halfway along the clavicle; head at the skull's base (upperneck).",
)

CMU_BVH = SkeletonPreset(
    name="cmu-bvh",
    scale=0.01,  # centimetres
    up="y",
    skip_frames=1,  # the converter prepended a T-pose frame
    joints=_side(
        {
            "pelvis": "CC_Base_Waist",  # CC_Base_Hip sits level with the thighs; Waist is 8 cm up
            "spine1": "CC_Base_Spine01",
            "spine2": {"CC_Base_Spine01": 0.5, "CC_Base_Spine02": 0.5},
            "spine3": "CC_Base_Spine02",  # the clavicles branch here
            "neck": "CC_Base_NeckTwist01",
            "head": "CC_Base_Head",
            "{side}_hip": "CC_Base_{S}_Thigh",
            "{side}_knee": "CC_Base_{S}_Calf",
            "{side}_ankle": "CC_Base_{S}_Foot",
            "{side}_foot": "CC_Base_{S}_ToeBase",
            "{side}_collar": "CC_Base_{S}_Clavicle",
            "{side}_shoulder": "CC_Base_{S}_Upperarm",
            "{side}_elbow": "CC_Base_{S}_Forearm",
            "{side}_wrist": "CC_Base_{S}_Hand",
        },
        ("L", "left"),
        ("R", "right"),
    ),
    notes="pelvis at CC_Base_Waist; spine2 halfway between Spine01 and Spine02; frame 0 (a T-pose) dropped.",
)

PRESETS: dict[str, SkeletonPreset] = {p.name: p for p in (BANDAI_NAMCO, HDM05, CMU_BVH)}


def identity_preset() -> SkeletonPreset:
    """The map of files written by `ramotion export` (and Blender's re-exports of them): ramotion's
    own joint names, metres, up axis detected (ramotion writes y up, Blender z up)."""
    return SkeletonPreset(name="ramotion", joints={n: n for n in HUMANML3D.joint_names})


def load_joint_map(path: str | os.PathLike) -> SkeletonPreset:
    """Read a joint-map JSON file as a preset (see the module docstring for the format)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such joint map: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"joint map {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"joint map {p} must be a JSON object")
    settings: dict = {}
    if "joints" in data:
        extra = set(data) - {"joints", "scale", "up", "skip_frames", "name", "notes"}
        if extra:
            raise ValueError(f"joint map {p}: unknown keys {sorted(extra)} (expected joints, scale, up, skip_frames, name, notes)")
        settings = {k: data[k] for k in ("scale", "up", "skip_frames", "notes") if k in data}
        data = data["joints"]
        if not isinstance(data, dict):
            raise ValueError(f"joint map {p}: 'joints' must be an object")
    if not all(isinstance(k, str) and isinstance(v, (str, dict)) for k, v in data.items()):
        raise ValueError(f"joint map {p}: every entry must map a joint name to a source joint name or to {{joint: weight}}")
    return SkeletonPreset(name=str(p), joints=data, **settings)


def resolve_joint_map(spec: str | os.PathLike | SkeletonPreset | Mapping[str, JointSpec] | None) -> SkeletonPreset:
    """A preset from a built-in name, a JSON path, a dict of joints, or None (ramotion's own names)."""
    if spec is None:
        return identity_preset()
    if isinstance(spec, SkeletonPreset):
        return spec
    if isinstance(spec, Mapping):
        return SkeletonPreset(name="<dict>", joints=dict(spec))
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    p = Path(spec)
    if not p.exists() and p.suffix.lower() != ".json":
        raise ValueError(f"unknown joint map {str(spec)!r}: use one of {', '.join(PRESETS)} or the path of a JSON map")
    return load_joint_map(p)
