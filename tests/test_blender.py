"""Real Blender reads our BVH (issue 17): `bpy` (Blender as a Python module, the `blender` extra)
imports each file with the README's settings, and every pose bone's world head, per frame,
must be the joints the user saw: mean < 0.5 cm, max < 2 cm; the frame count and the frame
rate come through. Blender's own export of it comes back through `import_bvh` (z-up, detected).

Blender runs in its own process (tests/_blender_read.py). Skips where bpy is not installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ramotion.mocap.export import export_bvh
from ramotion.mocap.importing import import_bvh
from ramotion.skeleton import HUMANML3D

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None, reason="Blender's Python module (bpy) is not installed: pip install -e '.[blender]' (Python 3.11)"
)
SCRIPT = Path(__file__).with_name("_blender_read.py")
MEAN_CM, MAX_CM = 0.5, 2.0


def blender_check(cases: dict[str, tuple[np.ndarray, float]], tmp_path: Path) -> list[str]:
    """Export each (joints, fps), read it with our reader and with Blender, assert the targets;
    returns one table row per case (BVH vs joints, mean / max cm, ours and Blender's)."""
    paths = {}
    for name, (joints, fps) in cases.items():
        paths[name] = tmp_path / f"{name}.bvh"
        export_bvh(joints, paths[name], fps=fps)
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), *map(str, paths.values())], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = []
    for name, (joints, fps) in cases.items():
        ours, our_fps = import_bvh(paths[name])
        got = np.load(tmp_path / f"{name}.npz")
        heads = got["heads"][:, [list(got["names"]).index(n) for n in HUMANML3D.joint_names]]  # (T, 22, 3) z up
        blender = np.stack([heads[..., 0], heads[..., 2], -heads[..., 1]], axis=-1)  # Blender (x, -z, y) <- BVH (x, y, z)
        assert int(got["frames"]) == len(joints), name
        assert float(got["fps"]) == pytest.approx(fps, abs=1e-6) and our_fps == pytest.approx(fps), name
        dev = {who: np.linalg.norm(x - joints, axis=-1) * 100 for who, x in (("ours", ours), ("blender", blender))}
        rows.append(
            f"| {name} | {len(joints)} @ {fps:g} fps | {dev['ours'].mean():.4f} / {dev['ours'].max():.4f} | {dev['blender'].mean():.4f} / {dev['blender'].max():.4f} |"
        )
        for who, d in dev.items():
            assert d.mean() < MEAN_CM and d.max() < MAX_CM, (name, who, d.mean(), d.max())
        # The round trip: Blender's own export (z up) back through our importer, no manual fix.
        back, back_fps = import_bvh(tmp_path / f"{name}_blender.bvh")
        assert back_fps == pytest.approx(fps, rel=1e-4)
        trip = np.linalg.norm(back - joints, axis=-1) * 100
        assert trip.mean() < MEAN_CM and trip.max() < MAX_CM, (name, "round trip", trip.mean(), trip.max())
    print("\n| motion | frames | ours: mean / max cm | Blender: mean / max cm |\n|---|---|---|---|\n" + "\n".join(rows))
    return rows


def test_blender_reads_the_bundled_models_output_and_a_procedural_motion(tmp_path: Path) -> None:
    from ramotion.pipeline import RAMPipeline, default_model_dir
    from ramotion.synth.corpus import generate_corpus

    cases = {}
    if default_model_dir() is not None:
        motion = RAMPipeline.from_pretrained(device="cpu")("a person walks forward then waves", seconds=4.0, seed=0)[0]
        cases["bundled model"] = (motion.joints.astype(np.float64), motion.fps)  # what the user saw: cleaned
    walk = next(i for i in generate_corpus(20, seed=0) if i.program.actions[0].action == "walk")
    cases["procedural walk"] = (walk.joints, 20.0)
    assert len(blender_check(cases, tmp_path)) == len(cases)


@pytest.mark.shared
def test_blender_reads_real_humanml3d_and_mocap(h3d_samples: Path, mocap_root: Path, tmp_path: Path) -> None:
    from ramotion.mocap.importing import import_motion

    clip, fps = import_motion(mocap_root / "bandai-namco/dataset-2/data/dataset-2_walk_elderly_001.bvh.gz", "bandai-namco")
    cases = {
        "HumanML3D 000000": (np.load(h3d_samples / "new_joints" / "000000.npy").astype(np.float64), 20.0),
        "HumanML3D M010968": (np.load(h3d_samples / "new_joints" / "M010968.npy").astype(np.float64), 20.0),
        "Bandai-Namco walk elderly": (clip[:120], fps),
    }
    assert len(blender_check(cases, tmp_path)) == len(cases)
