"""`ramotion import-bvh IN.bvh -o joints.npy`: joint positions (T, 22, 3) from a BVH file."""

from __future__ import annotations

import argparse

import numpy as np

from .common import UserError, input_path, output_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `import-bvh` verb."""
    p = sub.add_parser(
        "import-bvh",
        help="import a BVH as HumanML3D joint positions (.npy)",
        description=(
            "Read a BVH (one written by `ramotion export`, or any mocap with --joint-map) and save its "
            "22 HumanML3D joint positions, (T, 22, 3) float32, y up, metres."
        ),
    )
    p.add_argument("input", help="input .bvh or .bvh.gz file")
    p.add_argument("-o", "--output", required=True, help="output .npy file")
    p.add_argument(
        "--joint-map",
        default=None,
        help="a built-in skeleton preset (bandai-namco, hdm05, cmu-bvh) or a JSON joint map "
        '({"joints": {"pelvis": "Hips", ...}, "scale": 0.01, "up": "y"}; see docs/mocap.md); '
        'End Sites are named "<joint>_End". Default: ramotion\'s own joint names',
    )
    p.add_argument("--scale", type=float, default=None, help="multiply positions by this (default: the map's, else 1)")
    p.add_argument("--fps", type=float, default=None, help="resample to this frame rate (default: keep the file's)")
    p.add_argument(
        "--up-axis",
        default=None,
        choices=("auto", "y", "z", "-y", "-z", "x", "-x"),
        help="the file's up axis (default: the joint map's; for ramotion's own names and maps that name none, "
        "detected from the rest pose, so Blender's Z-up exports come in standing)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io_utils import save_npy
    from ..mocap.importing import import_bvh
    from ..mocap.presets import PRESETS

    src = input_path(args.input)
    if not src.name.lower().endswith((".bvh", ".bvh.gz")):
        raise UserError(f"expected a .bvh or .bvh.gz input file, got {src}")
    out = output_path(args.output, (".npy",))
    joint_map = args.joint_map
    if joint_map is not None and joint_map not in PRESETS:
        joint_map = input_path(joint_map)
    if args.fps is not None and not (0 < args.fps <= 1000):
        raise UserError(f"--fps must be above 0 and at most 1000, got {args.fps:g}")
    if args.scale is not None and not (0 < args.scale < float("inf")):
        raise UserError(f"--scale must be a positive number, got {args.scale}")
    joints, fps = import_bvh(src, joint_map, scale=args.scale, fps=args.fps, up=args.up_axis)
    try:
        save_npy(out, joints.astype(np.float32))
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: {joints.shape[0]} frames at {fps:g} fps, shape {tuple(joints.shape)}")
    return 0
