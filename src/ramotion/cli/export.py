"""`ramotion export INPUT -o OUT.bvh`: a motion as a BVH file (Blender, Maya, MotionBuilder)."""

from __future__ import annotations

import argparse

from .common import UserError, input_path, output_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `export` verb."""
    p = sub.add_parser(
        "export",
        help="export a motion as BVH",
        description=(
            "Write a HumanML3D motion as a BVH: 22 joints with SMPL names, a T-pose rest on the motion's own "
            "skeleton (exact for a motion with fixed bones), root position and joint rotations, y up, metres "
            "(see --scale). INPUT is a .npy of features (T,263) or joints (T,22,3)."
        ),
    )
    p.add_argument("input", help="motion file: .npy features (T,263) or joints (T,22,3)")
    p.add_argument("-o", "--output", required=True, help="output .bvh file")
    p.add_argument("--fps", type=float, default=None, help="resample the motion to this frame rate (default: the motion's own, 20); the duration is kept")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply lengths by this (default 1: metres; 100: centimetres)"
    )
    p.add_argument(
        "--rest",
        choices=("motion", "reference"),
        default="motion",
        help="the file's skeleton: the motion's own (default; the BVH reproduces the joints) or HumanML3D's reference "
        "(the motion retargeted to it, for retargeting onto other rigs)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..mocap.export import deviation, export_bvh
    from ..mocap.source import MAX_FPS, MIN_FPS
    from ..mocap.loading import load_motion
    from ..motion.resample import resample

    src = input_path(args.input)
    out = output_path(args.output, (".bvh",))
    if args.fps is not None and not (MIN_FPS <= args.fps <= MAX_FPS):  # what BVH readers (ours too) accept
        raise UserError(f"--fps must be between {MIN_FPS:g} and {MAX_FPS:g} (BVH frame rates), got {args.fps:g}")
    if not (0 < args.scale < float("inf")):
        raise UserError(f"--scale must be a positive number, got {args.scale}")
    motion = load_motion(src)
    if motion.skeleton.name != "humanml3d":
        raise UserError(f"BVH export needs a HumanML3D motion (22 joints); {src} is {motion.skeleton.name}")
    fps = args.fps if args.fps is not None else motion.fps
    joints = resample(motion.joints, motion.fps, fps)  # (T', 22, 3), same duration
    try:
        bvh = export_bvh(joints, out, fps=fps, scale=args.scale, rest=args.rest)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    # How far the BVH is from the input: 0 for a rigid motion; bones that stretch from frame
    # to frame cannot be written exactly (one length per bone; see ramotion.mocap.export).
    dev = deviation(bvh, joints, scale=args.scale)
    resampled = f" (resampled from {len(motion.joints)} frames at {motion.fps:g} fps)" if abs(fps - motion.fps) > 1e-9 else ""
    print(
        f"wrote {out}: {bvh.num_frames} frames at {fps:g} fps{resampled}, {len(bvh.names)} joints "
        f"(joint deviation from the input: mean {dev.mean() * 100:.2f} cm, max {dev.max() * 100:.2f} cm)"
    )
    return 0
