"""Sequences of 1-3 actions joined smoothly into one motion, with its ground-truth program.

`compose_motion` draws a performer style and a sequence, emits the actions into one
timeline (each action starts and ends in the rest pose, so consecutive actions blend
through it), smooths the body channels lightly and solves the joints. Motions are
2-9.8 s at 20 fps: the joints have one frame more than the program's `num_frames`,
because HumanML3D features (and the joints recovered from them) have T-1 frames.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .pose import Channels, channels_to_joints
from .primitives import ACTIONS, FPS, Style, Timeline, TimelineFull
from .program import Program, ProgramAction

MIN_FRAMES = 40  # feature frames (HumanML3D keeps 40 <= T < 200)
MAX_FRAMES = 196
SMOOTH_SIGMA = 1.2  # frames; only the body channels, never the planted feet
_SMOOTHED = ("base", "yaw", "pelvis_h", "pelvis_local", "pelvis_rot", "spine", "neck", "arms")


_PER_SIDE = ("arms", "foot_pos", "foot_yaw", "foot_pitch", "contact")  # (2, T, ...): time is axis 1


def crop(ch: Channels, T: int) -> Channels:
    """The first T frames of a channel set."""
    out = Channels(T)
    for f in fields(ch):
        if f.name != "T":
            v = getattr(ch, f.name)
            setattr(out, f.name, (v[:, :T] if f.name in _PER_SIDE else v[:T]).copy())
    return out


def smooth(ch: Channels, sigma: float = SMOOTH_SIGMA) -> Channels:
    """Gaussian-smooth the body channels over time (transitions lose their corners)."""
    for name in _SMOOTHED:
        v = getattr(ch, name)
        axis = 1 if name == "arms" else 0
        setattr(ch, name, gaussian_filter1d(v, sigma, axis=axis, mode="nearest"))
    return ch


def add_idle_variation(ch: Channels, rng: np.random.Generator, amount: float = 1.0) -> Channels:
    """Slow, small random drift of trunk, head and arms (a living body is never frozen).

    Smoothed white noise (about a second's correlation): ~2 degrees of spine and arm
    angles, ~4 of the head, ~1 cm of pelvis sway.
    """
    T = ch.T

    def drift(shape: tuple[int, ...], scale: float) -> np.ndarray:
        noise = gaussian_filter1d(rng.standard_normal((T,) + shape), 8.0, axis=0, mode="nearest")
        return noise / max(float(noise.std()), 1e-9) * scale * amount

    ch.spine += drift((3,), 0.03)
    ch.neck += drift((2,), 0.07)
    ch.arms[:, :, :2] += np.moveaxis(drift((2, 2), 0.03), 0, 1)
    ch.pelvis_local[:, [0, 2]] += drift((2,), 0.008)
    return ch


def sample_sequence(rng: np.random.Generator, names: list[str] | None = None) -> list[tuple[str, dict]]:
    """Draw 1-3 actions (no action twice in a row) and their parameters."""
    if names is None:
        k = int(rng.choice([1, 2, 3], p=[0.25, 0.4, 0.35]))
        pool = sorted(ACTIONS)
        names = []
        for _ in range(k):
            options = [a for a in pool if not names or a != names[-1]]
            names.append(options[int(rng.integers(len(options)))])
    return [(n, ACTIONS[n].sample(rng)) for n in names]


def render_sequence(seq: list[tuple[str, dict]], rng: np.random.Generator, style: Style | None = None) -> tuple[np.ndarray, Program]:
    """Emit a sequence into one motion. -> joints (T+1, 22, 3) float64, program (T frames)."""
    style = style or Style.sample(rng)
    tl = Timeline(style, rng)
    lead = int(rng.integers(0, 6))
    if lead:
        tl.extend(lead)
    spans = []
    for i, (name, params) in enumerate(seq):
        start = 0 if i == 0 else tl.t
        ACTIONS[name].emit(tl, **params)
        spans.append([start, tl.t])
    tail = int(rng.integers(0, 6))
    if tl.t + tail < MIN_FRAMES + 1:
        tail = MIN_FRAMES + 1 - tl.t
    if tail:
        tl.extend(tail)
    spans[-1][1] = tl.t
    total = tl.t  # joint frames
    ch = smooth(add_idle_variation(crop(tl.ch, total), rng))
    joints = channels_to_joints(ch)
    n = total - 1
    actions = [ProgramAction(name, dict(params), int(a), int(min(b, n))) for (name, params), (a, b) in zip(seq, spans)]
    return joints, Program(actions=actions, num_frames=n, fps=FPS)


def compose_motion(rng: np.random.Generator, names: list[str] | None = None, max_tries: int = 50) -> tuple[np.ndarray, Program]:
    """A random motion of 1-3 actions fitting 40..196 feature frames. -> joints (T+1, 22, 3), program.

    Sequences that come out too long are redrawn (with the same action names when
    `names` is given, so their counts and durations shrink by chance).
    """
    for _ in range(max_tries):
        seq = sample_sequence(rng, names)
        est = _estimate_frames(seq)
        if est > MAX_FRAMES + 1:
            continue
        try:
            joints, program = render_sequence(seq, rng)
        except TimelineFull:
            continue
        if program.num_frames <= MAX_FRAMES:
            return joints, program
    raise ValueError(f"could not fit actions {names} into {MAX_FRAMES} frames; use fewer or shorter actions")


def _estimate_frames(seq: list[tuple[str, dict]]) -> int:
    """A quick upper-bound-ish guess of a sequence's length, to skip hopeless draws early."""
    per = {"walk": lambda p: 14 * (p["steps"] + 2), "jog": lambda p: 8 * (p["steps"] + 2),
           "run": lambda p: 8 * (p["steps"] + 2), "jump": lambda p: 22 * p["count"], "hop": lambda p: 20 + 14 * p["count"],
           "turn": lambda p: 10 * (p["angle"] // 50 + 3), "spin": lambda p: 50, "wave": lambda p: 20 + 12 * p["count"],
           "raise_arms": lambda p: 50, "clap": lambda p: 16 + 10 * p["count"], "punch": lambda p: 18 + 11 * p["count"],
           "kick": lambda p: 14 + 20 * p["count"], "squat": lambda p: 30 * p["count"], "crouch": lambda p: 32 + 20 * p["hold"],
           "bow": lambda p: 48, "lean": lambda p: 44, "stand": lambda p: 20 * p["seconds"]}
    return int(sum(per[n](p) for n, p in seq) * 0.9)
