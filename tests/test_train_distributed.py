"""Data-parallel training through Accelerate: 2 CPU processes (gloo) launched with `accelerate launch`."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _train_toy import make_toy_dataset  # noqa: E402

from ramotion.train.state import ShardedBatchSampler  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_replicas_identical_and_batch_doubled(tmp_path):
    data = make_toy_dataset(tmp_path / "data", n_train=24, n_val=8)
    report = tmp_path / "report"
    report.mkdir()
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        str(Path(__file__).with_name("_train_ddp_script.py")), str(data), str(tmp_path / "run"), str(tmp_path / "cache"), str(report),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (json.loads((report / f"rank{i}.json").read_text()) for i in (0, 1))
    assert r0["world"] == r1["world"] == 2 and r0["step"] == r1["step"] == 3
    assert r0["digest"] == r1["digest"]  # the replicas hold identical weights
    # Each step consumed one global batch of 2 × batch_size distinct items, split over the two
    # processes: the effective batch doubled (3 steps cover all 24 training items once).
    train0, train1 = r0["seen"][:3], r1["seen"][:3]  # later entries are validation batches
    ids = sorted(p.stem for p in (data / "new_joint_vecs").glob("*.npy"))[:24]
    perm = ShardedBatchSampler(24, 4, 2, 0, seed=0).permutation(0)
    for s in range(3):
        assert len(train0[s]) == len(train1[s]) == 4 and not set(train0[s]) & set(train1[s])
        assert sorted(train0[s] + train1[s]) == sorted(ids[i] for i in perm[8 * s : 8 * s + 8])
    assert len({i for b in train0 + train1 for i in b}) == 24
    # One checkpoint, written once, with both processes' RNG states.
    ckpt = tmp_path / "run" / "checkpoints" / "step_00000003"
    assert (ckpt / "rng_rank0.pt").is_file() and (ckpt / "rng_rank1.pt").is_file()
    assert json.loads((ckpt / "trainer_state.json").read_text())["world_size"] == 2
