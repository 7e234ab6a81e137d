"""L_sr and InfoNCE over the global batch with several processes (issue 18): two CPU processes
(gloo) launched with `accelerate launch --multi_gpu --num_processes 2`, each holding half of a
batch, give the losses and (DDP-averaged) gradients of one process holding all of it."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _losses_ddp_common import CONFIGS, global_batch, tiny_model  # noqa: E402

from ramotion.diffusion import GaussianDiffusion  # noqa: E402
from ramotion.train.losses import ram_loss  # noqa: E402

LATENT_TERMS = ("align", "sr", "latent_smoothl1", "nce")  # rec / gen carry weight 0 here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_process(name: str, rows: slice = slice(None)) -> dict:
    """Terms, total and parameter gradients of one process holding `rows` of the global batch."""
    model = tiny_model()
    motion, mask, text, text_mask = global_batch()
    out = ram_loss(model, GaussianDiffusion(50), motion[rows], mask[rows], text[rows], text_mask[rows], CONFIGS[name])
    out.total.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    return {"total": out.total.detach(), "terms": {k: v.detach() for k, v in out.terms.items()}, "grads": grads}


def per_device_reference(name: str) -> dict:
    """What two processes compute with per-device negatives: each half on its own, averaged (DDP)."""
    halves = [one_process(name, slice(0, 4)), one_process(name, slice(4, 8))]
    return {
        "total": sum(h["total"] for h in halves) / 2,
        "terms": {k: sum(h["terms"][k] for h in halves) / 2 for k in halves[0]["terms"]},
        "grads": {k: sum(h["grads"][k] for h in halves) / 2 for k in halves[0]["grads"]},
    }


def assert_same(got: dict, want: dict, name: str) -> None:
    """Latent terms and the total (means over the processes) and the gradients, to float tolerance."""
    for k in LATENT_TERMS:
        assert (k in got["terms"]) == (k in want["terms"]), (name, k)
        if k in want["terms"]:
            torch.testing.assert_close(got["terms"][k], want["terms"][k], rtol=1e-5, atol=1e-6, msg=f"{name}: term {k}")
    torch.testing.assert_close(got["total"], want["total"], rtol=1e-5, atol=1e-6, msg=f"{name}: total")
    assert set(got["grads"]) == set(want["grads"]), name
    for k, g in want["grads"].items():
        torch.testing.assert_close(got["grads"][k], g, rtol=1e-4, atol=1e-6, msg=f"{name}: gradient of {k}")


def test_two_processes_equal_one_process_on_the_global_batch(tmp_path):
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        str(Path(__file__).with_name("_losses_ddp_script.py")), str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert r0["world"] == r1["world"] == 2
    for name in CONFIGS:
        # Each process's terms are its own rows' share; their mean is the global batch's loss.
        mean = {
            "total": (r0[name]["total"] + r1[name]["total"]) / 2,
            "terms": {k: (v + r1[name]["terms"][k]) / 2 for k, v in r0[name]["terms"].items()},
            "grads": r0[name]["grads"],
        }
        for k, g in r0[name]["grads"].items():  # DDP left the same averaged gradient on both
            torch.testing.assert_close(r1[name]["grads"][k], g, rtol=0, atol=0)
        want = per_device_reference(name) if CONFIGS[name].negatives == "per_device" else one_process(name)
        assert_same(mean, want, name)
    # The per-device setting really is different, so the test tells the two apart.
    assert not torch.allclose(one_process("ours")["terms"]["sr"], per_device_reference("ours_per_device")["terms"]["sr"])
    assert not torch.allclose(one_process("D")["terms"]["nce"], per_device_reference("D_per_device")["terms"]["nce"])
