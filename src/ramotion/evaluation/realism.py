"""Physical-realism and style measurements on joint positions (HumanML3D: 22 joints, y up, metres).

Every function takes one motion's joints (T, 22, 3) as numpy (what `Motion.joints` or
`features_to_joints` returns) and measures one idea; `realism_report` averages them over
many motions and `ratio_table` puts generated next to real values. Pure numpy (scipy only
for `spearman`), no model needed.

Conventions and thresholds (chosen on the real mocap corpus, build/mocap, 30 walking and 10
running clips; see the notes at each function):

- Foot joints are, in the order of the feature vector's contact flags, left ankle (7), left
  toe (10), right ankle (8), right toe (11) -- `FOOT_JOINTS`.
- The *floor* of a motion is y = 0 by the representation's convention: HumanML3D puts
  every clip on the floor (the lowest joint over the clip at y = 0) before extracting
  features, and `features_to_joints` reads the root height straight from the features. A
  generated motion need not respect it, so `estimate_floor` gives the motion's own floor,
  the lowest height a foot joint reaches over the clip. Foot contacts are measured against
  the estimated floor (so that a motion floating as a whole still shows its contacts and
  skating is measured separately from floating); floating and penetration are measured
  against y = 0 (the convention) and, with `floor="estimated"`, against the motion's own.
- A foot joint is *low* when it is within `CONTACT_HEIGHT` of the floor: 2 cm for the toes
  and 11 cm for the ankles. On real walking the toe joint of a planted foot is below 1 cm
  (median speed 0.01 m/s) and the swing toe passes within 2-5 cm of the floor at 2-4 m/s,
  so the usual 5 cm toe threshold would count the swing phase as contact; the ankle of a
  flat foot sits 9-10 cm above the floor (the reference skeleton's heel), and from 11 cm
  up ankle speeds are those of a moving foot.
- A foot joint is *in contact* when it is low in two successive frames and its speed
  between them is below `CONTACT_SPEED` = 0.5 m/s (2.5 cm per frame at 20 fps). Planted
  real feet move at < 0.1 m/s; the margin absorbs the frame-to-frame jitter of generated
  motions (HumanML3D's own contact flags allow 0.89 m/s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ..skeleton import HUMANML3D
from ..motion.masks import runs

FPS = float(HUMANML3D.fps)
FOOT_JOINTS: tuple[int, int, int, int] = (*HUMANML3D.foot_left, *HUMANML3D.foot_right)  # (7, 10, 8, 11)
FOOT_NAMES = ("left_ankle", "left_foot", "right_ankle", "right_foot")
ANKLE_HEIGHT = 0.11  # m above the floor: a flat foot's ankle sits at 0.09-0.10
TOE_HEIGHT = 0.02  # m above the floor: a planted toe is below 0.01, a swinging one passes at 0.02-0.05
CONTACT_HEIGHT = np.array([ANKLE_HEIGHT, TOE_HEIGHT, ANKLE_HEIGHT, TOE_HEIGHT])  # per FOOT_JOINTS column
CONTACT_SPEED = 0.5  # m/s, 3D speed of a foot joint in contact
FLOAT_HEIGHT = 0.10  # m: the lowest foot joint above this is off the ground
MAX_JUMP_SECONDS = 0.6  # airborne phases shorter than this are jumps/running flight, not floating
DEEP_PENETRATION = 0.02  # m below the floor counted by `penetration(...).fraction`
MAX_GAP_FRAMES = 2  # contact gaps this short are closed when finding foot strikes
MIN_STANCE_FRAMES = 2  # contact runs shorter than this are not foot strikes
WRISTS = {"left": HUMANML3D.joint_names.index("left_wrist"), "right": HUMANML3D.joint_names.index("right_wrist")}
ROOT = 0

METRIC_UNITS: dict[str, str] = {
    "acceleration": "m/s²",
    "skating": "m/s",
    "contact": "fraction",
    "floating": "fraction",
    "floating_est": "fraction",
    "penetration": "m",
    "penetration_frac": "fraction",
    "speed": "m/s",
    "stride": "m",
}
METRIC_HELP: dict[str, str] = {
    "acceleration": "mean joint acceleration",
    "skating": "horizontal speed of low foot joints",
    "contact": "foot joint-frames in contact (height+speed rule)",
    "floating": "frames with all feet > 10 cm above y=0, jumps < 0.6 s excluded",
    "floating_est": "the same above the motion's own floor",
    "penetration": "mean depth of the lowest foot below y=0",
    "penetration_frac": "frames with the lowest foot < -2 cm",
    "speed": "horizontal root speed",
    "stride": "distance between successive strikes of the same foot",
}


def _check(joints: np.ndarray) -> np.ndarray:
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1] != HUMANML3D.num_joints or j.shape[2] != 3:
        raise ValueError(f"joints must have shape (frames, {HUMANML3D.num_joints}, 3), got {j.shape}")
    if j.shape[0] < 2:
        raise ValueError(f"a motion needs at least 2 frames, got {j.shape[0]}")
    return j


def _floor_value(joints: np.ndarray, floor: float | str) -> float:
    if isinstance(floor, str):
        if floor != "estimated":
            raise ValueError(f"floor must be a height in metres or 'estimated', got {floor!r}")
        return estimate_floor(joints)
    return float(floor)


# ----------------------------------------------------------------------------- smoothness


def mean_acceleration(joints: np.ndarray, fps: float = FPS) -> float:
    """Mean joint acceleration (m/s²): the norm of the second finite difference of every
    joint's position times fps², averaged over frames and joints. 0 for a body at rest or
    moving at constant velocity; jitter raises it (it grows with fps² per unit of noise)."""
    j = _check(joints)
    if len(j) < 3:
        return float("nan")
    acc = j[2:] - 2.0 * j[1:-1] + j[:-2]
    return float(np.linalg.norm(acc, axis=-1).mean() * fps**2)


# ----------------------------------------------------------------------------- feet


def estimate_floor(joints: np.ndarray) -> float:
    """The motion's own floor height: the lowest height any foot joint reaches over the clip.

    HumanML3D places each clip so that its lowest joint is at y = 0, so for real motions
    this is 0 (or just above, when a hand or the head was lowest, e.g. lying down)."""
    j = _check(joints)
    return float(j[:, FOOT_JOINTS, 1].min())


def foot_heights(joints: np.ndarray, floor: float | str = "estimated") -> np.ndarray:
    """(T, 4) heights of the foot joints (FOOT_JOINTS order) above the floor
    (a height in metres, or "estimated": `estimate_floor`)."""
    j = _check(joints)
    return j[:, FOOT_JOINTS, 1] - _floor_value(j, floor)


def low_feet(joints: np.ndarray) -> np.ndarray:
    """(T-1, 4) bool: foot joint low (within CONTACT_HEIGHT of the estimated floor) at frames
    t and t+1 -- the height-only contact rule, whatever the foot's speed."""
    h = foot_heights(joints, "estimated")
    low = h < CONTACT_HEIGHT
    return low[:-1] & low[1:]


def foot_contacts(joints: np.ndarray, fps: float = FPS, *, speed_threshold: float = CONTACT_SPEED) -> np.ndarray:
    """(T-1, 4) bool foot contacts, columns FOOT_JOINTS (left ankle, left toe, right ankle,
    right toe); row t is the step from frame t to t+1, as in the feature vector.

    A foot joint is in contact when it is low in both frames (`low_feet`: toes within 2 cm,
    ankles within 11 cm of the motion's estimated floor) AND its 3D speed between them is
    below `speed_threshold` (0.5 m/s). Height alone would call a swinging foot that grazes
    the floor a contact; speed alone (HumanML3D's rule) would call a foot held still in the
    air one. The floor is estimated per motion so that generated motions that sit a few
    centimetres above or below y = 0 still show their contacts."""
    j = _check(joints)
    speed = np.linalg.norm(np.diff(j[:, FOOT_JOINTS], axis=0), axis=-1) * fps  # (T-1, 4)
    return low_feet(j) & (speed < speed_threshold)


def foot_skating(joints: np.ndarray, fps: float = FPS) -> float:
    """Foot skating (m/s): mean horizontal speed of the foot joints over the joint-frames in
    which they are low (`low_feet`, height only: toes within 2 cm, ankles within 11 cm of the
    floor). A foot on the floor should not move, so a planted real foot scores ~0.01-0.05;
    a foot that slides while low counts in full (a speed rule would drop it from contact).
    nan when no foot joint is ever low."""
    j = _check(joints)
    low = low_feet(j)
    if not low.any():
        return float("nan")
    hspeed = np.linalg.norm(np.diff(j[:, FOOT_JOINTS][..., [0, 2]], axis=0), axis=-1) * fps  # (T-1, 4)
    return float(hspeed[low].mean())


def floating(
    joints: np.ndarray,
    fps: float = FPS,
    jump_mask: np.ndarray | None = None,
    *,
    floor: float | str = 0.0,
    threshold: float = FLOAT_HEIGHT,
    max_jump_seconds: float = MAX_JUMP_SECONDS,
) -> float:
    """Fraction of frames (of all T) in which the body floats: its lowest foot joint is more
    than `threshold` (10 cm) above the floor.

    floor: 0.0 (default, the representation's convention: y = 0), another height, or
        "estimated" (`estimate_floor`: the motion's own lowest foot height; a motion lifted
        as a whole then does not float, only one that rises above its own floor does).
    Jumps are excluded: without `jump_mask`, airborne runs (consecutive frames above the
    threshold) shorter than `max_jump_seconds` (0.6 s) are taken as jumps or running
    flight phases, which real people do; with `jump_mask` (T,) bool, exactly the frames it
    marks are excluded instead."""
    j = _check(joints)
    lowest = j[:, FOOT_JOINTS, 1].min(axis=1) - _floor_value(j, floor)
    air = lowest > threshold
    if jump_mask is not None:
        mask = np.asarray(jump_mask, dtype=bool)
        if mask.shape != air.shape:
            raise ValueError(f"jump_mask must have shape {air.shape}, got {mask.shape}")
        air &= ~mask
    else:
        min_len = max_jump_seconds * fps
        for a, b in runs(air):
            if b - a < min_len:
                air[a:b] = False
    return float(air.mean())


class Penetration(NamedTuple):
    """How far the feet go below the floor: mean depth (m) and fraction of deep frames."""

    depth: float
    fraction: float


def penetration(joints: np.ndarray, *, floor: float | str = 0.0, deep: float = DEEP_PENETRATION) -> Penetration:
    """Ground penetration of the lowest foot joint below the floor (y = 0 by default).

    depth: mean over frames of how far below the floor the lowest foot joint is (0 for
    frames above it), in metres. fraction: fraction of frames in which it is more than
    `deep` (2 cm) below, so that millimetre noise around a foot on the floor does not count."""
    j = _check(joints)
    lowest = j[:, FOOT_JOINTS, 1].min(axis=1) - _floor_value(j, floor)
    return Penetration(float(np.clip(-lowest, 0.0, None).mean()), float((lowest < -deep).mean()))


# ----------------------------------------------------------------------------- gait


def _debounce(mask: np.ndarray) -> np.ndarray:
    """Close contact gaps of <= MAX_GAP_FRAMES frames, then drop runs < MIN_STANCE_FRAMES."""
    m = np.asarray(mask, dtype=bool).copy()
    found = runs(m)
    for (_, b0), (a1, _) in zip(found[:-1], found[1:]):
        if a1 - b0 <= MAX_GAP_FRAMES:
            m[b0:a1] = True
    for a, b in runs(m):
        if b - a < MIN_STANCE_FRAMES:
            m[a:b] = False
    return m


def footprints(joints: np.ndarray, fps: float = FPS) -> list[list[np.ndarray]]:
    """Per foot (left, right), the footprints in time order: the horizontal (x, z) position
    of the foot (mean of its ankle and toe) averaged over each stance.

    A foot is in stance when its ankle or its toe is in contact (`foot_contacts`); gaps of up
    to 2 frames are closed and stances shorter than 2 frames dropped, so contact flicker
    does not make extra strikes. Each stance starts with a foot strike (contact onset)."""
    j = _check(joints)
    contacts = foot_contacts(j, fps)  # (T-1, 4)
    out = []
    for cols, (ankle, toe) in (((0, 1), (FOOT_JOINTS[0], FOOT_JOINTS[1])), ((2, 3), (FOOT_JOINTS[2], FOOT_JOINTS[3]))):
        stance = _debounce(contacts[:, cols[0]] | contacts[:, cols[1]])
        pos = 0.5 * (j[:-1, ankle] + j[:-1, toe])[:, [0, 2]]  # (T-1, 2)
        out.append([pos[a:b].mean(axis=0) for a, b in runs(stance)])
    return out


def walking_speed_and_stride(joints: np.ndarray, fps: float = FPS) -> tuple[float, float]:
    """(speed m/s, stride m) of a motion.

    speed: the root's horizontal speed averaged over the clip (path length / duration, so
    walking on a curve counts in full). stride: mean horizontal distance between successive
    footprints of the same foot (`footprints`: one per foot strike, located at the stance's
    mean foot position, which is steadier than the strike frame itself), over both feet; nan
    when no foot strikes twice."""
    j = _check(joints)
    speed = float(np.linalg.norm(np.diff(j[:, ROOT][:, [0, 2]], axis=0), axis=-1).mean() * fps)
    steps = [np.linalg.norm(b - a) for prints in footprints(j, fps) for a, b in zip(prints[:-1], prints[1:])]
    return speed, float(np.mean(steps)) if steps else float("nan")


def wave_amplitude(joints: np.ndarray, side: str = "right") -> float:
    """Vertical range (m) of the wrist on `side` ("left"/"right"): its highest minus its
    lowest height over the clip. A wave raises the hand from the hip to above the shoulder,
    so the range grows with how high and how energetically the arm is raised (about 1 m for a
    normal real right-hand wave, 2 cm for the idle left hand)."""
    j = _check(joints)
    key = {"l": "left", "r": "right"}.get(side.lower(), side.lower())
    if key not in WRISTS:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    y = j[:, WRISTS[key], 1]
    return float(y.max() - y.min())


# ----------------------------------------------------------------------------- reports


def motion_metrics(joints: np.ndarray, fps: float = FPS) -> dict[str, float]:
    """Every realism metric of one motion (keys as in METRIC_UNITS)."""
    j = _check(joints)
    pen = penetration(j)
    speed, stride = walking_speed_and_stride(j, fps)
    return {
        "acceleration": mean_acceleration(j, fps),
        "skating": foot_skating(j, fps),
        "contact": float(foot_contacts(j, fps).mean()),
        "floating": floating(j, fps),
        "floating_est": floating(j, fps, floor="estimated"),
        "penetration": pen.depth,
        "penetration_frac": pen.fraction,
        "speed": speed,
        "stride": stride,
    }


def realism_report(motions: Sequence[np.ndarray], fps: float = FPS) -> dict[str, float]:
    """Mean of each metric (`motion_metrics`) over motions, skipping motions where a metric is
    undefined (nan: no low foot for skating, no repeated strike for stride)."""
    if len(motions) == 0:
        raise ValueError("no motions to report on")
    rows = [motion_metrics(m, fps) for m in motions]
    out = {}
    for key in rows[0]:
        vals = np.array([r[key] for r in rows], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        out[key] = float(vals.mean()) if len(vals) else float("nan")
    return out


def format_number(x: float | None, digits: int = 4) -> str:
    """A measured value for a Markdown table: `digits` significant digits, "—" when missing or not finite."""
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.{digits}g}"


def ratio_table(generated: Mapping[str, float] | Mapping[str, Mapping[str, float]], real: Mapping[str, float]) -> str:
    """Markdown table of each metric: its real value, generated value and generated/real.

    generated: one report ({metric: value}: columns metric | real | generated | ratio) or
    several by name ({"OLD": report, "NEW": report}: metric | real | OLD | OLD/real | NEW |
    NEW/real). Ratios of a zero or undefined real value are shown as "—"."""
    several = bool(generated) and all(isinstance(v, Mapping) for v in generated.values())
    models: dict[str, Mapping[str, float]] = dict(generated) if several else {"generated": generated}  # type: ignore[arg-type]
    head = ["metric", "unit", "real"]
    for name in models:
        head += [name, f"{name}/real" if several else "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for key, ref in real.items():
        cells = [key, METRIC_UNITS.get(key, ""), format_number(ref)]
        for rep in models.values():
            val = rep.get(key, float("nan"))
            ratio = val / ref if (math.isfinite(ref) and ref != 0 and math.isfinite(val)) else float("nan")
            cells += [format_number(val), format_number(ratio)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation of paired values (scipy.stats.spearmanr); pairs with a nan
    are dropped; nan when fewer than 3 pairs remain or one side is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])
