"""BVH export and import for HumanML3D motions.

Export writes a standard BVH: a 22-joint hierarchy in SMPL order with the reference
rest pose as offsets, the root position plus one rotation per joint, 20 fps, metres,
y up, `Zrotation Xrotation Yrotation` channels (R = Rz Rx Ry, the order of the CMU
files that Blender's importer reads). Import reads any BVH (our own, or anyone's
with a joint-name map) and returns joint positions by forward kinematics.

Why the rest pose is not HumanML3D's axis-aligned offsets. HumanML3D stores one
rotation per *bone* (at the child joint); a BVH stores one rotation per *joint*,
shared by all of its children. At the two joints with several children (pelvis:
hips and spine1; spine3: neck and collars) one rotation can only place the children
if their layout is rigid. The real layout is nearly rigid (in SMPL these children hang
off one rigid segment), but it is *not* the axis-aligned one (the hips sit about 55
degrees below the pelvis, not level with it): with axis-aligned offsets the BVH would
be up to 15 cm off on real motions, with the reference layout 0.4 to 2 cm. So the rest
offsets are the true reference pose (HumanML3D motion 000021, frame 0, turned to face
+z) at the reference bone lengths, and the rotation at a multi-child joint is the
least-squares fit of the rest children onto the posed children. The motion a BVH
encodes is therefore: the input retargeted to the reference skeleton (as
`joints_to_features` does), with the children of pelvis and spine3 snapped to that
rigid layout; everything else is exact. `bvh_to_joints(motion)` of an exported
motion returns exactly those joints.

The arms rest in a T-pose (shoulder, elbow and wrist bones along +-x), as in most
BVH rigs: a single-child joint gets the shortest rotation from its rest bone to its
posed bone in the parent's frame, which is undefined when the two are opposite. With
arms hanging at rest that happens when the arms go overhead (the twist then flips
by up to 180 degrees between frames); with a T-pose only for an arm pointing through
the chest. Twist does not move joints, so joint positions do not depend on this.
Leaf joints (feet, head, wrists) get the identity and an End Site along their bone.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .io_utils import atomic_path
from .motion.features import check_joints
from .motion.kinematics import retarget
from .rotations import euler_to_quat, matrix_to_quat, qbetween, qinv, qmul, qrot, quat_to_euler
from .skeleton import HUMANML3D, Skeleton, get_skeleton

# The HumanML3D reference pose as bone vectors parent -> joint (metres, y up, facing +z):
# HumanML3D motion 000021 frame 0 (shared/data/reference/skeleton_example_h3d.npy, first
# 22 joints), turned about y so that its forward direction is +z. Measured once and kept
# as constants (their lengths equal skeleton.HUMANML3D.bone_lengths to 1e-8; the rest
# offsets are rescaled to those lengths exactly).
REFERENCE_POSE_BONES_H3D: tuple[tuple[float, float, float], ...] = (
    (0.000000, 0.000000, 0.000000),  # 0 pelvis
    (0.057678, -0.084780, -0.010476),  # 1 left_hip
    (-0.060895, -0.091333, -0.004930),  # 2 right_hip
    (0.004998, 0.121703, -0.049736),  # 3 spine1
    (0.042798, -0.391160, 0.010080),  # 4 left_knee
    (-0.040006, -0.387232, -0.026422),  # 5 right_knee
    (0.004524, 0.140481, 0.027352),  # 6 spine2
    (-0.028268, -0.424181, -0.079181),  # 7 left_ankle
    (0.044229, -0.420463, -0.049265),  # 8 right_ankle
    (-0.001979, 0.057205, 0.003793),  # 9 spine3
    (0.036548, -0.055763, 0.126937),  # 10 left_foot
    (-0.047019, -0.058361, 0.129265),  # 11 right_foot
    (-0.003048, 0.218590, -0.018115),  # 12 neck
    (0.076715, 0.113820, -0.007904),  # 13 left_collar
    (-0.077347, 0.119508, -0.017146),  # 14 right_collar
    (0.025883, 0.068795, 0.072211),  # 15 head
    (0.129557, -0.016196, -0.016577),  # 16 left_shoulder
    (-0.122291, -0.002021, -0.012881),  # 17 right_shoulder
    (0.011559, -0.254857, -0.029679),  # 18 left_elbow
    (-0.032610, -0.256816, -0.046898),  # 19 right_elbow
    (0.017764, -0.251885, 0.083670),  # 20 left_wrist
    (-0.061590, -0.249900, 0.081178),  # 21 right_wrist
)

END_SITE_FRACTION = 0.4  # End Site of a leaf joint: this fraction of its own bone, along it
ROTATION_ORDER = "ZXY"  # BVH channels Zrotation Xrotation Yrotation: R = Rz @ Rx @ Ry
_AXES = "XYZ"


# Arm bones that rest along +-x (T-pose) instead of hanging as in the reference pose.
T_POSE_ARMS: dict[int, tuple[float, float, float]] = {
    16: (1.0, 0.0, 0.0), 18: (1.0, 0.0, 0.0), 20: (1.0, 0.0, 0.0),  # left shoulder, elbow, wrist
    17: (-1.0, 0.0, 0.0), 19: (-1.0, 0.0, 0.0), 21: (-1.0, 0.0, 0.0),  # right
}  # fmt: skip


def rest_offsets(skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """(22, 3) BVH rest offsets: the reference pose's bone directions (arms in a T-pose) times the
    reference bone lengths."""
    if skeleton.name != HUMANML3D.name:
        raise ValueError(f"BVH export supports the HumanML3D 22-joint skeleton only, not {skeleton.name!r}")
    bones = np.asarray(REFERENCE_POSE_BONES_H3D, dtype=np.float64)
    for j, direction in T_POSE_ARMS.items():
        bones[j] = direction
    norms = np.linalg.norm(bones, axis=1, keepdims=True)
    dirs = np.divide(bones, norms, out=np.zeros_like(bones), where=norms > 0)
    return dirs * np.asarray(skeleton.bone_lengths)[:, None]


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


# --------------------------------------------------------------------------- export


def _best_fit_rotation(rest: Tensor, posed: Tensor) -> Tensor:
    """Rotation R (T, 3, 3) minimising sum_k |R rest_k - posed_k|^2.

    rest (K, 3), posed (T, K, 3). Kabsch by SVD, batched over frames (scipy's
    Rotation.align_vectors solves the same problem but one frame per call).
    """
    H = torch.einsum("ki,tkj->tij", rest, posed)  # (T, 3, 3) sum_k rest_k posed_k^T
    U, _, Vh = torch.linalg.svd(H)
    V = Vh.mT
    d = torch.sign(torch.linalg.det(V @ U.mT))  # (T,) -1 would be a reflection
    D = torch.diag_embed(torch.stack((torch.ones_like(d), torch.ones_like(d), d), dim=-1))
    return V @ D @ U.mT


def motion_to_bvh(
    joints: np.ndarray | Tensor,
    skeleton: str | Skeleton = "humanml3d",
    *,
    fps: float | None = None,
    scale: float = 1.0,
    retarget_to_reference: bool = True,
) -> BVHMotion:
    """The BVH of a motion. joints (T, 22, 3) in metres, y up.

    The motion is first retargeted to the reference skeleton (bone lengths and the
    leg-length scaling of the root trajectory, as in `joints_to_features`); the BVH then
    encodes it with the reference rest pose (see the module docstring). `scale` multiplies
    all lengths in the file (100 writes centimetres). `fps` defaults to the skeleton's.
    """
    sk = get_skeleton(skeleton)
    rest = torch.as_tensor(rest_offsets(sk))  # (J, 3); raises for non-HumanML3D skeletons
    check_joints(joints, sk)
    fps = float(sk.fps if fps is None else fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    pos = torch.as_tensor(np.asarray(joints) if not isinstance(joints, Tensor) else joints.detach().cpu())
    pos = pos.to(torch.float64)
    parents = sk.parents
    bone_len = (pos[:, 1:] - pos[:, list(parents[1:])]).norm(dim=-1)  # (T, J-1)
    if bool((bone_len < 1e-9).any()):
        t, b = (int(i) for i in torch.nonzero(bone_len < 1e-9)[0])
        raise ValueError(
            f"cannot export: joints {sk.joint_names[parents[b + 1]]} and {sk.joint_names[b + 1]} coincide "
            f"in frame {t} (a bone of zero length has no direction)"
        )
    if retarget_to_reference:
        pos = retarget(pos, sk)  # (T, J, 3)
        bad = ~torch.isfinite(pos).all(dim=-1).all(dim=-1)
        if bool(bad.any()):
            raise ValueError(
                f"cannot export: the body's facing direction is undefined in frame {int(torch.nonzero(bad)[0])} "
                "(hips and shoulders give no left-right axis)"
            )
    T, J = pos.shape[:2]
    children: list[list[int]] = [[c for c in range(J) if parents[c] == j] for j in range(J)]

    identity = pos.new_tensor((1.0, 0.0, 0.0, 0.0)).expand(T, 4)
    glob: list[Tensor] = [identity] * J  # global rotations (T, 4)
    local: list[Tensor] = [identity] * J
    for j in range(J):  # SMPL order: every parent comes before its children
        parent_rot = glob[parents[j]] if parents[j] >= 0 else identity
        kids = children[j]
        if len(kids) == 1:
            c = kids[0]
            bone = qrot(qinv(parent_rot), pos[:, c] - pos[:, j])  # (T, 3) in the parent's frame
            local[j] = qbetween(rest[c].expand(T, 3), bone)
            glob[j] = qmul(parent_rot, local[j])
        elif len(kids) > 1:
            posed = pos[:, kids] - pos[:, j : j + 1]  # (T, K, 3)
            glob[j] = matrix_to_quat(_best_fit_rotation(rest[kids], posed))
            local[j] = qmul(qinv(parent_rot), glob[j])
        else:
            glob[j] = parent_rot  # leaf: local identity
    local_q = torch.stack(local, dim=1)  # (T, J, 4)

    euler = quat_to_euler(local_q, ROTATION_ORDER).numpy()  # (T, J, 3) degrees, (z, x, y)
    euler = np.unwrap(euler, period=360.0, axis=0)  # no 360-degree jumps between frames
    # A BVH lists joints depth-first, and its MOTION columns follow that order.
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c in children[j]:
            visit(c)

    visit(0)
    file_index = {j: k for k, j in enumerate(order)}
    root = pos[:, 0].numpy() * scale
    values = np.concatenate((root, euler[:, order].reshape(T, -1)), axis=1)  # (T, 3 + 3J)
    rot_channels = tuple(f"{a}rotation" for a in ROTATION_ORDER)
    channels = [("Xposition", "Yposition", "Zposition") + rot_channels] + [rot_channels] * (J - 1)
    offsets = rest.numpy()[order] * scale
    offsets[0] = 0.0  # the root's place is all in its position channels
    end_sites = {file_index[j]: rest[j].numpy() * scale * END_SITE_FRACTION for j in order if not children[j]}
    return BVHMotion(
        names=[sk.joint_names[j] for j in order],
        parents=[file_index[parents[j]] if parents[j] >= 0 else -1 for j in order],
        offsets=offsets,
        channels=channels,
        values=values,
        frame_time=1.0 / fps,
        end_sites=end_sites,
    )


def export_bvh(
    joints: np.ndarray | Tensor,
    path: str | os.PathLike,
    skeleton: str | Skeleton = "humanml3d",
    *,
    fps: float | None = None,
    scale: float = 1.0,
    decimals: int = 6,
) -> BVHMotion:
    """Write a motion (T, 22, 3) as a BVH file, atomically; returns the BVHMotion written."""
    motion = motion_to_bvh(joints, skeleton, fps=fps, scale=scale)
    text = motion.to_text(decimals)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="ascii")
    return motion


# --------------------------------------------------------------------------- parse / import


class BVHFormatError(ValueError):
    """A BVH file that cannot be parsed."""


def parse_bvh(text: str, source: str = "<text>") -> BVHMotion:
    """Parse BVH text (any hierarchy, channel layout and Euler order).

    Hand-written: the `bvh` package on PyPI only tokenises (no forward kinematics, no
    validation), and the format is small. Raises BVHFormatError (a ValueError) with the
    file and line of the problem.
    """
    lines = text.splitlines()
    names: list[str] = []
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
            if name in names:
                raise fail(f"duplicate joint name {name!r}", i)
            names.append(name)
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

    def header(pos: int, label: str) -> str:
        if pos >= len(rest) or not lines[rest[pos]].strip().lower().startswith(label.lower()):
            raise fail(f"expected '{label}' after MOTION", rest[pos] if pos < len(rest) else None)
        return lines[rest[pos]].strip()[len(label) :].strip()

    try:
        num_frames = int(header(0, "Frames:"))
    except ValueError:
        raise fail("'Frames:' needs an integer", rest[0]) from None
    try:
        frame_time = float(header(1, "Frame Time:"))
    except ValueError:
        raise fail("'Frame Time:' needs a number", rest[1]) from None
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise fail(f"Frame Time must be positive, got {frame_time}")
    if num_frames < 0:
        raise fail(f"negative frame count {num_frames}")
    total = sum(len(c) for c in channels)
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
    """Read and parse a BVH file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}" if not p.exists() else f"not a file: {p}")
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BVHFormatError(f"bad BVH file {p}: not a text file") from None
    return parse_bvh(text, str(p))


def load_joint_map(path: str | os.PathLike) -> tuple[dict[str, str], float]:
    """Read a joint-name map JSON: returns ({ramotion joint: BVH joint}, scale).

    Either a plain object {"pelvis": "Hips", "left_hip": "LeftUpLeg", ...} with all 22
    HumanML3D joint names as keys, or {"joints": {...}, "scale": 0.01} where `scale`
    converts the file's units to metres. A BVH joint may also be an End Site, named
    "<its joint>_End".
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such joint map: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"joint map {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"joint map {p} must be a JSON object")
    scale = 1.0
    if "joints" in data:
        scale = data.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"joint map {p}: 'scale' must be a positive number, got {scale!r}")
        extra = set(data) - {"joints", "scale"}
        if extra:
            raise ValueError(f"joint map {p}: unknown keys {sorted(extra)} (expected 'joints' and 'scale')")
        data = data["joints"]
        if not isinstance(data, dict):
            raise ValueError(f"joint map {p}: 'joints' must be an object")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"joint map {p}: every entry must map a joint name to a BVH joint name (strings)")
    unknown = sorted(set(data) - set(HUMANML3D.joint_names))
    if unknown:
        raise ValueError(
            f"joint map {p}: unknown ramotion joint names {unknown}; expected {list(HUMANML3D.joint_names)}"
        )
    missing = [n for n in HUMANML3D.joint_names if n not in data]
    if missing:
        raise ValueError(f"joint map {p}: missing ramotion joints {missing}")
    return dict(data), float(scale)


def bvh_to_joints(
    motion: BVHMotion,
    joint_map: dict[str, str] | None = None,
    *,
    scale: float = 1.0,
    fps: float | None = None,
) -> np.ndarray:
    """HumanML3D joint positions (T, 22, 3) float64 from a parsed BVH.

    joint_map: {ramotion joint name: BVH joint name}; None means the BVH uses ramotion's
    names (files written by `export_bvh`). scale: multiplies positions (e.g. 0.01 for a
    file in centimetres). fps: resample to this frame rate (linear interpolation of the
    positions); None keeps the file's rate.
    """
    positions, names = motion.joint_positions(include_end_sites=True)
    index = {n: k for k, n in enumerate(names)}
    mapping = joint_map or {n: n for n in HUMANML3D.joint_names}
    missing = [f"{ours}->{theirs}" if joint_map else theirs for ours, theirs in mapping.items() if theirs not in index]
    if missing:
        hint = "" if joint_map else " (not a ramotion BVH? pass a joint-name map)"
        raise ValueError(
            f"the BVH has no joint named {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}{hint}"
        )
    cols = [index[mapping[n]] for n in HUMANML3D.joint_names]
    joints = positions[:, cols] * scale  # (T, 22, 3)
    if fps is not None:
        joints = resample(joints, motion.fps, fps)
    return joints


def resample(joints: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linearly resample positions (T, ...) from fps_in to fps_out over the same duration."""
    from scipy.interpolate import interp1d

    if not (math.isfinite(fps_out) and fps_out > 0):
        raise ValueError(f"fps must be a positive number, got {fps_out}")
    if len(joints) < 2 or abs(fps_in - fps_out) < 1e-9:
        return joints
    t_in = np.arange(len(joints)) / fps_in
    t_out = np.arange(0.0, t_in[-1] + 1e-9, 1.0 / fps_out)
    return interp1d(t_in, joints, axis=0)(t_out)


def import_bvh(
    path: str | os.PathLike,
    joint_map: dict[str, str] | str | os.PathLike | None = None,
    *,
    scale: float | None = None,
    fps: float | None = None,
) -> tuple[np.ndarray, float]:
    """Read a BVH file as HumanML3D joints: returns (joints (T, 22, 3) float64, fps).

    joint_map: a dict or the path of a JSON map (see `load_joint_map`); None for files
    written by `export_bvh`. scale overrides the map's scale (default 1: metres).
    """
    motion = read_bvh(path)
    map_scale = 1.0
    if joint_map is not None and not isinstance(joint_map, dict):
        joint_map, map_scale = load_joint_map(joint_map)
    s = map_scale if scale is None else float(scale)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"scale must be a positive number, got {s}")
    if motion.num_frames < 2:
        raise ValueError(f"{path}: a motion needs at least 2 frames, the BVH has {motion.num_frames}")
    joints = bvh_to_joints(motion, joint_map, scale=s, fps=fps)
    return joints, float(fps if fps is not None else motion.fps)
