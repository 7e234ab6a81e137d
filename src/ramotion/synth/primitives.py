"""Parameterised action primitives, written as body channels over time.

Each action is a small function `emit(tl, rng, **params)` that appends its frames to
a `Timeline` (channels of `ramotion.synth.pose.Channels`). Upper-body actions fade
their angles in and out around the rest pose, so any two actions join smoothly;
locomotion plans footfalls (where and when each foot lands) and the body path
through them, so stance feet are planted by construction (the legs follow by
inverse kinematics). `ACTIONS` maps each action name to its parameter sampler.

Angles are radians, distances metres, times frames at 20 fps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.interpolate import PchipInterpolator

from .pose import ANKLE_REST_Y, FOOT_PITCH, Channels, rot_y

FPS = 20.0
LEFT, RIGHT = 0, 1
SIDES = {"left": LEFT, "right": RIGHT}
FLEX, ABD, HADD, ELBOW, COLLAR, TWIST = range(6)
GRAVITY = 9.81


class TimelineFull(Exception):
    """A sequence ran past the timeline's capacity (the composer redraws it)."""


@dataclass(frozen=True)
class Style:
    """Per-motion variation of the performer: build, posture and tempo."""

    height: float  # standing pelvis height (m)
    stance: float  # half the distance between the feet (m)
    arm_abd: float  # resting arm abduction
    elbow: float  # resting elbow flexion
    posture: float  # resting forward bend of the spine
    tempo: float  # >1 is faster
    sway: float  # amplitude of idle body sway (m)

    @staticmethod
    def sample(rng: np.random.Generator) -> "Style":
        return Style(
            height=float(rng.uniform(0.85, 0.87)),
            stance=float(rng.uniform(0.09, 0.13)),
            arm_abd=float(rng.uniform(0.08, 0.2)),
            elbow=float(rng.uniform(0.1, 0.35)),
            posture=float(rng.uniform(-0.02, 0.1)),
            tempo=float(rng.uniform(0.85, 1.15)),
            sway=float(rng.uniform(0.005, 0.02)),
        )


def ramp(n: int, rise: int, fall: int | None = None) -> np.ndarray:
    """Envelope (n,) rising 0 -> 1 over `rise` frames and falling back over `fall` (cosine)."""
    fall = rise if fall is None else fall
    e = np.ones(n)
    if rise > 0:
        r = min(rise, n)
        e[:r] = 0.5 - 0.5 * np.cos(np.pi * np.arange(r) / rise)
    if fall > 0:
        f = min(fall, n)
        e[n - f :] = np.minimum(e[n - f :], 0.5 - 0.5 * np.cos(np.pi * np.arange(f, 0, -1) / fall))
    return e


def smoothstep(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends, for u in [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def keys(times: list[float], values: list, n: int) -> np.ndarray:
    """Shape-preserving (PCHIP) interpolation of key values at key times, sampled at 0..n-1."""
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.concatenate(([True], np.diff(t) > 1e-6))
    return PchipInterpolator(t[keep], v[keep], axis=0, extrapolate=True)(np.clip(np.arange(n), t[0], t[-1]))


class Timeline:
    """A growing motion: channels plus where the body and feet are at the end."""

    def __init__(self, style: Style, rng: np.random.Generator, capacity: int = 400):
        self.style = style
        self.rng = rng
        self.ch = Channels(capacity)
        self.t = 0
        self.base = np.zeros(2)  # (x, z)
        self.yaw = 0.0
        self.feet = [self.home_foot(LEFT), self.home_foot(RIGHT)]  # (x, z) ankle positions
        self.feet_yaw = [0.0, 0.0]

    def home_foot(self, side: int, base: np.ndarray | None = None, yaw: float | None = None) -> np.ndarray:
        """Where a foot stands at rest for a body at `base` facing `yaw`. -> (x, z)"""
        base = self.base if base is None else base
        yaw = self.yaw if yaw is None else yaw
        x = self.style.stance * (1 if side == LEFT else -1)
        off = rot_y(np.asarray(yaw)) @ np.array([x, 0.0, 0.02])
        return base + off[[0, 2]]

    def rest_arms(self, n: int) -> np.ndarray:
        """(2, n, 6) resting arm angles."""
        a = np.zeros((2, n, 6))
        a[:, :, ABD] = self.style.arm_abd
        a[:, :, ELBOW] = self.style.elbow
        a[:, :, FLEX] = 0.05
        return a

    def extend(self, n: int) -> slice:
        """Append n frames holding the current place and feet, in the rest pose; return their slice."""
        if self.t + n > self.ch.T:
            raise TimelineFull(f"timeline capacity {self.ch.T} exceeded")
        s = slice(self.t, self.t + n)
        ch = self.ch
        ch.base[s] = self.base
        ch.yaw[s] = self.yaw
        ch.pelvis_h[s] = self.style.height
        ch.spine[s, 0] = self.style.posture
        ch.arms[:, s] = self.rest_arms(n)
        for side in (LEFT, RIGHT):
            ch.foot_pos[side, s, 0] = self.feet[side][0]
            ch.foot_pos[side, s, 1] = ANKLE_REST_Y[side]
            ch.foot_pos[side, s, 2] = self.feet[side][1]
            ch.foot_yaw[side, s] = self.feet_yaw[side]
            ch.foot_pitch[side, s] = FOOT_PITCH
            ch.contact[side, s] = True
        self.t += n
        return s

    def frames(self, seconds: float) -> int:
        """Frames for a duration in seconds at this performer's tempo."""
        return max(1, int(round(seconds * FPS / self.style.tempo)))

    def jitter(self, lo: float = 0.9, hi: float = 1.1) -> float:
        return float(self.rng.uniform(lo, hi))


# --------------------------------------------------------------------------- helpers


def swing_foot(
    tl: Timeline, side: int, t0: int, t1: int, target: np.ndarray, target_yaw: float, lift: float, delay: float = 0.12
) -> None:
    """Move a foot through the air from where it stands to `target` during frames [t0, t1).

    The foot leaves and lands with zero horizontal speed, rises on a sine arc with
    its toes raised for clearance; from t1 on it is planted at the target. `delay` is
    the fraction of the swing spent rising (and landing) before it travels.
    """
    ch = tl.ch
    n = t1 - t0
    u = (np.arange(n) + 1) / (n + 1)
    start = np.asarray(tl.feet[side], dtype=np.float64)
    # The foot rises before it travels and lands before... it stops travelling just
    # above the floor, so nothing near the floor moves sideways (no visible sliding).
    h = smoothstep((u - delay) / (1 - 2 * delay))
    xz = start[None] + (np.asarray(target) - start)[None] * h[:, None]
    y0 = ANKLE_REST_Y[side]
    ch.foot_pos[side, t0:t1, 0] = xz[:, 0]
    ch.foot_pos[side, t0:t1, 2] = xz[:, 1]
    ch.foot_pos[side, t0:t1, 1] = y0 + lift * np.sin(np.pi * u) ** 0.6
    dyaw = np.angle(np.exp(1j * (target_yaw - tl.feet_yaw[side])))
    ch.foot_yaw[side, t0:t1] = tl.feet_yaw[side] + dyaw * h
    ch.foot_pitch[side, t0:t1] = FOOT_PITCH - 0.25 * np.sin(np.pi * u)  # toes up for clearance
    ch.contact[side, t0:t1] = False
    end = ch.foot_pos.shape[1]
    ch.foot_pos[side, t1:end, 0] = target[0]
    ch.foot_pos[side, t1:end, 2] = target[1]
    ch.foot_pos[side, t1:end, 1] = y0
    ch.foot_yaw[side, t1:end] = tl.feet_yaw[side] + dyaw
    tl.feet[side] = np.asarray(target, dtype=np.float64)
    tl.feet_yaw[side] = tl.feet_yaw[side] + dyaw


@dataclass
class Step:
    """One footfall: which foot, where it lands (x, z), which way it points."""

    side: int
    target: np.ndarray
    yaw: float


def locomote(
    tl: Timeline,
    steps: list[Step],
    period: int,
    swing: int,
    lift: float,
    arm_swing: float,
    elbow: float,
    lean: float,
    bob: float = 0.0,
    delay: float = 0.12,
) -> slice:
    """Walk/jog/run/turn through a list of footfalls.

    period: frames between successive take-offs; swing: frames a foot is in the air
    (swing < period leaves both feet down between steps, swing > period gives a
    flight phase). The body path passes through the centre of the feet after each
    landing (PCHIP, so it never overshoots), the heading follows the feet.
    """
    lead, tail = 2, 3
    n = lead + (len(steps) - 1) * period + swing + tail
    s = tl.extend(n)
    t0 = s.start
    times, bases, yaws = [0.0], [tl.base.copy()], [tl.yaw]
    for k, st in enumerate(steps):
        a = t0 + lead + k * period
        swing_foot(tl, st.side, a, a + swing, st.target, st.yaw, lift, delay)
        # Key the body a quarter swing before the landing: it is moving over the new footfall.
        times.append(a + swing - t0 - 0.25 * min(period, swing))
        bases.append(0.5 * (tl.feet[0] + tl.feet[1]))
        y = 0.5 * (tl.feet_yaw[0] + tl.feet_yaw[1])
        yaws.append(y)
    end_base = 0.5 * (tl.feet[0] + tl.feet[1])
    # Feet land a little in front of the ankle position of the home stance; the body's base
    # is the centre of the feet minus that forward offset.
    fwd = np.array([np.sin(yaws[-1]), np.cos(yaws[-1])]) * 0.02
    bases = [b if i == 0 else b - np.array([np.sin(yaws[i]), np.cos(yaws[i])]) * 0.02 for i, b in enumerate(bases)]
    times.append(n - 1.0)
    bases.append(end_base - fwd)
    yaws.append(yaws[-1])
    ch = tl.ch
    ch.base[s] = keys(times, bases, n)
    ch.yaw[s] = keys(times, yaws, n)
    # Arms swing against the legs; the trunk leans into the motion and bobs.
    env = ramp(n, max(2, period // 2))
    phase = np.pi * (np.arange(n) - lead) / period
    first = 1.0 if steps[0].side == LEFT else -1.0
    osc = np.sin(np.clip(phase, 0, None)) * first
    ch.arms[LEFT, s, FLEX] += -arm_swing * osc * env
    ch.arms[RIGHT, s, FLEX] += arm_swing * osc * env
    ch.arms[:, s, ELBOW] += (elbow - tl.style.elbow) * env
    ch.spine[s, 0] += lean * env
    ch.spine[s, 2] += 0.1 * arm_swing * osc * env
    ch.pelvis_rot[s, 2] -= 0.12 * arm_swing * osc * env
    ch.pelvis_h[s] -= bob * env
    tl.base = end_base - fwd
    tl.yaw = float(yaws[-1])
    return s


def _heading(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Unit forward and left vectors (x, z) of the current heading."""
    f = np.array([np.sin(tl.yaw), np.cos(tl.yaw)])
    left = np.array([f[1], -f[0]])
    return f, left


def _straight_steps(tl: Timeline, direction: str, count: int, length: float, first: int) -> list[Step]:
    """Footfalls for walking `count` steps forward/backward (alternating) or sideways (step-together)."""
    f, left = _heading(tl)
    steps = []
    if direction in ("forward", "backward"):
        d = f if direction == "forward" else -f
        side = first
        for k in range(1, count + 1):
            home = tl.home_foot(side)
            steps.append(Step(side, home + d * length * k, tl.yaw))
            side = 1 - side
        # Closing step: the trailing foot joins the leading one.
        steps.append(Step(side, tl.home_foot(side) + d * length * count, tl.yaw))
    else:
        lead = LEFT if direction == "left" else RIGHT
        d = left if direction == "left" else -left
        for k in range(1, count + 1):
            steps.append(Step(lead, tl.home_foot(lead) + d * length * k, tl.yaw))
            steps.append(Step(1 - lead, tl.home_foot(1 - lead) + d * length * k, tl.yaw))
    return steps


# --------------------------------------------------------------------------- actions


def walk(tl: Timeline, direction: str = "forward", steps: int = 4, speed: str = "normal") -> None:
    """Walk `steps` steps forward, backward, or sideways (to the character's left/right)."""
    pace = {"slow": 0.75, "normal": 1.0, "fast": 1.3}[speed]
    if direction in ("forward", "backward"):
        length = (0.55 if direction == "forward" else 0.4) * tl.jitter(0.9, 1.1) * min(pace, 1.15)
        period = tl.frames(0.55 / pace * tl.jitter(0.95, 1.05))
        first = int(tl.rng.integers(2))
        plan = _straight_steps(tl, direction, steps, length, first)
        sw = max(5, int(round(period * 0.8)))
        lean = 0.06 if direction == "forward" else -0.04
        locomote(tl, plan, period, sw, lift=0.09, arm_swing=0.35 * pace, elbow=0.3, lean=lean, bob=0.02)
    else:
        length = 0.3 * tl.jitter(0.9, 1.1)
        period = tl.frames(0.5 / pace * tl.jitter(0.95, 1.05))
        plan = _straight_steps(tl, direction, steps, length, 0)
        sw = max(5, int(round(period * 0.85)))
        locomote(tl, plan, period, sw, lift=0.07, arm_swing=0.05, elbow=0.25, lean=0.0, bob=0.015)


def jog(tl: Timeline, steps: int = 6) -> None:
    """Jog forward: short flight phases, bent elbows."""
    # Gait speeds do not follow the performer's tempo: jogging stays ~2.0-2.5 m/s.
    length = 0.8 * tl.jitter(0.95, 1.05)
    period = max(4, int(round(0.36 * FPS * tl.jitter(0.95, 1.05))))
    plan = _straight_steps(tl, "forward", steps, length, int(tl.rng.integers(2)))
    plan[0].target = 0.5 * (plan[0].target + tl.home_foot(plan[0].side))  # first step is shorter
    locomote(tl, plan, period, int(round(period * 1.25)), lift=0.14, arm_swing=0.5, elbow=1.3, lean=0.12, bob=0.04, delay=0.06)


def run(tl: Timeline, steps: int = 6) -> None:
    """Run forward: long strides, long flights, strong arm swing."""
    # Running ~3.4-4.0 m/s.
    length = 1.15 * tl.jitter(0.95, 1.05)
    period = max(4, int(round(0.32 * FPS * tl.jitter(0.95, 1.05))))
    plan = _straight_steps(tl, "forward", steps, length, int(tl.rng.integers(2)))
    plan[0].target = 0.5 * (plan[0].target + tl.home_foot(plan[0].side))
    plan[1].target = plan[1].target - (plan[1].target - tl.home_foot(plan[1].side)) * 0.2
    locomote(tl, plan, period, int(round(period * 1.45)), lift=0.22, arm_swing=0.8, elbow=1.5, lean=0.22, bob=0.05, delay=0.05)


def turn(tl: Timeline, direction: str = "left", angle: int = 90) -> None:
    """Turn on the spot by stepping, to the character's left (positive yaw) or right."""
    sign = 1.0 if direction == "left" else -1.0
    nsteps = max(2, int(np.ceil(angle / 50.0)))
    period = tl.frames(0.45 * tl.jitter(0.95, 1.1))
    _turn_steps(tl, sign * np.deg2rad(angle), nsteps, period, lead=LEFT if sign > 0 else RIGHT, arm_abd=0.0)


def spin(tl: Timeline, direction: str = "left") -> None:
    """Spin a full circle on the spot with quick steps and arms out."""
    sign = 1.0 if direction == "left" else -1.0
    period = tl.frames(0.3 * tl.jitter(0.95, 1.1))
    _turn_steps(tl, sign * 2 * np.pi, 6, period, lead=LEFT if sign > 0 else RIGHT, arm_abd=0.8)


def _turn_steps(tl: Timeline, total: float, nsteps: int, period: int, lead: int, arm_abd: float) -> None:
    """Alternating footfalls that rotate the stance about the body's base by `total` radians."""
    plan = []
    side = lead
    base = tl.base.copy()
    for k in range(1, nsteps + 1):
        yaw = tl.yaw + total * k / nsteps
        plan.append(Step(side, tl.home_foot(side, base, yaw), yaw))
        side = 1 - side
    plan.append(Step(side, tl.home_foot(side, base, tl.yaw + total), tl.yaw + total))
    s = locomote(tl, plan, period, max(4, int(round(period * 0.8))), lift=0.06, arm_swing=0.0, elbow=0.35, lean=0.0)
    if arm_abd:
        env = ramp(s.stop - s.start, 4)
        tl.ch.arms[:, s, ABD] += arm_abd * env


def jump(tl: Timeline, count: int = 1, forward: bool = False) -> None:
    """Jump `count` times, in place or forwards: crouch, take off, fly, land, absorb."""
    for _ in range(count):
        _jump_once(tl, 0.45 * tl.jitter(0.85, 1.15) if forward else 0.0, both=True)


def hop(tl: Timeline, leg: str = "left", count: int = 3) -> None:
    """Hop `count` times on one leg (the other foot held up behind)."""
    side = SIDES[leg]
    free = 1 - side
    ch = tl.ch
    shift = (tl.feet[side] - tl.base) * 0.8  # the body moves over the hopping foot
    # Weight shift and lift the free foot (0.5 s), hops, put it down (0.5 s).
    n_in = tl.frames(0.5)
    s = tl.extend(n_in)
    w = smoothstep(np.linspace(0, 1, n_in))
    ch.base[s] = tl.base[None] + shift[None] * w[:, None]
    up = smoothstep(np.clip(np.linspace(-0.6, 1.0, n_in), 0, 1))
    _hold_free_foot(tl, free, s, up)
    tl.base = tl.base + shift
    for _ in range(count):
        _jump_once(tl, 0.0, both=False, support=side, height=0.1 * tl.jitter())
    n_out = tl.frames(0.5)
    s = tl.extend(n_out)
    w = smoothstep(np.linspace(0, 1, n_out))
    ch.base[s] = tl.base[None] - shift[None] * w[:, None]
    _hold_free_foot(tl, free, s, 1 - smoothstep(np.clip(np.linspace(0, 1.6, n_out), 0, 1)))
    tl.base = tl.base - shift


def _hold_free_foot(tl: Timeline, free: int, s: slice, w: np.ndarray) -> None:
    """Raise the free foot behind the body by weight w (n,) in [0, 1]; w == 0 frames stay planted."""
    ch = tl.ch
    f, _ = _heading(tl)
    home = np.asarray(tl.feet[free])
    lifted = w > 1e-6
    back = 0.22 * w**2  # up first, then back: nothing slides along the floor
    ch.foot_pos[free, s, 0] = home[0] - f[0] * back
    ch.foot_pos[free, s, 2] = home[1] - f[1] * back
    ch.foot_pos[free, s, 1] = ANKLE_REST_Y[free] + 0.3 * w
    ch.foot_pitch[free, s] = FOOT_PITCH + 0.5 * w**2
    ch.contact[free, s] = ~lifted
    ch.arms[:, s, ABD] += 0.35 * w


def _jump_once(tl: Timeline, distance: float, both: bool, support: int = LEFT, height: float | None = None) -> None:
    """One jump (both feet) or hop (one support foot), `distance` metres forwards."""
    ch = tl.ch
    st = tl.style
    h = (0.18 if both else 0.1) * tl.jitter() if height is None else height
    flight = max(4, int(round(2 * np.sqrt(2 * h / GRAVITY) * FPS)))
    crouch = tl.frames(0.4 if both else 0.25)
    land = tl.frames(0.45 if both else 0.25)
    n = crouch + flight + land
    s = tl.extend(n)
    if not both:
        _hold_free_foot(tl, 1 - support, s, np.ones(n))
    depth = (0.16 if both else 0.08) * tl.jitter()
    ext = st.height + 0.02  # legs straight at take-off / touch-down
    t_off, t_land = crouch, crouch + flight
    u = (np.arange(n) - t_off) / flight
    air = np.clip(u, 0, 1)
    arc = 4 * h * air * (1 - air)  # ballistic height above take-off
    pel = keys([0, crouch * 0.55, t_off, t_land, t_land + land * 0.35, n - 1],
               [st.height, st.height - depth, ext, ext, st.height - depth * 0.8, st.height], n)
    inair = (u > 0) & (u < 1)
    pel = np.where(inair, ext + arc, pel)
    ch.pelvis_h[s] = pel
    f, _ = _heading(tl)
    move = f * distance
    w = np.where(u <= 0, 0.0, np.where(u >= 1, 1.0, air))
    ch.base[s] = tl.base[None] + move[None] * w[:, None]
    feet = (LEFT, RIGHT) if both else (support,)
    for side in feet:
        start = np.asarray(tl.feet[side])
        ch.foot_pos[side, s, 0] = start[0] + move[0] * w
        ch.foot_pos[side, s, 2] = start[1] + move[1] * w
        tuck = 0.06 * np.sin(np.pi * air)
        ch.foot_pos[side, s, 1] = ANKLE_REST_Y[side] + np.where(inair, arc + tuck, 0.0)
        ch.foot_pitch[side, s] = FOOT_PITCH + np.where(inair, 0.3 * np.sin(np.pi * air), 0.0)
        ch.contact[side, s] = ~inair
        ch.foot_pos[side, s.stop :, 0] = start[0] + move[0]
        ch.foot_pos[side, s.stop :, 2] = start[1] + move[1]
        tl.feet[side] = start + move
    if not both:
        free = 1 - support
        ch.foot_pos[free, s, 1] += np.where(inair, arc, 0.0)
    # Arms swing back while crouching and up through the flight; the trunk folds a little.
    crouch_w = np.clip(st.height - pel, 0, None) / max(depth, 1e-6)
    ch.pelvis_rot[s, 0] += 0.35 * crouch_w
    ch.spine[s, 0] += 0.25 * crouch_w
    if both:
        # (relative to the chest, which tips forwards ~0.6 rad in the crouch)
        swing_arms = keys([0, crouch * 0.6, t_off + 1, t_land, n - 1], [0.0, -0.9, 1.2, 0.5, 0.0], n)
        ch.arms[:, s, FLEX] += swing_arms[None]
    tl.base = tl.base + move


def wave(tl: Timeline, hand: str = "right", count: int = 3) -> None:
    """Wave with one or both hands raised: the forearm swings back and forth `count` times."""
    sides = (LEFT, RIGHT) if hand == "both" else (SIDES[hand],)
    freq = 1.6 * tl.jitter(0.85, 1.15)  # back-and-forth cycles per second
    raise_n, lower_n = tl.frames(0.5), tl.frames(0.5)
    osc_n = int(round(count / freq * FPS))
    n = raise_n + osc_n + lower_n
    s = tl.extend(n)
    env = ramp(n, raise_n, lower_n)
    osc = np.zeros(n)
    tt = np.arange(osc_n)
    osc[raise_n : raise_n + osc_n] = np.sin(2 * np.pi * count * tt / osc_n) * ramp(osc_n, 2)
    amp = 0.4 * tl.jitter()  # the forearm swings about upright
    high = tl.rng.uniform(0.0, 0.4)
    for side in sides:
        a = tl.ch.arms[side, s]
        a[:, ABD] += (1.45 + high - tl.style.arm_abd) * env
        a[:, TWIST] += (np.pi / 2) * env
        a[:, ELBOW] += (1.5 - 0.5 * high - tl.style.elbow) * env + amp * osc
        a[:, COLLAR] += 0.15 * env
    tl.ch.neck[s, 1] += 0.2 * env * (1 if sides == (LEFT,) else -1 if sides == (RIGHT,) else 0)


def raise_arms(tl: Timeline, hand: str = "both", how: str = "up") -> None:
    """Raise one or both arms overhead (forwards-up) or out to the sides, hold, lower."""
    sides = (LEFT, RIGHT) if hand == "both" else (SIDES[hand],)
    up_n, hold_n, down_n = tl.frames(0.6), tl.frames(tl.rng.uniform(0.6, 1.4)), tl.frames(0.6)
    n = up_n + hold_n + down_n
    s = tl.extend(n)
    env = smoothstep(ramp(n, up_n, down_n))
    for side in sides:
        a = tl.ch.arms[side, s]
        if how == "up":
            a[:, FLEX] += (2.9 * tl.jitter(0.95, 1.02) - 0.05) * env
            a[:, ABD] += (0.15 - tl.style.arm_abd) * env
        else:  # out to the sides, horizontal
            a[:, ABD] += (1.65 * tl.jitter(0.97, 1.05) - tl.style.arm_abd) * env  # a little above horizontal
        a[:, ELBOW] -= (tl.style.elbow - 0.05) * env
        a[:, COLLAR] += 0.2 * env
    tl.ch.neck[s, 0] -= 0.2 * env if how == "up" else 0.0


def clap(tl: Timeline, count: int = 3) -> None:
    """Clap the hands in front of the chest `count` times."""
    up_n, down_n = tl.frames(0.4), tl.frames(0.4)
    per = tl.frames(0.45 * tl.jitter())
    n = up_n + per * count + down_n
    s = tl.extend(n)
    env = ramp(n, up_n, down_n)
    tt = np.arange(n) - up_n
    # Hands closed at each clap (middle of each period), apart between claps.
    closed = np.where((tt >= 0) & (tt < per * count), 0.5 - 0.5 * np.cos(2 * np.pi * (tt + 0.0) / per), 0.0)
    for side in (LEFT, RIGHT):
        a = tl.ch.arms[side, s]
        a[:, FLEX] += 1.0 * env
        a[:, ABD] -= tl.style.arm_abd * env
        a[:, HADD] += (0.25 + 0.45 * closed) * env
        a[:, ELBOW] += (1.25 - tl.style.elbow - 0.35 * closed) * env


def punch(tl: Timeline, hand: str = "right", count: int = 2) -> None:
    """Punch forwards with one hand `count` times from a guard position."""
    side = SIDES[hand]
    up_n, down_n = tl.frames(0.4), tl.frames(0.45)
    per = tl.frames(0.5 * tl.jitter())
    n = up_n + per * count + down_n
    s = tl.extend(n)
    env = ramp(n, up_n, down_n)
    tt = np.arange(n) - up_n
    ext = np.where((tt >= 0) & (tt < per * count), np.sin(np.pi * np.clip(tt % per, 0, per) / per) ** 2, 0.0)
    for sd in (LEFT, RIGHT):
        a = tl.ch.arms[sd, s]
        a[:, FLEX] += 0.35 * env
        a[:, HADD] += 0.35 * env
        a[:, ABD] -= tl.style.arm_abd * env
        a[:, ELBOW] += (2.25 - tl.style.elbow) * env
    a = tl.ch.arms[side, s]
    a[:, FLEX] += 1.1 * ext * env
    a[:, HADD] -= 0.15 * ext * env
    a[:, ELBOW] -= 2.2 * ext * env
    sgn = 1.0 if side == LEFT else -1.0
    tl.ch.spine[s, 2] -= sgn * 0.2 * ext * env  # the shoulder drives the punch
    tl.ch.pelvis_rot[s, 2] -= sgn * 0.1 * ext * env


def kick(tl: Timeline, leg: str = "right", count: int = 1) -> None:
    """Kick forwards with one leg `count` times; the other foot stays planted."""
    side = SIDES[leg]
    sup = 1 - side
    ch = tl.ch
    f, _ = _heading(tl)
    shift = (tl.feet[sup] - tl.base) * 0.6
    n_in = tl.frames(0.35)
    s = tl.extend(n_in)
    ch.base[s] = tl.base[None] + shift[None] * smoothstep(np.linspace(0, 1, n_in))[:, None]
    tl.base = tl.base + shift
    home = np.asarray(tl.feet[side]).copy()
    for _ in range(count):
        n = tl.frames(0.9 * tl.jitter())
        s = tl.extend(n)
        u = np.linspace(0, 1, n)
        lift = np.sin(np.pi * u) ** 0.8  # up and back down
        # At full extension the ankle is ~0.75 m from the hip: the leg is nearly straight.
        reach = tl.jitter(0.6, 0.75)  # how far in front of the home position (m)
        height = tl.jitter(0.3, 0.5)  # ankle height at the top of the kick (m)
        pk = np.clip((u - 0.2) / 0.5, 0, 1)
        snap = np.sin(np.pi * pk) ** 2  # extension of the kick
        back = 0.1 * lift**3 * (1 - snap)  # draw the foot back (only once it is off the floor)
        ch.foot_pos[side, s, 0] = home[0] + f[0] * (reach * snap - back)
        ch.foot_pos[side, s, 2] = home[1] + f[1] * (reach * snap - back)
        ch.foot_pos[side, s, 1] = ANKLE_REST_Y[side] + height * lift * (0.35 + 0.65 * snap)
        ch.foot_pitch[side, s] = FOOT_PITCH + 0.6 * snap  # point the toes only once the foot is up
        ch.contact[side, s] = lift < 1e-3
        ch.contact[side, s][0] = True
        ch.contact[side, s][-1] = True
        ch.arms[:, s, ABD] += 0.5 * lift
        ch.spine[s, 0] -= 0.2 * snap
        ch.pelvis_rot[s, 0] -= 0.15 * snap
    n_out = tl.frames(0.35)
    s = tl.extend(n_out)
    ch.base[s] = tl.base[None] - shift[None] * smoothstep(np.linspace(0, 1, n_out))[:, None]
    tl.base = tl.base - shift


def squat(tl: Timeline, count: int = 2, depth: str = "normal") -> None:
    """Squat down and up `count` times, arms forwards for balance."""
    d = {"normal": 0.3, "deep": 0.42}[depth] * tl.jitter(0.95, 1.05)
    for _ in range(count):
        n = tl.frames(1.4 * tl.jitter())
        s = tl.extend(n)
        w = smoothstep(ramp(n, n // 2, n - n // 2))
        _lower(tl, s, d * w, arms_forward=True)


def crouch(tl: Timeline, hold: float = 1.0) -> None:
    """Crouch down low, stay there, and stand back up."""
    down, up = tl.frames(0.8), tl.frames(0.8)
    stay = tl.frames(hold)
    n = down + stay + up
    s = tl.extend(n)
    w = smoothstep(ramp(n, down, up))
    _lower(tl, s, 0.44 * tl.jitter(0.97, 1.03) * w, arms_forward=False)


def _lower(tl: Timeline, s: slice, drop: np.ndarray, arms_forward: bool) -> None:
    """Bend the knees to drop the pelvis by `drop` (n,) metres, hips back, chest forwards."""
    ch = tl.ch
    w = drop / 0.44
    ch.pelvis_h[s] -= drop
    ch.pelvis_local[s, 2] -= 0.12 * w
    ch.pelvis_rot[s, 0] += 0.45 * w
    ch.spine[s, 0] += 0.35 * w
    ch.neck[s, 0] -= 0.3 * w
    # Arm angles are relative to the chest, which tips forwards by ~0.8 w: subtract it
    # to aim the arms in the world (horizontal and forwards, or down towards the knees).
    if arms_forward:
        ch.arms[:, s, FLEX] += 1.45 * np.clip(w * 3, 0, 1) - 0.8 * w
        ch.arms[:, s, ELBOW] -= 0.1 * w
    else:
        ch.arms[:, s, FLEX] += 0.1 * w
        ch.arms[:, s, ELBOW] += 0.5 * w


def bow(tl: Timeline, depth: str = "normal") -> None:
    """Bow: bend forward at the hips, hold briefly, come back up."""
    bend = {"normal": 0.85, "deep": 1.1}[depth] * tl.jitter(0.95, 1.05)
    down, up = tl.frames(0.8), tl.frames(0.8)
    stay = tl.frames(tl.rng.uniform(0.3, 0.8))
    n = down + stay + up
    s = tl.extend(n)
    w = smoothstep(ramp(n, down, up))
    ch = tl.ch
    ch.pelvis_rot[s, 0] += 0.4 * bend * w
    ch.spine[s, 0] += 0.6 * bend * w
    ch.pelvis_local[s, 2] -= 0.08 * bend * w
    ch.pelvis_h[s] -= 0.02 * w
    ch.neck[s, 0] += 0.2 * w
    # The arms hang from the tipped chest: flexing them by the chest's tilt keeps them vertical.
    ch.arms[:, s, FLEX] += 0.8 * bend * w


def lean(tl: Timeline, direction: str = "left") -> None:
    """Lean the upper body to one side, hold, and come back."""
    sign = 1.0 if direction == "left" else -1.0
    down, up = tl.frames(0.7), tl.frames(0.7)
    stay = tl.frames(tl.rng.uniform(0.4, 1.0))
    n = down + stay + up
    s = tl.extend(n)
    w = smoothstep(ramp(n, down, up))
    amt = 0.8 * tl.jitter(0.9, 1.1)
    ch = tl.ch
    ch.spine[s, 1] += sign * amt * w
    ch.pelvis_rot[s, 1] += sign * 0.1 * w
    ch.pelvis_local[s, 0] -= sign * 0.04 * w
    ch.arms[1 - (LEFT if sign > 0 else RIGHT), s, ABD] += 0.3 * w  # the far arm lifts a little


def stand(tl: Timeline, seconds: float = 1.5) -> None:
    """Stand still: weight shifts, small head movements."""
    n = tl.frames(seconds) if seconds > 0 else 1
    s = tl.extend(n)
    ch = tl.ch
    t = np.arange(n) / FPS
    ph = tl.rng.uniform(0, 2 * np.pi, 3)
    ch.pelvis_local[s, 0] += tl.style.sway * np.sin(2 * np.pi * 0.3 * t + ph[0]) * ramp(n, 5)
    ch.neck[s, 1] += 0.2 * np.sin(2 * np.pi * 0.2 * t + ph[1]) * ramp(n, 8)
    ch.arms[:, s, FLEX] += 0.05 * np.sin(2 * np.pi * 0.25 * t + ph[2]) * ramp(n, 5)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Action:
    """An action type: how to emit it and how to draw its parameters."""

    name: str
    emit: Callable[..., None]
    sample: Callable[[np.random.Generator], dict]


def _choice(rng: np.random.Generator, options: list):
    return options[int(rng.integers(len(options)))]


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("walk", walk, lambda r: {"direction": _choice(r, ["forward"] * 3 + ["backward", "left", "right"]),
                                        "steps": int(r.integers(2, 7)), "speed": _choice(r, ["slow", "normal", "normal", "fast"])}),
        Action("jog", jog, lambda r: {"steps": int(r.integers(4, 9))}),
        Action("run", run, lambda r: {"steps": int(r.integers(4, 9))}),
        Action("jump", jump, lambda r: {"count": int(r.integers(1, 4)), "forward": bool(r.random() < 0.4)}),
        Action("hop", hop, lambda r: {"leg": _choice(r, ["left", "right"]), "count": int(r.integers(2, 5))}),
        Action("turn", turn, lambda r: {"direction": _choice(r, ["left", "right"]), "angle": _choice(r, [90, 90, 180])}),
        Action("spin", spin, lambda r: {"direction": _choice(r, ["left", "right"])}),
        Action("wave", wave, lambda r: {"hand": _choice(r, ["left", "right", "right", "both"]), "count": int(r.integers(2, 6))}),
        Action("raise_arms", raise_arms, lambda r: {"hand": _choice(r, ["left", "right", "both", "both"]),
                                                    "how": _choice(r, ["up", "up", "sideways"])}),
        Action("clap", clap, lambda r: {"count": int(r.integers(2, 6))}),
        Action("punch", punch, lambda r: {"hand": _choice(r, ["left", "right"]), "count": int(r.integers(1, 4))}),
        Action("kick", kick, lambda r: {"leg": _choice(r, ["left", "right"]), "count": int(r.integers(1, 3))}),
        Action("squat", squat, lambda r: {"count": int(r.integers(1, 4)), "depth": _choice(r, ["normal", "deep"])}),
        Action("crouch", crouch, lambda r: {"hold": float(np.round(r.uniform(0.5, 1.5), 1))}),
        Action("bow", bow, lambda r: {"depth": _choice(r, ["normal", "deep"])}),
        Action("lean", lean, lambda r: {"direction": _choice(r, ["left", "right"])}),
        Action("stand", stand, lambda r: {"seconds": float(np.round(r.uniform(1.0, 2.5), 1))}),
    )
}
