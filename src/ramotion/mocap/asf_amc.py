"""Acclaim ASF/AMC reader: a skeleton file (.asf), a motion file (.amc, optionally .gz), and
forward kinematics that turns them into a `SourceMotion` of bone end points in metres.

Hand-written: no well-kept PyPI library reads ASF/AMC with full handling of per-bone `axis`
frames, arbitrary `dof` lists and orders, the root's `order`/`axis`, `:units` and translation
dofs, and the small readers that exist either hard-code the CMU layout or ignore the rotation
orders. The format is small; owning it keeps the conventions explicit and tested.

Conventions (all pinned by tests/test_asf_amc.py):

* A letter sequence of rotations (a bone's `axis ... XYZ`, its `dof rx rz` list, the root's
  `order`/`axis`) names rotations about FIXED axes applied in the order written: "XYZ" with
  angles (a, b, c) is the matrix Rz(c) @ Ry(b) @ Rx(a) acting on column vectors. That is
  scipy's extrinsic "xyz", or `ramotion.rotations.euler_to_quat` (intrinsic) with the order
  and the angles reversed.
* Each bone's `axis` gives C, the rest orientation of the bone's local frame in world
  coordinates; its dof values give M in that frame. With W the rotation that carries rest
  (world) vectors to posed ones, W_bone = W_parent @ C @ M @ C^-1 and
  end = start + W_bone @ (direction * length); a bone starts where its parent ends and the
  root's children start at the root's position.
* The root: the AMC values follow `order`; its rotation tokens, in the order they appear, are
  the fixed-axis rotation sequence M_root (as the Acclaim/VICON notes say: "sequence in which
  root rotations are calculated about fixed, global axes"). `orientation` (with the `axis`
  letters as its order) is the root's C, so W_root = C @ M_root @ C^-1. The AMC translation
  TX/TY/TZ REPLACES `position` (as the CMU and most readers do); `position` is used only for
  the components the AMC does not give.
* Translation dofs `tx ty tz` of a bone move its start along the bone's own axes:
  start += W_parent @ C @ t. The stretch dof `l` is not supported (MocapFormatError).
* Units: `:units length L` means file lengths / L are in the skeleton's real unit, taken to be
  inches (true of CMU and HDM05 VICON files with L = 0.45). Positions are returned in METRES:
  file length * (1 / L) * INCH. Angles follow `:units angle deg|rad` (default deg); an AMC
  `:RADIANS` or `:DEGREES` header line overrides it for that motion file. Axes are the file's
  own (Y up for CMU and HDM05).

Every problem with the input raises `MocapFormatError` (a ValueError) with one line naming the
file and, where it applies, the line and frame.
"""

from __future__ import annotations

import math
import os
import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ramotion.mocap.source import (
    MAX_FRAMES,
    MAX_POINT_FRAMES,
    MocapFormatError,
    SourceMotion,
    check_fps,
    check_size,
    read_text,
)

INCH = 0.0254  # metres in an inch: the real unit of CMU/VICON ASF files once divided by `length`

_AXIS_INDEX = {"x": 0, "y": 1, "z": 2}
_ROOT_TOKENS = ("TX", "TY", "TZ", "RX", "RY", "RZ")
_BONE_DOFS = ("tx", "ty", "tz", "rx", "ry", "rz", "l")
_SEPARATORS = re.compile(r"[,()]")  # the ASF spec treats commas and parentheses as whitespace
# A frame-number line: ASCII digits only (str.isdigit() also accepts "²", which int() refuses).
_FRAME_NUMBER = re.compile(r"[0-9]+")


@dataclass
class ASFBone:
    """One bone of an ASF skeleton.

    direction: (3,) unit vector of the bone in world coordinates at rest.
    length: in file units (divide by the skeleton's length_scale, times INCH, for metres).
    axis: (3,) rest orientation angles of the bone's local frame, in RADIANS.
    axis_order: fixed-axis order of those angles, e.g. "XYZ".
    dof: the bone's degrees of freedom in the order of its AMC values, e.g. ("rx", "rz").
    parent: the parent bone's name, "root" for children of the root.
    """

    name: str
    direction: np.ndarray  # (3,)
    length: float
    axis: np.ndarray  # (3,) radians
    axis_order: str = "XYZ"
    dof: tuple[str, ...] = ()
    parent: str = "root"


@dataclass
class ASFSkeleton:
    """A parsed ASF file.

    bones: by name, in file order. root_order: the AMC order of the root's values, e.g.
    ("TX", "TY", "TZ", "RX", "RY", "RZ"). root_axis: the order of root_orientation's angles.
    root_position: (3,) file units. root_orientation: (3,) RADIANS. length_scale: `:units
    length` (file lengths / length_scale are inches). angle_unit: "deg" or "rad", the unit of
    angles in the file (and of AMC values unless the AMC says otherwise). children: every
    bone's and "root"'s children, in hierarchy order.
    """

    name: str
    bones: dict[str, ASFBone]
    root_order: tuple[str, ...] = _ROOT_TOKENS
    root_axis: str = "XYZ"
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    root_orientation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    length_scale: float = 1.0
    angle_unit: str = "deg"
    children: dict[str, list[str]] = field(default_factory=dict)
    source: str = "<asf>"

    def dof_counts(self) -> dict[str, int]:
        """How many values each name has per AMC frame: "root" then the bones with dofs."""
        counts = {"root": len(self.root_order)} if self.root_order else {}
        counts.update({n: len(b.dof) for n, b in self.bones.items() if b.dof})
        return counts

    def topological_order(self) -> list[str]:
        """Bone names with every parent before its children (breadth first from the root)."""
        order: list[str] = []
        queue = deque(self.children.get("root", []))
        while queue:
            name = queue.popleft()
            order.append(name)
            queue.extend(self.children.get(name, []))
        return order


# --------------------------------------------------------------------------- rotations


def fixed_axis_rotation(angles: np.ndarray, axes: str) -> np.ndarray:
    """Rotation matrices from angles (radians) about fixed axes applied in the order written.

    angles: (..., k) with k = len(axes); axes: letters from "xyzXYZ", e.g. "XYZ" or "xz".
    Returns (..., 3, 3) = R[axes[-1]] @ ... @ R[axes[0]] (column vectors). Empty axes give
    the identity.
    """
    angles = np.asarray(angles, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for i, letter in enumerate(axes):
        a = _AXIS_INDEX[letter.lower()]
        b, c = (a + 1) % 3, (a + 2) % 3
        cos, sin = np.cos(angles[..., i]), np.sin(angles[..., i])
        r = np.zeros(angles.shape[:-1] + (3, 3))
        r[..., a, a] = 1.0
        r[..., b, b] = cos
        r[..., c, c] = cos
        r[..., c, b] = sin
        r[..., b, c] = -sin
        out = r @ out
    return out


# --------------------------------------------------------------------------- ASF


def _err(source: str, line: int | None, message: str) -> MocapFormatError:
    """A one-line error naming the file and (when known) the line."""
    where = f"{source}: line {line}: " if line is not None else f"{source}: "
    return MocapFormatError(where + " ".join(message.split()))


def _floats(tokens: list[str], n: int, what: str, source: str, line: int) -> np.ndarray:
    """Exactly n finite numbers from tokens, or a MocapFormatError naming `what`."""
    if len(tokens) < n:
        raise _err(source, line, f"{what} needs {n} number(s), found {len(tokens)}")
    try:
        values = np.array([float(t) for t in tokens[:n]], dtype=np.float64)
    except ValueError:
        raise _err(source, line, f"bad number in {what}: {' '.join(tokens[:n])!r}") from None
    if not np.all(np.isfinite(values)):
        raise _err(source, line, f"non-finite value in {what}: {' '.join(tokens[:n])!r}")
    return values


def _axis_letters(token: str, source: str, line: int, what: str) -> str:
    """A rotation order such as "XYZ" (any permutation of the three axes)."""
    order = token.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise _err(source, line, f"{what} order must be a permutation of XYZ, got {token!r}")
    return order


def parse_asf(text: str, source: str = "<asf>") -> ASFSkeleton:
    """Parse the text of an ASF skeleton file (see the module docstring for conventions).

    Raises MocapFormatError for missing :root/:bonedata/:hierarchy sections, bad or
    non-finite numbers, unknown dof tokens, duplicate or unknown bones, a bone without a
    parent, a second parent, or a cycle in the hierarchy.
    """
    name = ""
    length_scale = 1.0
    angle_unit = "deg"
    section = None
    seen_sections: set[str] = set()
    root_order: tuple[str, ...] = ()
    root_axis = "XYZ"
    root_position = np.zeros(3)
    root_orientation_raw = np.zeros(3)
    raw_bones: list[dict] = []  # each: fields as read, angles still in file units
    bone: dict | None = None
    last_key = ""
    hierarchy: list[tuple[int, list[str]]] = []
    in_hierarchy_block = False

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _SEPARATORS.sub(" ", raw.split("#", 1)[0]).strip()
        if not line:
            continue
        tokens = line.split()
        key = tokens[0]
        if key.startswith(":"):
            if bone is not None:
                raise _err(source, lineno, f"bone block opened but not closed with 'end' before {key}")
            section = key[1:].lower()
            seen_sections.add(section)
            if section == "name":
                name = " ".join(tokens[1:])
            continue
        if section == "units":
            if key.lower() == "length":
                length_scale = float(_floats(tokens[1:], 1, ":units length", source, lineno)[0])
                if length_scale <= 0:
                    raise _err(source, lineno, f":units length must be positive, got {tokens[1]}")
            elif key.lower() == "angle":
                unit = tokens[1].lower() if len(tokens) > 1 else ""
                if unit.startswith("deg"):
                    angle_unit = "deg"
                elif unit.startswith("rad"):
                    angle_unit = "rad"
                else:
                    raise _err(source, lineno, f":units angle must be deg or rad, got {unit!r}")
            # mass and anything else: irrelevant to kinematics
        elif section == "root":
            k = key.lower()
            if k == "order":
                root_order = tuple(t.upper() for t in tokens[1:])
                bad = [t for t in root_order if t not in _ROOT_TOKENS]
                if bad or len(set(root_order)) != len(root_order):
                    allowed, got = " ".join(_ROOT_TOKENS), " ".join(tokens[1:])
                    raise _err(source, lineno, f"root order must be distinct tokens from {allowed}, got {got}")
            elif k == "axis":
                if len(tokens) < 2:
                    raise _err(source, lineno, "root axis needs an order such as XYZ")
                root_axis = _axis_letters(tokens[1], source, lineno, "root axis")
            elif k == "position":
                root_position = _floats(tokens[1:], 3, "root position", source, lineno)
            elif k == "orientation":
                root_orientation_raw = _floats(tokens[1:], 3, "root orientation", source, lineno)
        elif section == "bonedata":
            k = key.lower()
            if k == "begin":
                if bone is not None:
                    raise _err(source, lineno, "'begin' inside a bone block (missing 'end')")
                bone = {"line": lineno}
            elif k == "end":
                if bone is None:
                    raise _err(source, lineno, "'end' without 'begin' in :bonedata")
                raw_bones.append(bone)
                bone = None
            elif bone is None:
                raise _err(source, lineno, f"{key!r} outside a begin/end bone block")
            elif k == "name":
                if len(tokens) < 2:
                    raise _err(source, lineno, "bone name missing")
                bone["name"] = tokens[1]
            elif k == "direction":
                bone["direction"] = _floats(tokens[1:], 3, "bone direction", source, lineno)
            elif k == "length":
                bone["length"] = float(_floats(tokens[1:], 1, "bone length", source, lineno)[0])
                if bone["length"] < 0:
                    raise _err(source, lineno, f"bone length must not be negative, got {tokens[1]}")
            elif k == "axis":
                bone["axis"] = _floats(tokens[1:], 3, "bone axis", source, lineno)
                bone["axis_order"] = _axis_letters(tokens[4], source, lineno, "bone axis") if len(tokens) > 4 else "XYZ"
            elif k == "dof":
                dof = tuple(t.lower() for t in tokens[1:])
                bad = [t for t in dof if t not in _BONE_DOFS]
                if bad or len(set(dof)) != len(dof):
                    raise _err(source, lineno, f"dof must be distinct tokens from {' '.join(_BONE_DOFS)}, got {' '.join(tokens[1:])}")
                if "l" in dof:
                    raise _err(source, lineno, "dof 'l' (bone stretch) is not supported")
                bone["dof"] = dof
            elif _is_number(key) and last_key == "limits":
                continue  # continuation line of a multi-line `limits`; limits are not enforced
            # id, limits, bodymass, cofmass and unknown keys: not needed for kinematics
            last_key = k if not _is_number(key) else last_key
        elif section == "hierarchy":
            k = key.lower()
            if k == "begin":
                in_hierarchy_block = True
            elif k == "end":
                in_hierarchy_block = False
            elif in_hierarchy_block:
                hierarchy.append((lineno, tokens))
            else:
                raise _err(source, lineno, f"hierarchy line outside begin/end: {line!r}")
        # :version, :documentation and unknown sections: free text, ignored

    if bone is not None:
        raise _err(source, bone["line"], "bone block not closed with 'end'")
    for required in ("root", "bonedata", "hierarchy"):
        if required not in seen_sections:
            raise _err(source, None, f"missing :{required} section")

    scale = math.pi / 180.0 if angle_unit == "deg" else 1.0
    bones: dict[str, ASFBone] = {}
    for rb in raw_bones:
        for needed in ("name", "direction", "length"):
            if needed not in rb:
                raise _err(source, rb["line"], f"bone block has no {needed!r}")
        bname = rb["name"]
        if bname == "root" or bname in bones:
            raise _err(source, rb["line"], f"duplicate bone name {bname!r}")
        direction = rb["direction"]
        norm = float(np.linalg.norm(direction))
        if not (math.isfinite(norm) and norm > 0.0) and np.any(direction):
            # The squares overflow (1e200) or underflow (1e-200): scale by the largest first.
            direction = direction / np.abs(direction).max()
            norm = float(np.linalg.norm(direction))
        if norm == 0.0 and rb["length"] > 0.0:
            raise _err(source, rb["line"], f"bone {bname!r} has a zero direction")
        bones[bname] = ASFBone(
            name=bname,
            direction=direction / norm if norm > 0 else direction,
            length=rb["length"],
            axis=rb.get("axis", np.zeros(3)) * scale,
            axis_order=rb.get("axis_order", "XYZ"),
            dof=rb.get("dof", ()),
            parent="",
        )

    children: dict[str, list[str]] = {"root": []}
    children.update({n: [] for n in bones})
    for lineno, tokens in hierarchy:
        parent, kids = tokens[0], tokens[1:]
        if parent not in children:
            raise _err(source, lineno, f":hierarchy names unknown bone {parent!r}")
        for kid in kids:
            if kid not in bones:
                what = "the root as a child" if kid == "root" else f"unknown bone {kid!r}"
                raise _err(source, lineno, f":hierarchy names {what}")
            if bones[kid].parent:
                raise _err(source, lineno, f"bone {kid!r} has two parents in :hierarchy ({bones[kid].parent!r} and {parent!r})")
            bones[kid].parent = parent
            children[parent].append(kid)

    orphans = [n for n, b in bones.items() if not b.parent]
    if orphans:
        raise _err(source, None, f"bone(s) with no parent in :hierarchy: {', '.join(orphans)}")
    skeleton = ASFSkeleton(
        name=name,
        bones=bones,
        root_order=root_order,
        root_axis=root_axis,
        root_position=root_position,
        root_orientation=root_orientation_raw * scale,
        length_scale=length_scale,
        angle_unit=angle_unit,
        children=children,
        source=source,
    )
    reached = set(skeleton.topological_order())
    unreached = [n for n in bones if n not in reached]
    if unreached:  # every bone has one parent, so the rest hang off a cycle
        raise _err(source, None, f"cycle in :hierarchy (not reachable from root): {', '.join(unreached)}")
    return skeleton


def _is_number(token: str) -> bool:
    """Whether a token reads as a float."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_asf(path: str | os.PathLike) -> ASFSkeleton:
    """Read an ASF file (plain or .gz; bytes decoded as Latin-1, which never fails)."""
    return parse_asf(read_text(path, encoding="latin-1"), source=str(path))


# --------------------------------------------------------------------------- AMC


def parse_amc(text: str, skeleton: ASFSkeleton, source: str = "<amc>") -> dict[str, np.ndarray]:
    """Parse the text of an AMC motion file for `skeleton`.

    Returns name -> (T, n_values) float64 for "root" (values in `root_order`) and every bone
    with dofs (values in its `dof` order). Angles are in the skeleton's angle unit: when the
    AMC's own `:RADIANS`/`:DEGREES` header differs from the ASF, they are converted.

    Raises MocapFormatError for no frames, non-consecutive frame numbers, data before the
    first frame number, an unknown bone, a bone given twice in a frame, a bone with dofs
    missing from a frame, the wrong number of values, a bad or non-finite number, or more
    frames than `source.MAX_FRAMES` (or `MAX_POINT_FRAMES` / (1 + bones)).
    """
    counts = skeleton.dof_counts()
    no_dof = {n for n, b in skeleton.bones.items() if not b.dof}
    rows: dict[str, list[list[str]]] = {n: [] for n in counts}
    row_lines: dict[str, list[int]] = {n: [] for n in counts}
    amc_unit = skeleton.angle_unit
    frame_numbers: list[int] = []
    frame_line = 0
    seen: set[str] = set()
    # Bound the frames by what forward kinematics will allocate (root + every bone per frame).
    points = 1 + len(skeleton.bones)
    max_frames = min(MAX_FRAMES, MAX_POINT_FRAMES // points)

    def close_frame() -> None:
        missing = [n for n in counts if n not in seen]
        if missing:
            raise _err(source, frame_line, f"frame {frame_numbers[-1]}: missing bone(s) {', '.join(missing)}")

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            if frame_numbers:
                raise _err(source, lineno, f"header line {line.split()[0]!r} after the first frame")
            flag = line.split()[0].upper()
            if flag == ":RADIANS":
                amc_unit = "rad"
            elif flag == ":DEGREES":
                amc_unit = "deg"
            continue  # :FULLY-SPECIFIED and the like
        tokens = line.split()
        if len(tokens) == 1 and _FRAME_NUMBER.fullmatch(tokens[0]):
            if len(tokens[0]) > 18:  # int() of thousands of digits fails with its own message
                raise _err(source, lineno, f"frame number {tokens[0][:20]}... is too large")
            number = int(tokens[0])
            if len(frame_numbers) >= max_frames:
                raise _err(
                    source,
                    lineno,
                    f"more than {max_frames} frames for {points} points (the limits are {MAX_FRAMES} frames "
                    f"and {MAX_POINT_FRAMES} point-frames); split the motion",
                )
            if frame_numbers:
                close_frame()
                if number != frame_numbers[-1] + 1:
                    raise _err(source, lineno, f"frame numbers not consecutive: {number} after {frame_numbers[-1]}")
            frame_numbers.append(number)
            frame_line = lineno
            seen = set()
            continue
        name, values = tokens[0], tokens[1:]
        if not frame_numbers:
            raise _err(source, lineno, f"data before the first frame number: {line[:40]!r}")
        frame = frame_numbers[-1]
        if name not in counts:
            if name in no_dof and not values:
                continue  # a bone without dofs may be listed empty
            what = f"bone {name!r} has no dofs but was given values" if name in no_dof else f"unknown bone {name!r}"
            raise _err(source, lineno, f"frame {frame}: {what}")
        if name in seen:
            raise _err(source, lineno, f"frame {frame}: bone {name!r} given twice")
        if len(values) != counts[name]:
            raise _err(source, lineno, f"frame {frame}: bone {name!r} has {len(values)} value(s), expected {counts[name]}")
        seen.add(name)
        rows[name].append(values)
        row_lines[name].append(lineno)

    if not frame_numbers:
        raise _err(source, None, "no frames")
    close_frame()

    first = frame_numbers[0]
    to_file_unit = 1.0
    if amc_unit != skeleton.angle_unit:
        to_file_unit = 180.0 / math.pi if skeleton.angle_unit == "deg" else math.pi / 180.0
    frames: dict[str, np.ndarray] = {}
    for name, n in counts.items():
        try:
            data = np.array(rows[name], dtype=np.float64).reshape(len(frame_numbers), n)  # (T, n)
        except ValueError:
            data = None
        if data is None or not np.all(np.isfinite(data)):
            # Find the first offending row to name its line and frame.
            for t, (vals, ln) in enumerate(zip(rows[name], row_lines[name])):
                try:
                    ok = all(math.isfinite(float(v)) for v in vals)
                except ValueError:
                    raise _err(source, ln, f"frame {first + t}: bad number for bone {name!r}: {' '.join(vals)!r}") from None
                if not ok:
                    raise _err(source, ln, f"frame {first + t}: non-finite value for bone {name!r}: {' '.join(vals)!r}")
        if data is None:  # numpy refused a value that float() accepts: not expected, but say so
            raise _err(source, None, f"bad numbers for bone {name!r}")
        if to_file_unit != 1.0:
            dofs = skeleton.root_order if name == "root" else skeleton.bones[name].dof
            rot = [i for i, d in enumerate(dofs) if d.lower().startswith("r")]
            data[:, rot] *= to_file_unit
        frames[name] = data
    return frames


def read_amc(path: str | os.PathLike, skeleton: ASFSkeleton) -> dict[str, np.ndarray]:
    """Read an AMC file (plain or .gz; Latin-1 so odd header bytes never fail) for `skeleton`."""
    return parse_amc(read_text(path, encoding="latin-1"), skeleton, source=str(path))


# --------------------------------------------------------------------------- kinematics


@np.errstate(over="ignore", invalid="ignore")  # overflow is checked once, on the result
def amc_to_source(skeleton: ASFSkeleton, frames: dict[str, np.ndarray], fps: float, source: str = "<amc>") -> SourceMotion:
    """Forward kinematics: the root and every bone's END point over time, in metres.

    frames: as returned by `parse_amc`. Names are "root" then the bones in ASF order;
    positions are (T, 1 + n_bones, 3) in the file's axes, scaled by INCH / length_scale.
    """
    fps = check_fps(fps, source)  # MIN_FPS..MAX_FPS, as for a BVH's frame time
    counts = skeleton.dof_counts()
    lengths = set()
    for name, n in counts.items():
        if name not in frames:
            raise MocapFormatError(f"{source}: no values for {name!r}")
        arr = np.asarray(frames[name], dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != n:
            raise MocapFormatError(f"{source}: values for {name!r} have shape {arr.shape}, expected (T, {n})")
        if not np.all(np.isfinite(arr)):
            raise MocapFormatError(f"{source}: non-finite values for {name!r}")
        lengths.add(arr.shape[0])
    if len(lengths) > 1:
        raise MocapFormatError(f"{source}: bones have different frame counts {sorted(lengths)}")
    T = lengths.pop() if lengths else 0
    if T == 0:
        raise MocapFormatError(f"{source}: no frames")
    check_size(T, 1 + len(skeleton.bones), source)
    angle = math.pi / 180.0 if skeleton.angle_unit == "deg" else 1.0

    # Root: translation (replaces `position` where given) and rotation W_root = C M C^-1.
    root_vals = np.asarray(frames["root"], dtype=np.float64) if skeleton.root_order else np.zeros((T, 0))
    root_pos = np.broadcast_to(skeleton.root_position, (T, 3)).copy()  # (T, 3) file units
    rot_letters, rot_cols = "", []
    for i, tok in enumerate(skeleton.root_order):
        if tok[0] == "T":
            root_pos[:, _AXIS_INDEX[tok[1].lower()]] = root_vals[:, i]
        else:
            rot_letters += tok[1]
            rot_cols.append(i)
    c_root = fixed_axis_rotation(skeleton.root_orientation, skeleton.root_axis)  # (3, 3)
    m_root = fixed_axis_rotation(root_vals[:, rot_cols] * angle, rot_letters)  # (T, 3, 3)
    world = {"root": c_root @ m_root @ c_root.T}  # name -> (T, 3, 3)
    ends = {"root": root_pos}  # name -> (T, 3) file units

    for name in skeleton.topological_order():
        bone = skeleton.bones[name]
        parent_w, start = world[bone.parent], ends[bone.parent]
        c = fixed_axis_rotation(bone.axis, bone.axis_order)  # (3, 3)
        vals = np.asarray(frames[name], dtype=np.float64) if bone.dof else np.zeros((T, 0))
        letters = "".join(d[1] for d in bone.dof if d[0] == "r")
        rcols = [i for i, d in enumerate(bone.dof) if d[0] == "r"]
        local = c @ fixed_axis_rotation(vals[:, rcols] * angle, letters) @ c.T  # (T, 3, 3)
        tcols = [(i, _AXIS_INDEX[d[1]]) for i, d in enumerate(bone.dof) if d[0] == "t"]
        if tcols:
            t = np.zeros((T, 3))
            for i, a in tcols:
                t[:, a] = vals[:, i]
            start = start + np.einsum("tij,tj->ti", parent_w @ c, t)
        w = parent_w @ local
        world[name] = w
        ends[name] = start + w @ (bone.direction * bone.length)  # (T, 3)

    names = ["root", *skeleton.bones]
    positions = np.stack([ends[n] for n in names], axis=1) * (INCH / skeleton.length_scale)  # (T, P, 3)
    if not np.all(np.isfinite(positions)):
        raise MocapFormatError(
            f"{source}: lengths, positions or translations too large for {skeleton.source} (bone end points overflow)"
        )
    return SourceMotion(names=names, positions=positions, fps=fps, source=source)


def load_asf_amc(asf_path: str | os.PathLike, amc_path: str | os.PathLike, fps: float) -> SourceMotion:
    """Read a skeleton and a motion and return bone end points in metres (see amc_to_source).

    fps is the caller's: AMC files do not store it (HDM05 is 120, CMU 120).
    """
    fps = check_fps(fps, str(amc_path))
    skeleton = read_asf(asf_path)
    frames = read_amc(amc_path, skeleton)
    return amc_to_source(skeleton, frames, fps, source=str(amc_path))
