"""Physical plausibility of a motion from joint positions alone.

Used to validate the procedural corpus (and usable on any HumanML3D-skeleton
motion): bone lengths, ground penetration, foot sliding during contact, and joint
angles against human limits.

Human limits used (degrees; generous ranges of active motion from the clinical
literature, with margin for the coarse 22-joint skeleton):

- knee flexion 0-160, and the knee never bends forwards (no hyperextension beyond 10);
- elbow flexion 0-160, never hyperextended beyond 10;
- hip: the thigh stays within 130 degrees of straight down;
- trunk (pelvis -> neck) within 100 degrees of vertical;
- neck: the neck -> head bone within 70 degrees of the chest's up direction.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import HUMANML3D

KNEE_MAX, ELBOW_MAX, HYPEREXTENSION = 160.0, 160.0, 10.0
HIP_MAX, TRUNK_MAX, NECK_MAX = 130.0, 100.0, 70.0
CONTACT_HEIGHT = 0.025  # m above the joint's lowest height in the motion
FOOT_JOINTS = (7, 10, 8, 11)


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1)).clip(1e-9)
    return np.degrees(np.arccos(cos.clip(-1, 1)))


def bone_length_error(joints: np.ndarray) -> float:
    """Largest deviation (m) of any bone's length from its length in the first frame."""
    par = HUMANML3D.parents
    lengths = np.stack([np.linalg.norm(joints[:, j] - joints[:, p], axis=-1) for j, p in enumerate(par) if p >= 0], -1)
    return float(np.abs(lengths - lengths[:1]).max())


def foot_contacts(joints: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Contact runs [start, end) per foot joint (ankles, toes): frames within 2.5 cm of the joint's lowest height."""
    runs: dict[int, list[tuple[int, int]]] = {}
    for j in FOOT_JOINTS:
        y = joints[:, j, 1]
        low = y < y.min() + CONTACT_HEIGHT
        edges = np.flatnonzero(np.diff(np.concatenate(([0], low.astype(np.int8), [0]))))
        runs[j] = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    return runs


def foot_slide(joints: np.ndarray) -> float:
    """Largest horizontal drift (m) of a foot joint within one contact, from where the contact began."""
    worst = 0.0
    for j, runs in foot_contacts(joints).items():
        for a, b in runs:
            d = np.linalg.norm(joints[a:b, j][:, [0, 2]] - joints[a, j][[0, 2]], axis=-1)
            worst = max(worst, float(d.max()))
    return worst


def penetration(joints: np.ndarray, floor: float = 0.0) -> float:
    """Deepest point (m) of any joint below the floor height."""
    return float(max(0.0, floor - joints[..., 1].min()))


def joint_angles(joints: np.ndarray) -> dict[str, np.ndarray]:
    """Angles (degrees, per frame) checked against the human limits in this module's docstring."""
    out = {}
    for name, (h, k, a) in {"knee_l": (1, 4, 7), "knee_r": (2, 5, 8)}.items():
        thigh, shin = joints[:, k] - joints[:, h], joints[:, a] - joints[:, k]
        flex = _angle(thigh, shin)
        # Sign: a knee bends backwards, i.e. the shin swings behind the thigh's forward
        # direction. The hip axis (right -> left hip) is the hinge's reference.
        axis = joints[:, 1] - joints[:, 2]
        sign = np.sign((np.cross(thigh, shin) * axis).sum(-1))
        out[name] = np.where(sign >= 0, flex, -flex)
    for name, (s, e, w) in {"elbow_l": (16, 18, 20), "elbow_r": (17, 19, 21)}.items():
        out[name] = _angle(joints[:, e] - joints[:, s], joints[:, w] - joints[:, e])
    down = np.array([0.0, -1.0, 0.0])
    up = np.array([0.0, 1.0, 0.0])
    out["hip_l"] = _angle(joints[:, 4] - joints[:, 1], down)
    out["hip_r"] = _angle(joints[:, 5] - joints[:, 2], down)
    out["trunk"] = _angle(joints[:, 12] - joints[:, 0], up)
    out["neck"] = _angle(joints[:, 15] - joints[:, 12], joints[:, 12] - joints[:, 9])
    return out


def angle_violations(joints: np.ndarray) -> dict[str, float]:
    """How far (degrees) each angle goes beyond its limit (0 when within)."""
    a = joint_angles(joints)
    v = {}
    for side in ("l", "r"):
        v[f"knee_{side}"] = max(0.0, float(a[f"knee_{side}"].max()) - KNEE_MAX, float(-a[f"knee_{side}"].min()) - HYPEREXTENSION)
        v[f"elbow_{side}"] = max(0.0, float(a[f"elbow_{side}"].max()) - ELBOW_MAX)
        v[f"hip_{side}"] = max(0.0, float(a[f"hip_{side}"].max()) - HIP_MAX)
    v["trunk"] = max(0.0, float(a["trunk"].max()) - TRUNK_MAX)
    v["neck"] = max(0.0, float(a["neck"].max()) - NECK_MAX)
    return v


def report(joints: np.ndarray) -> dict[str, float]:
    """All plausibility measures of one motion (T, 22, 3), floor at y = 0."""
    joints = np.asarray(joints, dtype=np.float64)
    return {
        "bone_length_error": bone_length_error(joints),
        "penetration": penetration(joints),
        "foot_slide": foot_slide(joints),
        "max_angle_violation": max(angle_violations(joints).values()),
    }
