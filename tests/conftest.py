"""Shared fixtures: the real data in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RAMOTION_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when it is not there."""
    if not (SHARED_DATA / "humanml3d" / "samples").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set RAMOTION_SHARED_DATA to its path)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def h3d_samples(shared_data: Path) -> Path:
    """The folder with the 7 real HumanML3D samples (new_joint_vecs, new_joints, texts)."""
    return shared_data / "humanml3d" / "samples"


@pytest.fixture(scope="session")
def mocap_root() -> Path:
    """Path to ../shared/data/mocap (Bandai-Namco, HDM05, CMU); skips the test when it is not there."""
    root = SHARED_DATA / "mocap"
    if not (root / "NOTICE.md").is_file():
        pytest.skip(f"real motion capture not found at {root} (set RAMOTION_SHARED_DATA to the shared data folder)")
    return root
