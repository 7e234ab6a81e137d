"""The BVH format: parse, forward kinematics and text output, for any hierarchy.

`read_bvh` reads `.bvh` and `.bvh.gz` (any hierarchy, channel layout and Euler order) into
a `BVHMotion`; `BVHMotion.to_text` writes one; `bvh_source` gives the positions of every
joint and End Site as a `SourceMotion` for a preset to map onto the HumanML3D skeleton.
What ramotion writes (`mocap.export`) and how other skeletons come in (`mocap.presets`,
`mocap.importing`) live beside this file.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..rotations import euler_to_quat, qmul, qrot
from .source import MAX_FPS, MAX_FRAMES, MAX_POINT_FRAMES, MIN_FPS, MocapFormatError, SourceMotion, read_text

_AXES = "XYZ"


@dataclass
class BVHMotion:
    """A parsed or generated BVH: hierarchy, channels and the frame values.

    names/parents/offsets describe joints in file (depth-first) order; channels[j] lists
    joint j's channel names in order ("Xposition", ..., "Zrotation"); values is the MOTION
    block, (frames, total channels). end_sites maps a joint index to its End Site offset.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (J, 3)
    channels: list[tuple[str, ...]]
    values: np.ndarray  # (T, C)
    frame_time: float
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def channel_columns(self) -> list[list[int]]:
        """Column indices of each joint's channels in `values`."""
        cols, start = [], 0
        for ch in self.channels:
            cols.append(list(range(start, start + len(ch))))
            start += len(ch)
        return cols

    def local_transforms(self) -> tuple[Tensor, Tensor]:
        """Per-joint local rotations (T, J, 4) and translations (T, J, 3), float64.

        A joint with position channels uses them as its translation (replacing its OFFSET,
        as most BVH readers do; missing axes keep the OFFSET value); others use the OFFSET.
        Rotation channels compose in the order listed (intrinsic Euler, degrees).
        """
        T, J = self.num_frames, len(self.names)
        values = torch.as_tensor(self.values, dtype=torch.float64)
        quats = torch.zeros(T, J, 4, dtype=torch.float64)
        quats[..., 0] = 1.0
        trans = torch.as_tensor(self.offsets, dtype=torch.float64)[None].repeat(T, 1, 1)
        for j, (chans, cols) in enumerate(zip(self.channels, self.channel_columns())):
            order, angles = "", []
            for name, col in zip(chans, cols):
                axis, kind = name[0].upper(), name[1:].lower()
                if kind == "position":
                    trans[:, j, _AXES.index(axis)] = values[:, col]
                else:
                    order += axis
                    angles.append(values[:, col])
            if order:
                # Pad to three axes with zero angles (same rotation) for euler_to_quat.
                for axis in _AXES:
                    if len(order) < 3 and axis not in order:
                        order += axis
                        angles.append(torch.zeros(T, dtype=torch.float64))
                quats[:, j] = euler_to_quat(torch.stack(angles, dim=-1), order)
        return quats, trans

    def global_transforms(self) -> tuple[Tensor, Tensor]:
        """Global rotations (T, J, 4) and joint positions (T, J, 3) by forward kinematics."""
        local_q, local_t = self.local_transforms()
        rot, pos = [None] * len(self.names), [None] * len(self.names)
        for j, p in enumerate(self.parents):
            if p < 0:
                rot[j], pos[j] = local_q[:, j], local_t[:, j]
            else:
                rot[j] = qmul(rot[p], local_q[:, j])
                pos[j] = pos[p] + qrot(rot[p], local_t[:, j])
        return torch.stack(rot, dim=1), torch.stack(pos, dim=1)

    def joint_positions(self, include_end_sites: bool = False) -> tuple[np.ndarray, list[str]]:
        """Joint positions (T, J, 3) float64 and their names, optionally with End Sites
        (named "<joint>_End")."""
        rot, pos = self.global_transforms()
        names = list(self.names)
        if include_end_sites and self.end_sites:
            extra = []
            for j, off in self.end_sites.items():
                extra.append(pos[:, j] + qrot(rot[:, j], torch.as_tensor(off, dtype=torch.float64).expand(len(pos), 3)))
                names.append(f"{self.names[j]}_End")
            pos = torch.cat((pos, torch.stack(extra, dim=1)), dim=1)
        return pos.numpy(), names

    def rest_positions(self) -> np.ndarray:
        """(P, 3) every joint and End Site in the rest pose (offsets only, no motion), in the
        order of `joint_positions(include_end_sites=True)`'s names."""
        pos = np.zeros((len(self.names), 3))
        for j, p in enumerate(self.parents):  # parents come first in file order
            pos[j] = self.offsets[j] + (pos[p] if p >= 0 else 0.0)
        ends = [pos[j] + np.asarray(off) for j, off in self.end_sites.items()]
        return np.concatenate([pos, np.reshape(ends, (-1, 3))]) if ends else pos

    def to_text(self, decimals: int = 6) -> str:
        """The BVH file's text."""
        children: dict[int, list[int]] = {j: [] for j in range(len(self.names))}
        for j, p in enumerate(self.parents):
            if p >= 0:
                children[p].append(j)
        lines = ["HIERARCHY"]

        def fmt(v: np.ndarray) -> str:
            return " ".join(f"{x:.{decimals}f}" for x in v)

        emitted: list[int] = []  # joints in file order: the MOTION columns follow it

        def emit(j: int, depth: int) -> None:
            emitted.append(j)
            pad = "\t" * depth
            kind = "ROOT" if self.parents[j] < 0 else "JOINT"
            lines.append(f"{pad}{kind} {self.names[j]}")
            lines.append(f"{pad}{{")
            lines.append(f"{pad}\tOFFSET {fmt(self.offsets[j])}")
            lines.append(f"{pad}\tCHANNELS {len(self.channels[j])} {' '.join(self.channels[j])}")
            for c in children[j]:
                emit(c, depth + 1)
            if j in self.end_sites:
                lines.extend(
                    [f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {fmt(self.end_sites[j])}", f"{pad}\t}}"]
                )
            lines.append(f"{pad}}}")

        for j, p in enumerate(self.parents):
            if p < 0:
                emit(j, 0)
        lines += ["MOTION", f"Frames: {self.num_frames}", f"Frame Time: {self.frame_time:.{max(decimals, 8)}f}"]
        cols = self.channel_columns()
        values = self.values[:, [c for j in emitted for c in cols[j]]]
        buf = io.StringIO()
        np.savetxt(buf, values, fmt=f"%.{decimals}f", delimiter=" ")
        return "\n".join(lines) + "\n" + buf.getvalue()


class BVHFormatError(MocapFormatError):
    """A BVH file that cannot be parsed."""


_INTEGER = re.compile(r"[+-]?[0-9]+")


def _clip(text: str, width: int = 40) -> str:
    """text for an error message, cut to `width` characters (a fuzzed line can be megabytes)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def parse_bvh(text: str, source: str = "<text>") -> BVHMotion:
    """Parse BVH text (any hierarchy, channel layout and Euler order).

    Hand-written: the `bvh` package on PyPI only tokenises (no forward kinematics, no
    validation), and the format is small. Raises BVHFormatError (a ValueError) with the
    file and line of the problem, including for a motion beyond the readers' limits (see
    `source`): more than MAX_FRAMES frames, frames x (joints + End Sites) above
    MAX_POINT_FRAMES, a Frame Time outside 1/MAX_FPS..1/MIN_FPS s, or frames but no
    channels. What is allocated is bounded by the numbers actually in the file.
    """
    lines = text.splitlines()
    names: list[str] = []
    seen_names: set[str] = set()  # `name in names` would make a file of many joints quadratic
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []  # open joints; -2 marks an End Site block
    pending: int | None = None  # joint (or -2) whose "{" comes next
    i = 0

    def fail(msg: str, line: int | None = None) -> BVHFormatError:
        where = f"{source}: line {line + 1}: " if line is not None else f"{source}: "
        return BVHFormatError(f"bad BVH file {where}{msg}")

    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip().upper() != "HIERARCHY":
        raise fail("expected 'HIERARCHY' at the start", i if i < len(lines) else None)
    i += 1
    while i < len(lines):
        tokens = lines[i].split()
        if not tokens:
            i += 1
            continue
        key = tokens[0].upper()
        if key in ("ROOT", "JOINT"):
            if len(tokens) < 2:
                raise fail(f"{tokens[0]} without a name", i)
            if key == "JOINT" and not stack:
                raise fail("JOINT outside of any ROOT", i)
            if key == "ROOT" and stack:
                raise fail("ROOT inside another joint", i)
            if stack and stack[-1] == -2:
                raise fail("JOINT inside an End Site", i)
            name = " ".join(tokens[1:])
            if name in seen_names:
                raise fail(f"duplicate joint name {name!r}", i)
            names.append(name)
            seen_names.add(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append(())
            pending = len(names) - 1
        elif key == "END":
            if not stack or stack[-1] == -2:
                raise fail("End Site outside of a joint", i)
            pending = -2
        elif key == "{":
            if pending is None:
                raise fail("unexpected '{'", i)
            stack.append(pending)
            pending = None
        elif key == "}":
            if not stack:
                raise fail("unbalanced '}'", i)
            stack.pop()
        elif key == "OFFSET":
            if not stack:
                raise fail("OFFSET outside of a joint", i)
            try:
                vec = [float(v) for v in tokens[1:4]]
            except ValueError:
                raise fail(f"OFFSET needs 3 numbers, got {' '.join(tokens[1:])!r}", i) from None
            if len(vec) != 3 or len(tokens) != 4 or not all(map(math.isfinite, vec)):
                raise fail(f"OFFSET needs 3 finite numbers, got {' '.join(tokens[1:])!r}", i)
            if stack[-1] == -2:
                end_sites[stack[-2]] = np.asarray(vec)
            else:
                offsets[stack[-1]] = vec
        elif key == "CHANNELS":
            if not stack or stack[-1] == -2:
                raise fail("CHANNELS outside of a joint", i)
            try:
                n = int(tokens[1])
            except (IndexError, ValueError):
                raise fail("CHANNELS needs a count", i) from None
            chans = tuple(tokens[2:])
            valid = {f"{a}{k}" for a in _AXES for k in ("position", "rotation")}
            if len(chans) != n or any(c not in valid for c in chans) or len(set(chans)) != n:
                raise fail(f"bad CHANNELS {' '.join(tokens[1:])!r}", i)
            channels[stack[-1]] = chans
        elif key == "MOTION":
            break
        else:
            raise fail(f"unexpected {tokens[0]!r} in the hierarchy", i)
        i += 1
    if stack or pending is not None:
        raise fail("the hierarchy ends inside an open joint (missing '}')")
    if not names:
        raise fail("no joints in the hierarchy")
    if i >= len(lines):
        raise fail("no MOTION section")
    if sum(p < 0 for p in parents) != 1:
        raise fail("expected exactly one ROOT")

    # MOTION: "Frames: N", "Frame Time: dt", then N rows of numbers.
    rest = [k for k in range(i + 1, len(lines)) if lines[k].strip()]

    def header(pos: int, label: str) -> tuple[str, int]:
        """The value after `label` on the pos-th non-blank line after MOTION, and its line."""
        if pos >= len(rest) or not lines[rest[pos]].strip().lower().startswith(label.lower()):
            raise fail(f"expected '{label}' after MOTION", rest[pos] if pos < len(rest) else i)
        return lines[rest[pos]].strip()[len(label) :].strip(), rest[pos]

    frames_text, frames_line = header(0, "Frames:")
    # A regex, not int() alone: int() also takes "1_000", non-ASCII digits, and refuses a
    # 5000-digit count with a message about digit limits instead of the frame limit.
    if not _INTEGER.fullmatch(frames_text):
        raise fail(f"'Frames:' needs an integer, got {_clip(frames_text)!r}", frames_line)
    digits = frames_text.lstrip("+-").lstrip("0") or "0"
    if frames_text.startswith("-") and digits != "0":
        raise fail(f"negative frame count {_clip(frames_text)}", frames_line)
    if len(digits) > len(str(MAX_FRAMES)) or int(digits) > MAX_FRAMES:
        raise fail(f"'Frames: {_clip(digits)}' is more than the {MAX_FRAMES} frames a BVH may have", frames_line)
    num_frames = int(digits)
    time_text, time_line = header(1, "Frame Time:")
    try:
        frame_time = float(time_text)
    except ValueError:
        raise fail(f"'Frame Time:' needs a number, got {_clip(time_text)!r}", time_line) from None
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise fail(f"Frame Time must be positive, got {_clip(time_text)}", time_line)
    # Bounds on the frame time itself (1/MAX_FPS .. 1/MIN_FPS s): 1 / 1e-320 is inf fps.
    if not (1.0 / MAX_FPS <= frame_time <= 1.0 / MIN_FPS):
        raise fail(
            f"Frame Time {_clip(time_text)} s is outside {1.0 / MAX_FPS:g}..{1.0 / MIN_FPS:g} s "
            f"({MIN_FPS:g} to {MAX_FPS:g} fps)",
            time_line,
        )
    points = len(names) + len(end_sites)  # what forward kinematics places per frame
    if num_frames * points > MAX_POINT_FRAMES:
        raise fail(
            f"{num_frames} frames x {points} joints and End Sites is more than the {MAX_POINT_FRAMES} "
            "point-frames read at once; split the motion",
            frames_line,
        )
    total = sum(len(c) for c in channels)
    if total == 0 and num_frames > 0:
        raise fail(f"'Frames: {num_frames}' but the hierarchy declares no channels, so no frame holds any value", frames_line)
    # Every number is read before anything is sized by the header, so the arrays are bounded
    # by the file's length, whatever 'Frames:' claims.
    body = " ".join(lines[k] for k in rest[2:])
    try:
        data = np.array(body.split(), dtype=np.float64)
    except ValueError:
        raise fail("the MOTION block holds something that is not a number") from None
    if data.size != num_frames * total:
        raise fail(
            f"the MOTION block has {data.size} numbers; {num_frames} frames x {total} channels "
            f"needs {num_frames * total}"
        )
    values = data.reshape(num_frames, total)
    if not np.isfinite(values).all():
        raise fail("the MOTION block holds NaN or infinite values")
    return BVHMotion(
        names=names,
        parents=parents,
        offsets=np.asarray(offsets, dtype=np.float64).reshape(len(names), 3),
        channels=channels,
        values=values,
        frame_time=frame_time,
        end_sites=end_sites,
    )


def read_bvh(path: str | os.PathLike) -> BVHMotion:
    """Read and parse a BVH file (`.bvh`, or gzip-compressed `.bvh.gz`)."""
    try:
        text = read_text(path)
    except MocapFormatError as exc:
        raise BVHFormatError(f"bad BVH file {exc}") from None
    return parse_bvh(text, str(path))


def bvh_source(motion: BVHMotion, source: str = "<bvh>") -> SourceMotion:
    """Every joint's and End Site's position (End Sites named "<joint>_End"), in the file's
    units and axes, as a SourceMotion for a preset."""
    with np.errstate(over="ignore", invalid="ignore"):
        positions, names = motion.joint_positions(include_end_sites=True)
        rest = motion.rest_positions()
    if not (np.isfinite(positions).all() and np.isfinite(rest).all()):
        raise BVHFormatError(f"bad BVH file {source}: its offsets and positions are too large (forward kinematics overflows)")
    return SourceMotion(names=names, positions=positions, fps=motion.fps, source=source, rest=rest)
