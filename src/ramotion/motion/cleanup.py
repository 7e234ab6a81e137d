"""Foot-contact cleanup of generated joint positions: jitter filter, floor, planted feet.

A diffusion model's joints are not physically consistent: feet jitter from frame to frame
and glide while they should be planted. Animators fix this after the fact ("foot locking");
this module is that step, for motions in the HumanML3D convention (y up, metres, 22 joints).
It works on positions because the representation is positions; every bone keeps its length.

Steps (`clean_motion`), each owned by one function:

1. `smooth` -- a Gaussian low-pass over time (scipy), sigma below one frame: it removes the
   frame-to-frame jitter and leaves the motion's own dynamics (real mocap loses a few percent
   of its acceleration under it, generated motion about two thirds); then `rigid.make_rigid`
   gives each bone one length and the pelvis and chest one shape, as a body (and an animation
   file: the BVH of a cleaned motion is exact) has.
2. `put_on_floor` -- shift the motion vertically so that its lowest joint is at y = 0, the
   representation's own convention for every real clip; `settle` lowers a body that hangs in
   the air for longer than a jump back onto the floor.
3. `stances` then `lock_feet` -- find the frames in which each foot is planted (low and slow),
   hold the foot's horizontal position still over each stance (eased in and out over a few
   frames), and bend the leg to reach it by two-bone inverse kinematics.

Hand-written: no maintained library does position-space foot locking for a skeleton given as
joint positions (the animation packages work on rigs in their own applications).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..skeleton import HUMANML3D, Skeleton
from .masks import runs
from .rigid import make_rigid


@dataclass(frozen=True)
class CleanupConfig:
    """How `clean_motion` cleans; stored in a model folder's config (`extra.cleanup`).

    The defaults are the bundled model's, chosen on the mocap validation split by
    `benchmarks/cleanup.py`: the filter whose joint acceleration is closest to real motion's,
    and the contact speed that leaves the least foot skating without lifting feet off the floor.

    smooth_sigma: Gaussian sigma in frames (0 turns the filter off).
    floor: put the lowest joint on y = 0, and lower the body back onto the floor wherever it
        hangs in the air for longer than `max_airborne_seconds` (a jump or a running stride is
        shorter; `evaluation.realism.floating` draws the same line).
    lock_feet: hold planted feet still (inverse kinematics on the legs).
    contact_height: a foot is low when its toe is within this of the floor (m); its ankle gets
        this plus the skeleton's ankle height above the toe.
    contact_speed: ... and slow when its toe and ankle move horizontally below this (m/s).
    min_stance_frames: shorter stances are left alone.
    blend_frames: frames over which a stance's lock is eased in and out.
    """

    smooth_sigma: float = 0.65
    floor: bool = True
    max_airborne_seconds: float = 0.6
    lock_feet: bool = True
    contact_height: float = 0.05
    contact_speed: float = 2.0
    min_stance_frames: int = 2
    blend_frames: int = 3

    def validate(self) -> CleanupConfig:
        for name in ("smooth_sigma", "max_airborne_seconds", "contact_height", "contact_speed"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ValueError(f"cleanup {name} must be a number >= 0, got {value!r}")
        for name in ("min_stance_frames", "blend_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"cleanup {name} must be a whole number >= 0, got {value!r}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CleanupConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown cleanup settings: {', '.join(sorted(unknown))}")
        return cls(**data).validate()


def _check(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    if skeleton.name != HUMANML3D.name:
        raise ValueError(f"foot cleanup needs the HumanML3D skeleton (y up, metres); got {skeleton.name}")
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(f"joints must have shape (frames, {skeleton.num_joints}, 3), got {j.shape}")
    if not np.isfinite(j).all():
        raise ValueError("joints contain NaN or infinite values")
    return j


def smooth(joints: np.ndarray, sigma: float) -> np.ndarray:
    """(T, J, 3) -> (T, J, 3): Gaussian low-pass over time, edges held (scipy.ndimage)."""
    if sigma <= 0 or len(joints) < 3:
        return np.array(joints, dtype=np.float64)
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.asarray(joints, dtype=np.float64), sigma, axis=0, mode="nearest")


def put_on_floor(joints: np.ndarray) -> np.ndarray:
    """(T, J, 3): the motion shifted vertically so that its lowest joint over the clip is at y = 0."""
    j = np.array(joints, dtype=np.float64)
    j[..., 1] -= j[..., 1].min()
    return j


def settle(joints: np.ndarray, fps: float, max_airborne_seconds: float, height: float = 0.10, ease_frames: int = 3) -> np.ndarray:
    """(T, J, 3) with the body lowered onto the floor (y = 0) over every run of frames longer
    than `max_airborne_seconds` in which no joint is within `height` of it: a person only
    leaves the ground for a jump. Lowered by the gap to the floor, eased in and out over
    `ease_frames`, never below the floor."""
    from scipy.ndimage import gaussian_filter1d

    j = np.array(joints, dtype=np.float64)
    lowest = j[..., 1].min(axis=1)  # (T,)
    drop = np.zeros(len(j))
    for a, b in runs(lowest > height):
        if (b - a) / fps > max_airborne_seconds:
            drop[a:b] = lowest[a:b]
    if drop.any():
        if ease_frames > 0:
            drop = gaussian_filter1d(drop, ease_frames / 2, mode="nearest")
        j[..., 1] -= np.clip(drop, 0.0, lowest)[:, None]
    return j


def stances(joints: np.ndarray, skeleton: Skeleton, fps: float, config: CleanupConfig) -> np.ndarray:
    """(T, 2) bool, columns (left foot, right foot): the foot is planted in that frame.

    Planted: its toe is within `contact_height` of the motion's floor (the lowest toe height
    over the clip) or its ankle within that plus the ankle's height over a planted toe, and
    both move horizontally slower than `contact_speed`. Gaps of one frame are closed, and runs
    shorter than `min_stance_frames` dropped, so that flicker does not lock and unlock a foot."""
    out = np.zeros((len(joints), 2), dtype=bool)
    toes = [skeleton.foot_left[1], skeleton.foot_right[1]]
    floor = joints[:, toes, 1].min()
    for col, (ankle, toe) in enumerate((skeleton.foot_left, skeleton.foot_right)):
        lift = np.median(joints[:, ankle, 1] - joints[:, toe, 1])  # ankle over toe on a flat foot
        low = (joints[:, toe, 1] - floor < config.contact_height) | (joints[:, ankle, 1] - floor < config.contact_height + max(lift, 0.0))
        v = np.linalg.norm(np.diff(joints[:, [ankle, toe]][..., [0, 2]], axis=0), axis=-1).max(axis=1) * fps  # (T-1,)
        slow = np.concatenate([v[:1], np.maximum(v[:-1], v[1:]) if len(v) > 1 else v[:0], v[-1:]]) < config.contact_speed
        planted = low & slow
        for a, b in zip(runs(planted)[:-1], runs(planted)[1:]):
            if b[0] - a[1] <= 1:
                planted[a[1] : b[0]] = True
        for a, b in runs(planted):
            if b - a < config.min_stance_frames:
                planted[a:b] = False
        out[:, col] = planted
    return out


def _two_bone_ik(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Place the knee and ankle (T, 3) so that the ankle reaches `target` with both bone lengths
    kept and the knee bending in the plane it bent in. Where the target is out of reach, the
    ankle goes as far towards it from `start` (default: its own position; it must be within
    reach) as the straightened leg allows (the foot slides rather than lifting off the floor)."""
    l1 = np.linalg.norm(knee - hip, axis=-1)  # (T,)
    l2 = np.linalg.norm(ankle - knee, axis=-1)
    reach = l1 + l2
    # Out of reach: the point start + t (target - start) at distance `reach` from the hip (the
    # larger root of |o + t e|^2 = reach^2 with o = start - hip; `start` is within reach).
    start = ankle if start is None else start
    e, o = target - start, start - hip
    qa = np.maximum(np.sum(e * e, axis=-1), 1e-12)
    qb = 2 * np.sum(e * o, axis=-1)
    qc = np.minimum(np.sum(o * o, axis=-1) - reach**2, 0.0)
    t = np.clip((-qb + np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0.0))) / (2 * qa), 0.0, 1.0)
    far = np.linalg.norm(target - hip, axis=-1) > reach
    target = np.where(far[:, None], start + t[:, None] * e, target)
    to = target - hip
    d = np.linalg.norm(to, axis=-1)
    u = to / np.maximum(d, 1e-9)[:, None]
    d = np.clip(d, np.abs(l1 - l2) + 1e-9, l1 + l2)
    pole = (knee - hip) - np.sum((knee - hip) * u, axis=-1, keepdims=True) * u  # knee's bend direction
    norm = np.linalg.norm(pole, axis=-1, keepdims=True)
    forward = np.cross(u, np.array([0.0, 1.0, 0.0]))  # fallback for a straight leg
    pole = np.where(norm > 1e-6, pole / np.maximum(norm, 1e-9), forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9))
    a = (l1**2 - l2**2 + d**2) / (2 * d)
    h = np.sqrt(np.clip(l1**2 - a**2, 0.0, None))
    new_knee = hip + a[:, None] * u + h[:, None] * pole
    new_ankle = hip + d[:, None] * u
    return new_knee, new_ankle


def _lock_weights(planted: np.ndarray, blend: int) -> list[tuple[int, int, np.ndarray]]:
    """For each stance [a, b): the frames it influences and a weight per frame (1 inside the
    stance, easing to 0 over `blend` frames on each side)."""
    out = []
    n = len(planted)
    for a, b in runs(planted):
        lo, hi = max(0, a - blend), min(n, b + blend)
        w = np.ones(hi - lo)
        for k in range(lo, hi):
            if k < a:
                w[k - lo] = (k - a + blend + 1) / (blend + 1)
            elif k >= b:
                w[k - lo] = (b + blend - k) / (blend + 1)
        out.append((lo, hi, 0.5 - 0.5 * np.cos(np.pi * w)))  # smoothstep-like ease
    return out


def _hip_drop(hips: np.ndarray, targets: np.ndarray, ankles: np.ndarray, reach: np.ndarray, blend: int, max_drop: float) -> np.ndarray:
    """(T,) how far to lower the body so that each hip (T, 2, 3) reaches its ankle target
    (T, 2, 3), where that moved from the ankle (T, 2, 3), with a leg of length `reach` (T, 2):
    the most either leg needs, at most `max_drop`, held over `blend` frames on each side and
    eased, so the body sinks smoothly."""
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    horizontal = np.linalg.norm((targets - hips)[..., [0, 2]], axis=-1)  # (T, 2)
    height = np.sqrt(np.clip(reach**2 - horizontal**2, 0.0, None))  # the hip's highest reaching height
    moved = np.linalg.norm(targets - ankles, axis=-1) > 1e-9
    need = np.where(moved, np.clip((hips[..., 1] - targets[..., 1]) - height, 0.0, max_drop), 0.0).max(axis=1)  # (T,)
    if blend > 0 and len(need) > 1:
        need = gaussian_filter1d(maximum_filter1d(need, 2 * blend + 1, mode="nearest"), blend / 2, mode="nearest")
    return need


def lock_feet(joints: np.ndarray, planted: np.ndarray, skeleton: Skeleton, blend_frames: int = 3, max_drop: float = 0.15) -> np.ndarray:
    """(T, J, 3) with each planted foot held still: over every stance the ankle and toe keep
    their mean horizontal position (their heights are the motion's own), eased in and out over
    `blend_frames`. Where a leg cannot reach its planted foot, the body is lowered (up to
    `max_drop`, the knees bend more); then the knee and ankle are placed by two-bone IK (every
    foot reaches where it was or where it is held), and the toe points where the held foot
    points, at its own distance from the ankle. Bone lengths are kept."""
    j = np.array(joints, dtype=np.float64)
    parents = skeleton.parents
    legs = []
    for col, (ankle, toe) in enumerate((skeleton.foot_left, skeleton.foot_right)):
        knee = parents[ankle]
        hip = parents[knee]
        target_ankle = j[:, ankle].copy()
        target_toe = j[:, toe].copy()
        for lo, hi, w in _lock_weights(planted[:, col], blend_frames):
            inside = planted[lo:hi, col]
            for joint, target in ((ankle, target_ankle), (toe, target_toe)):
                anchor = j[lo:hi][inside, joint][:, [0, 2]].mean(axis=0)
                target[lo:hi, [0, 2]] += w[:, None] * (anchor - target[lo:hi, [0, 2]])
        reach = (np.linalg.norm(j[:, knee] - j[:, hip], axis=-1) + np.linalg.norm(j[:, ankle] - j[:, knee], axis=-1)) * 0.999
        legs.append((hip, knee, ankle, toe, target_ankle, target_toe, reach))
    hips = np.stack([j[:, leg[0]] for leg in legs], axis=1)  # (T, 2, 3)
    ankles = np.stack([j[:, leg[2]] for leg in legs], axis=1)
    drop = _hip_drop(hips, np.stack([leg[4] for leg in legs], axis=1), ankles, np.stack([leg[6] for leg in legs], axis=1), blend_frames, max_drop)
    before = j.copy()
    j[..., 1] -= drop[:, None]  # the whole body sinks; the feet's targets stay where they were
    for hip, knee, ankle, toe, target_ankle, target_toe, _ in legs:
        foot = np.linalg.norm(j[:, toe] - j[:, ankle], axis=-1)  # (T,) foot length per frame
        # the ankle before sinking: out of reach, the foot stops short of its target from there
        new_knee, new_ankle = _two_bone_ik(j[:, hip], j[:, knee], j[:, ankle], target_ankle, start=before[:, ankle])
        direction = target_toe - target_ankle  # the foot's held direction, wherever the ankle got to
        direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-9)
        new_toe = new_ankle + foot[:, None] * direction
        # Where the ankle reached its target, the toe takes its own target's horizontal place
        # exactly, its height set by the foot's length (above or below the ankle as it was).
        flat = np.linalg.norm((target_toe - new_ankle)[:, [0, 2]], axis=-1)
        exact = (np.linalg.norm(new_ankle - target_ankle, axis=-1) < 1e-6) & (flat < foot)
        rise = np.sign(target_toe[:, 1] - target_ankle[:, 1]) * np.sqrt(np.clip(foot**2 - flat**2, 0.0, None))
        placed = np.concatenate([target_toe[:, :1], (new_ankle[:, 1] + rise)[:, None], target_toe[:, 2:]], axis=1)
        exact &= placed[:, 1] >= np.minimum(target_toe[:, 1], 0.0)  # never through the floor (y = 0)
        new_toe = np.where(exact[:, None], placed, new_toe)
        j[:, knee], j[:, ankle], j[:, toe] = new_knee, new_ankle, new_toe
    return j


def clean_motion(joints: np.ndarray, skeleton: Skeleton = HUMANML3D, fps: float | None = None, config: CleanupConfig = CleanupConfig()) -> np.ndarray:
    """(T, 22, 3) generated joints -> (T, 22, 3) cleaned joints (float64): smoothed, rigid
    bones, on the floor, planted feet held still (module docstring)."""
    j = _check(joints, skeleton)
    config.validate()
    rate = float(skeleton.fps if fps is None else fps)
    j = make_rigid(smooth(j, config.smooth_sigma), skeleton)
    if config.floor:
        j = settle(put_on_floor(j), rate, config.max_airborne_seconds)
    if config.lock_feet and len(j) >= 2:
        j = lock_feet(j, stances(j, skeleton, rate, config), skeleton, config.blend_frames)
        if config.floor:  # the legs bent: back onto the floor
            j = put_on_floor(j)
    return j
