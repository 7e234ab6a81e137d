"""`ramotion render INPUT -o OUT.mp4|OUT.gif`: a stick-figure animation of a motion."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import UserError, input_path, output_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `render` verb."""
    p = sub.add_parser(
        "render",
        help="render a motion to an MP4 or GIF stick-figure animation",
        description=(
            "Render a motion as a 3D stick figure (floor, root trajectory, left limbs blue, right limbs red). "
            "INPUT is a .npy of features (T,263)/(T,251) or joints (T,22|21,3), or a ramotion .bvh."
        ),
    )
    p.add_argument("input", help="motion file: .npy features or joints, or .bvh")
    p.add_argument("-o", "--output", required=True, help="output file, .mp4 or .gif")
    p.add_argument(
        "--caption",
        default=None,
        help="title text (default: for ROOT/new_joint_vecs/ID.npy, the first caption in ROOT/texts/ID.txt, if any)",
    )
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: the motion's, 20 for HumanML3D)")
    p.add_argument("--size", type=int, default=480, help="frame width and height in pixels (default 480)")
    p.set_defaults(func=run)


def dataset_caption(path: Path) -> str | None:
    """The first caption of a HumanML3D motion (ROOT/new_joint_vecs/ID.npy -> ROOT/texts/ID.txt), if present."""
    if path.parent.name not in ("new_joint_vecs", "new_joints"):
        return None
    text = path.parent.parent / "texts" / f"{path.stem}.txt"
    try:
        first = text.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return first.split("#", 1)[0].strip() or None


def run(args: argparse.Namespace) -> int:
    from ..mocap.loading import load_motion
    from ..viz.render import FORMATS, render_motion

    src = input_path(args.input)
    out = output_path(args.output, FORMATS)
    if args.fps is not None and not (0 < args.fps <= 1000):
        raise UserError(f"--fps must be above 0 and at most 1000, got {args.fps:g}")
    if not 64 <= args.size <= 4096:
        raise UserError(f"--size must be between 64 and 4096 pixels, got {args.size}")
    motion = load_motion(src)
    caption = args.caption if args.caption is not None else dataset_caption(src)
    fps = args.fps if args.fps is not None else motion.fps
    try:
        count = render_motion(motion.joints, out, caption=caption, fps=fps, skeleton=motion.skeleton, size=args.size)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: {count} frames at {fps:g} fps ({motion.kind}, {motion.skeleton.name})")
    return 0
