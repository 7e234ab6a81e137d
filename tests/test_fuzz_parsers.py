"""Bounded property-based fuzzing of the motion-file parsers and of features_to_joints.

Every input either parses or raises the module's own clean error (one line, a ValueError
subclass: BVHFormatError / MocapFormatError; TypeError or ValueError for features_to_joints),
never an IndexError, KeyError, AssertionError, MemoryError or a numpy/torch error; and what
parses is sound (fps within the readers' bounds, finite values and positions). The inputs
are real-looking seeds (a BVH written by `mocap.export`, the synthetic ASF/AMC of
tests/test_asf_amc.py, features of a rigid motion) put through hypothesis-drawn mutations:
truncation, deleted/duplicated/swapped/inserted lines, tokens and numbers replaced by huge,
tiny, NaN or garbage ones, and byte flips through the file readers.

Fixed seed (derandomize), no example database, small max_examples: the three tests together
take a few seconds. For a longer session set RAMOTION_FUZZ_EXAMPLES, or run `check_bvh`,
`check_amc` and `check_features` under @given with a large max_examples outside the suite.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from datetime import timedelta

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis", reason="the `hypothesis` test dependency is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ramotion.mocap import bvh as BF  # noqa: E402
from ramotion.mocap import export as BE  # noqa: E402
from ramotion.mocap.asf_amc import _is_number, amc_to_source, parse_amc, parse_asf, read_amc, read_asf  # noqa: E402
from ramotion.mocap.source import MAX_FPS, MAX_FRAMES, MIN_FPS, MocapFormatError  # noqa: E402
from ramotion.motion.features import features_to_joints, joints_to_features  # noqa: E402
from ramotion.skeleton import HUMANML3D, KIT  # noqa: E402

from .test_asf_amc import POSE, REST, make_amc, make_asf  # noqa: E402
from .test_bvh import rigid_motion  # noqa: E402

SETTINGS = settings(
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    database=None,  # no example database (hypothesis still caches under its self-ignored .hypothesis/)
    max_examples=int(os.environ.get("RAMOTION_FUZZ_EXAMPLES", "300")),
    deadline=timedelta(seconds=3),  # per example; a quadratic blow-up shows as a deadline error
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Tokens that broke or could break a parser: huge, tiny, non-finite, non-ASCII digits,
# underscores, hex, structure keywords and braces.
GARBAGE = [
    "nan", "NaN", "inf", "-inf", "1e999", "-1e999", "1e-320", "1e308", "-1e308", "3.4e38", "1e6",
    "0", "-0", "-1", "+1", "100000000", "99999999999999999999", "9" * 5000, "1_0", "\u00b2", "\u0663",
    "0x10", "1d5", "x", "", "{", "}", "(", ")", ",", "#", ":", "MOTION", "ROOT", "JOINT", "End", "Site",
    "OFFSET", "CHANNELS", "Frames:", "Frame Time:", "begin", "end", "root", ":root", ":bonedata",
    ":hierarchy", ":units", "dof", "axis", "length", "direction", "order", "rx", "l", "XYZ", "XXY",
]

# Lines whose value a "keyword" mutation replaces (BVH headers, ASF fields, AMC bone lines).
KEYWORDS = [
    "Frames:", "Frame Time:", "CHANNELS", "OFFSET", "End Site", "ROOT", "JOINT", "length", "angle", "order",
    "axis", "position", "orientation", "direction", "dof", "limits", "name", "root", "a", "c",
]
_token = st.one_of(st.sampled_from(GARBAGE), st.text(max_size=8))
_index = st.integers(min_value=0, max_value=10**6)
_OP = st.one_of(
    st.tuples(st.just("delete"), _index),
    st.tuples(st.just("duplicate"), _index, st.integers(1, 3)),
    st.tuples(st.just("swap"), _index, _index),
    st.tuples(st.just("insert"), _index, st.one_of(st.sampled_from(GARBAGE), st.text(max_size=30))),
    st.tuples(st.just("token"), _index, _index, _token),
    st.tuples(st.just("number"), _index, _token),
    st.tuples(st.just("number"), _index, _token),  # twice: numbers are where the values live
    st.tuples(st.just("keyword"), _index, st.sampled_from(KEYWORDS), _token),
    st.tuples(st.just("keep"), _index),  # truncation at a line boundary
)


def _spread(n: int, size: int) -> int:
    """An index in range(size) from a drawn integer; scrambled, because hypothesis favours 0
    and small numbers, which would keep hitting the first line."""
    return (n * 2654435761 + 40503) % size


def mutate(text: str, ops: list[tuple], cut: int | None) -> str:
    """Apply line/token mutations to text, then optionally truncate it (cut: a drawn integer,
    spread over the text's length)."""
    lines = text.splitlines()
    for op in ops:
        if not lines:
            lines = [""]
        kind, i = op[0], _spread(op[1], len(lines))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines[i:i] = [lines[i]] * op[2]
        elif kind == "swap":
            j = _spread(op[2], len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "keep":
            lines = lines[: i + 1]
        elif kind == "insert":
            lines.insert(i, op[2])
        elif kind == "token":
            tokens = lines[i].split()
            if tokens:
                tokens[_spread(op[2], len(tokens))] = op[3]
                lines[i] = " ".join(tokens)
            else:
                lines[i] = op[3]
        elif kind == "number":  # the i-th numeric token of the whole text
            spots = [(li, ti) for li, line in enumerate(lines) for ti, tok in enumerate(line.split()) if _is_number(tok)]
            if spots:
                li, ti = spots[_spread(op[1], len(spots))]
                tokens = lines[li].split()
                tokens[ti] = op[2]
                lines[li] = " ".join(tokens)
        elif kind == "keyword":  # the value after a keyword, on the i-th line starting with it
            spots = [li for li, line in enumerate(lines) if line.strip().startswith(op[2] + " ") or line.strip() == op[2]]
            if spots:
                li = spots[_spread(op[1], len(spots))]
                lines[li] = f"{lines[li].split(op[2])[0]}{op[2]} {op[3]}"
    out = "\n".join(lines) + "\n"
    if cut is not None:
        out = out[: _spread(cut, len(out) + 1)]
    return out


def flip_bytes(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    """data with the byte at each (position mod len) replaced."""
    buf = bytearray(data)
    for pos, value in flips:
        if buf:
            buf[_spread(pos, len(buf))] = value
    return bytes(buf)


_BYTE = st.one_of(st.integers(0, 255), st.sampled_from(b"0123456789.-+eE \t\n{}:#"))


def _sometimes(strategy: st.SearchStrategy, one_in: int = 4) -> st.SearchStrategy:
    """None most of the time, else a draw from strategy (so most inputs reach deep code)."""
    return st.tuples(st.integers(0, one_in - 1), strategy).map(lambda t: t[1] if t[0] == 0 else None)


mutations = st.tuples(
    st.lists(_OP, min_size=0, max_size=4),
    _sometimes(_index),  # truncation
    _sometimes(st.lists(st.tuples(_index, _BYTE), min_size=1, max_size=3)),  # byte flips, through the readers
)

# ----------------------------------------------------------------------------- seeds

BVH_SEED = BE.motion_to_bvh(rigid_motion(T=3)).to_text()
ASF_SEED = make_asf()
AMC_SEED = make_amc([POSE, REST, POSE])
FEATURES_SEED = joints_to_features(rigid_motion(T=6)).astype(np.float32)  # (5, 263)


def _one_line(exc: BaseException) -> None:
    assert "\n" not in str(exc), f"error message spans lines: {exc!r}"


def _write(data: bytes, suffix: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def check_bvh(mutation: tuple) -> bool:
    """Parse a mutated BVH (as text, or as bytes through read_bvh) and run its forward
    kinematics; True when it parsed into a sound motion (fps in bounds, finite values and
    positions), False on a clean BVHFormatError; anything else raises."""
    ops, cut, flips = mutation
    text = mutate(BVH_SEED, ops, cut)
    try:
        if flips is None:
            motion = BF.parse_bvh(text, "fuzz.bvh")
        else:
            data = flip_bytes(text.encode(), flips)
            gz = flips[0][1] % 2 == 1  # half of them through gzip
            path = _write(gzip.compress(data) if gz else data, ".bvh.gz" if gz else ".bvh")
            try:
                motion = BF.read_bvh(path)
            finally:
                os.unlink(path)
        source = BF.bvh_source(motion, "fuzz.bvh")
    except BF.BVHFormatError as exc:
        _one_line(exc)
        return False
    # What parsed must be sound, not garbage passed on.
    assert MIN_FPS <= source.fps <= MAX_FPS
    assert motion.values.shape == (motion.num_frames, sum(len(c) for c in motion.channels)) and motion.num_frames <= MAX_FRAMES
    assert np.isfinite(motion.values).all() and np.isfinite(source.positions).all()
    return True


def check_amc(mutation: tuple, target: str) -> bool:
    """Parse a mutated ASF or AMC (target "asf" / "amc") and run forward kinematics; True when
    it parsed into finite positions, False on a clean MocapFormatError; anything else raises."""
    ops, cut, flips = mutation
    asf = mutate(ASF_SEED, ops, cut) if target == "asf" else ASF_SEED
    amc = mutate(AMC_SEED, ops, cut) if target == "amc" else AMC_SEED
    try:
        if flips is None:
            skeleton = parse_asf(asf, "fuzz.asf")
            frames = parse_amc(amc, skeleton, "fuzz.amc")
        else:
            asf_path = _write(flip_bytes(asf.encode(), flips) if target == "asf" else asf.encode(), ".asf")
            amc_path = _write(flip_bytes(amc.encode(), flips) if target == "amc" else amc.encode(), ".amc")
            try:
                skeleton = read_asf(asf_path)
                frames = read_amc(amc_path, skeleton)
            finally:
                os.unlink(asf_path)
                os.unlink(amc_path)
        source = amc_to_source(skeleton, frames, 120.0, "fuzz.amc")
    except MocapFormatError as exc:
        _one_line(exc)
        return False
    assert 1 <= source.num_frames <= MAX_FRAMES and source.positions.shape == (source.num_frames, 1 + len(skeleton.bones), 3)
    assert np.isfinite(source.positions).all()
    return True


# features_to_joints: a real-looking (5, 263) seed, then a dtype, a shape change, poked values,
# a skeleton argument and lengths, each drawn.
# Valid choices repeated, so that most inputs get past the type checks to the values.
_DTYPES = ["float32"] * 4 + ["float64"] * 3 + ["float16", "int32", "uint8", "bool", "complex64", "str", "object"]
_SKELETONS = [None] * 6 + ["humanml3d", "t2m", "kit", "KIT", "bogus", 3, 1.5, b"kit", HUMANML3D, KIT, ["kit"]]
_VALUES = [np.nan, np.inf, -np.inf, 1e38, 3.4e38, -3.4e38, 1e308, 1e-45, 0.0, 1e6, -1e20]

feature_inputs = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(_DTYPES),
        "torch": st.booleans(),
        "batch": st.one_of(st.none(), st.integers(0, 3)),
        "frames": st.integers(0, 5),
        "dim": st.sampled_from([263, 263, 263, 251, 100, 0, 1]),
        "pokes": st.lists(st.tuples(_index, st.sampled_from(_VALUES)), max_size=4),
        "skeleton": st.sampled_from(range(len(_SKELETONS))),
        "lengths": st.one_of(
            st.none(),
            st.just("valid"),
            st.lists(st.integers(-3, 8), max_size=4),
            st.lists(st.floats(allow_nan=True), max_size=3),
            st.sampled_from(["bad", "torch-ints", "bools", "2d"]),
        ),
    }
)


def check_features(spec: dict) -> bool:
    """features_to_joints on a drawn input; True when it returned finite joints of the right
    shape, False on a clean TypeError/ValueError; anything else raises."""
    base = FEATURES_SEED[: spec["frames"]]
    dim = spec["dim"]
    base = np.pad(base, ((0, 0), (0, max(0, dim - 263))))[:, :dim] if dim != 263 else base.copy()
    if spec["batch"] is not None:
        base = np.repeat(base[None], spec["batch"], axis=0)
    flat = base.reshape(-1)
    with np.errstate(over="ignore"):  # 1e308 into float32 is inf, which is the point
        for pos, value in spec["pokes"]:
            if flat.size:
                flat[pos % flat.size] = value
    features: object
    if spec["dtype"] == "str":
        features = base.astype(str)
    elif spec["dtype"] == "object":
        features = base.astype(object)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            features = base.astype(spec["dtype"])
    if spec["torch"] and spec["dtype"] not in ("str", "object", "uint8", "float16"):
        features = torch.as_tensor(features)
    lengths = spec["lengths"]
    batch = base.shape[0] if base.ndim == 3 else 1
    if lengths == "valid":
        lengths = np.arange(batch) % (base.shape[1] + 1) if base.ndim == 3 else None
    elif lengths == "torch-ints":
        lengths = torch.arange(batch)
    elif lengths == "bools":
        lengths = np.ones(batch, dtype=bool)
    elif lengths == "2d":
        lengths = np.ones((batch, 1), dtype=np.int64)
    try:
        out = features_to_joints(features, _SKELETONS[spec["skeleton"]], lengths=lengths)
    except (TypeError, ValueError) as exc:
        _one_line(exc)
        return False
    out_arr = out.numpy() if isinstance(out, torch.Tensor) else out
    assert out_arr.shape[:-2] == base.shape[:-1] and out_arr.shape[-1] == 3
    assert np.isfinite(out_arr).all()
    return True


# ----------------------------------------------------------------------------- the tests


@SETTINGS
@given(mutations)
def test_fuzz_bvh_parser(mutation: tuple) -> None:
    check_bvh(mutation)


@SETTINGS
@given(mutations, st.sampled_from(["asf", "amc"]))
def test_fuzz_asf_amc_parser(mutation: tuple, target: str) -> None:
    check_amc(mutation, target)


@SETTINGS
@given(feature_inputs)
def test_fuzz_features_to_joints(spec: dict) -> None:
    check_features(spec)


def test_fuzz_seeds_are_valid() -> None:
    """The unmutated seeds parse (otherwise the fuzz tests only exercise the first error)."""
    assert check_bvh(([], None, None))
    assert check_amc(([], None, None), "asf") and check_amc(([], None, None), "amc")
    spec = {"dtype": "float32", "torch": False, "batch": None, "frames": 5, "dim": 263, "pokes": [], "skeleton": 0, "lengths": None}
    assert check_features(spec)
