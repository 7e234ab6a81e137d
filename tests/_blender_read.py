"""Run by tests/test_blender.py in its own process (bpy and torch each bring their own native
libraries): import each BVH into Blender as the README says, read every pose bone's world
head position per frame, and export it back with Blender's own exporter.

    python tests/_blender_read.py OUT_DIR IN.bvh [IN.bvh ...]

Writes OUT_DIR/<stem>.npz (heads (T, B, 3) in Blender's z-up world, names, fps, frames) and
OUT_DIR/<stem>_blender.bvh.
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy
import numpy as np


def read(path: Path, out: Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    # The README's settings: scale 1 (metres), forward -Z, up Y, update scene fps and duration.
    bpy.ops.import_anim.bvh(
        filepath=str(path), global_scale=1.0, axis_forward="-Z", axis_up="Y", update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE"
    )
    obj, scene = bpy.context.object, bpy.context.scene
    first, last = (int(round(f)) for f in obj.animation_data.action.frame_range)
    heads = []
    for frame in range(first, last + 1):
        scene.frame_set(frame)
        heads.append([tuple(obj.matrix_world @ bone.head) for bone in obj.pose.bones])
    np.savez(
        out / f"{path.stem}.npz",
        heads=np.asarray(heads, dtype=np.float64),
        names=np.asarray([bone.name for bone in obj.pose.bones]),
        fps=scene.render.fps / scene.render.fps_base,
        frames=last - first + 1,
        scene_end=scene.frame_end,
    )
    bpy.ops.export_anim.bvh(filepath=str(out / f"{path.stem}_blender.bvh"), global_scale=1.0, frame_start=first, frame_end=last, rotate_mode="NATIVE")


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    for arg in sys.argv[2:]:
        read(Path(arg), out_dir)
