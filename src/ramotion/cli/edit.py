"""`ramotion edit`: change a motion you have -- in-between, continue, or re-generate a body part.

    ramotion edit --mode inbetween "a person jumps" -i walk.npy --keep-first 1 --keep-last 1 -o jump.mp4
    ramotion edit --mode continue "a person sits down" -i walk.bvh --seconds 3 -o sit.bvh
    ramotion edit --mode body-part "a person waves with the right hand" -i walk.npy --part right_arm -o wave.gif

The source is a `.npy` of joints (T, 22, 3) or HumanML3D features (T, 263), or a BVH (read as
`ramotion import-bvh` reads it). Outputs are those of `generate` (.npy / .bvh / .mp4 / .gif).
What each mode keeps, and what is guaranteed, is docs/editing.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .common import UserError, input_path

MODES = ("inbetween", "continue", "body-part")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `edit` verb."""
    p = sub.add_parser(
        "edit",
        help="edit a motion: in-between kept frames, continue it, or re-generate a body part",
        description=(
            "Edit a motion by diffusion inpainting: the kept part of the source is imposed at every denoising "
            "step and the rest is generated from TEXT. The source is a .npy (joints (T, 22, 3) or HumanML3D "
            "features (T, 263)) or a .bvh; the output is .mp4, .gif, .bvh or .npy as with `generate`."
        ),
    )
    p.add_argument("text", help="what the edited motion should show, e.g. 'a person waves with the right hand'")
    p.add_argument("--mode", required=True, choices=MODES, help="inbetween: generate between kept frames; continue: add frames after the source; body-part: re-generate body parts")
    p.add_argument("-i", "--input", required=True, help="source motion: .npy (joints or features) or .bvh / .bvh.gz")
    p.add_argument("-o", "--output", required=True, help="output file: .mp4, .gif (stick figure), .bvh or .npy (joints (T, 22, 3))")
    p.add_argument("--keep-first", type=float, default=None, metavar="SECONDS", help="inbetween: seconds kept at the source's start (default 1)")
    p.add_argument("--keep-last", type=float, default=None, metavar="SECONDS", help="inbetween: seconds kept at the source's end (default 1)")
    p.add_argument("--keep", default=None, metavar="RANGES", help="inbetween: source frames kept in place instead, half-open ranges like 0:20,100:120")
    p.add_argument("--free-end", action="store_true", help="inbetween: the kept end keeps its pose but not its place in the world (default: it keeps both)")
    p.add_argument("--blend", type=float, default=0.5, metavar="SECONDS", help="blend each join between kept and generated frames over up to this long (default 0.5; 0: MDM's plain imposition)")
    p.add_argument("--seconds", type=float, default=None, help="continue: how long to continue (default 2); inbetween: the result's length (default the source's)")
    p.add_argument("--part", default=None, help="body-part: parts to re-generate, comma-separated: upper_body, lower_body, left_arm, right_arm, left_leg, right_leg, torso, root (default upper_body)")
    p.add_argument("--joint-map", default=None, help="BVH sources: a skeleton preset (bandai-namco, hdm05, cmu-bvh) or a JSON joint map (see `ramotion import-bvh`)")
    p.add_argument("--source-fps", type=float, default=None, help="frame rate of a .npy joints source (default: the model's, 20); BVH files carry their own")
    p.add_argument("--seed", type=int, default=0, help="random seed; edit i uses seed+i (default 0)")
    p.add_argument("--num", type=int, default=1, help="how many edits to make (default 1; files get _00, _01, ... suffixes)")
    p.add_argument("--model", metavar="DIR", default=None, help="model folder or training run (default: the bundled model)")
    p.add_argument("--text-model", metavar="PATH", default=None, help="local copy of the text model the RAM model was trained with")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    p.add_argument("--w-reg", type=float, default=None, help="REG weight w_r (default: the model's; 0 turns REG off)")
    p.add_argument("--w-cfg", type=float, default=None, help="classifier-free guidance weight w_c (default: the model's)")
    p.add_argument("--reg-steps", default=None, help="where REG runs: all, none, first:K, or timesteps like 46,44 (default: the model's)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="compute precision (default auto)")
    p.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda (default: cuda if available)")
    p.add_argument("--npy", choices=("joints", "features"), default="joints", help="what .npy outputs hold (default joints)")
    p.add_argument("--fps", type=float, default=None, help="resample the written joints, BVH or video to this frame rate (default: the model's)")
    p.add_argument("--cleanup", action="store_true", help="apply the model's foot cleanup (off by default: it moves the kept frames too)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    """Cheap checks before any file or model is loaded: options that do not belong to the mode."""
    from ..outputs import check_output_path

    if not args.text.strip():
        raise UserError("the prompt is empty: describe the motion, e.g. 'a person waves with the right hand'")
    wrong = {
        "inbetween": [("--part", args.part)],
        "continue": [("--keep-first", args.keep_first), ("--keep-last", args.keep_last), ("--keep", args.keep), ("--part", args.part), ("--free-end", args.free_end or None)],
        "body-part": [("--keep-first", args.keep_first), ("--keep-last", args.keep_last), ("--keep", args.keep), ("--seconds", args.seconds), ("--free-end", args.free_end or None)],
    }[args.mode]
    for flag, value in wrong:
        if value is not None:
            raise UserError(f"{flag} does not go with --mode {args.mode}")
    if args.keep is not None and (args.keep_first is not None or args.keep_last is not None or args.seconds is not None):
        raise UserError("--keep keeps source frames in place: leave out --keep-first, --keep-last and --seconds")
    if args.num < 1:
        raise UserError(f"--num must be at least 1, got {args.num}")
    for flag, value in (("--fps", args.fps), ("--source-fps", args.source_fps)):
        if value is not None and not (0 < value <= 1000):
            raise UserError(f"{flag} must be above 0 and at most 1000, got {value:g}")
    if args.fps is not None and args.npy == "features" and args.output.lower().endswith(".npy"):
        raise UserError("--fps resamples joints; features keep the model's frame rate (drop --fps or use --npy joints)")
    check_output_path(args.output)


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """'0:20,100:120' -> [(0, 20), (100, 120)] (half-open frame ranges), or a UserError."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        bits = part.split(":")
        if len(bits) != 2 or not all(b.strip().isdigit() for b in bits):
            raise UserError(f"bad --keep range {part!r}: expected START:STOP frame numbers, e.g. 0:20,100:120")
        out.append((int(bits[0]), int(bits[1])))
    return out


def read_source(path: Path, fps: float, joint_map: str | None, source_fps: float | None) -> np.ndarray:
    """The source motion as an array the pipeline takes: features (T, D) or joints (T, J, 3) at `fps`
    (`mocap.loading.read_edit_source`, which the web server's uploads use too)."""
    from ..mocap.presets import PRESETS
    from ..mocap.loading import read_edit_source

    if joint_map is not None and joint_map not in PRESETS and path.name.lower().endswith((".bvh", ".bvh.gz")):
        joint_map = str(input_path(joint_map))
    return read_edit_source(path, fps, joint_map=joint_map, source_fps=source_fps, option_names=("--joint-map", "--source-fps"))


def run(args: argparse.Namespace) -> int:
    from ..motion.parts import BODY_PARTS
    from ..outputs import check_output_path, numbered_path
    from ..sampling import parse_reg_steps
    from .generate import _load

    _check_args(args)
    src_path = input_path(args.input)
    keep_ranges = parse_ranges(args.keep) if args.keep is not None else None
    parts = [p.strip() for p in (args.part or "upper_body").split(",") if p.strip()]
    unknown = [p for p in parts if p not in BODY_PARTS]
    if unknown or not parts:
        raise UserError(f"unknown --part {', '.join(unknown) or '(none)'}: expected some of {', '.join(BODY_PARTS)}")
    reg_steps = parse_reg_steps(args.reg_steps) if args.reg_steps is not None else None
    pipe = _load(args)
    source = read_source(src_path, float(pipe.skeleton.fps), args.joint_map, args.source_fps)
    options = dict(
        seed=args.seed, steps=args.steps, w_reg=args.w_reg, w_cfg=args.w_cfg, reg_steps=reg_steps,
        progress=not args.quiet, cleanup=True if args.cleanup else False, batch_size=32, blend_seconds=args.blend,
    )  # fmt: skip
    prompts = [args.text] * args.num
    if args.mode == "inbetween":
        first = 1.0 if args.keep_first is None else args.keep_first
        last = 1.0 if args.keep_last is None else args.keep_last
        motions = pipe.inbetween(prompts, source, keep_first=first, keep_last=last, keep_frames=keep_ranges, seconds=args.seconds, keep_world=not args.free_end, **options)
    elif args.mode == "continue":
        motions = pipe.continue_motion(prompts, source, seconds=args.seconds, **options)
    else:
        motions = pipe.edit_body_part(prompts, source, parts, **options)
    out = check_output_path(args.output)
    for i, m in enumerate(motions):
        path = m.save(numbered_path(out, i, args.num), npy=args.npy, fps=args.fps)
        if not args.quiet:
            print(f"wrote {path} ({m.num_frames} frames, {m.seconds:.2f} s, seed {m.seed})")
    return 0
