"""Training: configs, the resumable sampler, exact resume, the CLI verb, checkpoints, curves."""

import gc
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parent))
from _train_toy import make_toy_dataset  # noqa: E402

from ramotion.cli import main as cli_main  # noqa: E402
from ramotion.model import load_model, load_stats  # noqa: E402
from ramotion.train import resolve_config  # noqa: E402
from ramotion.train.config import TrainConfig  # noqa: E402
from ramotion.train.state import ShardedBatchSampler, checkpoint_dirs  # noqa: E402
from ramotion.train.text_features import cached_caption_features  # noqa: E402
from ramotion.train.trainer import latent_retrieval, read_run_config, resume_run, retrieval_at_k, train  # noqa: E402


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    return make_toy_dataset(root / "data", n_train=14, n_val=4)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("text_cache")


@pytest.fixture(scope="module")
def text(cache_dir):
    return cached_caption_features(None, "cpu", cache_dir)


def test_presets_and_variants(tmp_path):
    paper = resolve_config("humanml3d")
    assert (paper.batch_size, paper.lr, paper.steps, paper.model.latent_dim, paper.model.num_diffusion_steps) == (64, 1e-4, 450_000, 256, 50)
    assert (paper.loss.w_align, paper.loss.w_sr, paper.loss.align_lambda, paper.loss.sr_tau, paper.loss.cond_dropout) == (1.0, 0.5, 0.01, 1.0, 0.1)
    kit = resolve_config("kit")
    assert (kit.model.latent_dim, kit.model.feature_dim, kit.steps, kit.skeleton) == (192, 251, 400_000, "kit")
    base = resolve_config("humanml3d", ["variant=baseline"])
    assert base.model.use_motion_encoder is False and base.loss.w_align == 0
    d = resolve_config({"preset": "small", "variant": "D", "loss": {"nce_tau": 0.2}})
    assert d.loss.w_nce == 1.0 and d.loss.nce_tau == 0.2 and d.loss.w_align == 0 and d.model.dim == 128
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"preset": "humanml3d", "model": {"latent_dim": 384}, "loss": {"align_lambda": 0.1, "sr_tau": 2.0}}))
    c = resolve_config(path, ["loss.w_sr=0.1"])
    assert (c.model.latent_dim, c.loss.align_lambda, c.loss.sr_tau, c.loss.w_sr) == (384, 0.1, 2.0, 0.1)
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown loss keys: w_foo"):
        resolve_config({"loss": {"w_foo": 1}})
    with pytest.raises(ValueError, match="unknown variant"):
        resolve_config("humanml3d", ["variant=F"])
    with pytest.raises(ValueError, match="mixed_precision"):
        resolve_config("tiny", ["mixed_precision=fp8"])


def test_sharded_sampler_positions():
    s0, s1 = ShardedBatchSampler(23, 4, 2, 0, seed=3), ShardedBatchSampler(23, 4, 2, 1, seed=3)
    assert s0.batches_per_epoch == 2
    b0, b1 = list(s0), list(s1)
    assert all(len(b) == 4 for b in b0 + b1)
    flat = [i for pair in zip(b0, b1) for b in pair for i in b]
    assert flat == s0.permutation(0)[:16].tolist()  # global batches are consecutive slices
    s0.set_position(0, 1)
    assert list(s0) == b0[1:]
    s0.set_position(1, 0)
    assert list(s0) != b0  # a new epoch, a new order
    with pytest.raises(ValueError, match="fewer than one global batch"):
        ShardedBatchSampler(7, 4, 2, 0)


def test_retrieval_at_k():
    z = torch.randn(64, 8)
    r = retrieval_at_k(z, z)
    assert r["R@1"] == 1.0 and r["chance_R@1"] == 1 / 32
    g = torch.Generator().manual_seed(0)
    r = retrieval_at_k(torch.randn(640, 8, generator=g), torch.randn(640, 8, generator=g))
    assert r["R@1"] < 0.12 and r["R@5"] < 0.3


def _ckpt_tensors(ckpt: Path) -> dict[str, torch.Tensor]:
    out = {f"model.{k}": v for k, v in load_file(str(ckpt / "model.safetensors")).items()}
    if (ckpt / "ema.safetensors").is_file():
        out.update({f"ema.{k}": v for k, v in load_file(str(ckpt / "ema.safetensors")).items()})
    opt = torch.load(ckpt / "optimizer.pt", weights_only=True)
    for pid, st in opt["state"].items():
        for k, v in st.items():
            out[f"opt.{pid}.{k}"] = v
    return out


@pytest.mark.parametrize("precision,workers,accum", [("no", 1, 2), ("bf16", 0, 1)])
def test_exact_resume_is_bitwise(toy, text, tmp_path, precision, workers, accum):
    overrides = ["steps=4", "ckpt_every=100", "val_every=100", f"mixed_precision={precision}", f"num_workers={workers}", f"grad_accum={accum}"]
    cfg = resolve_config("tiny", overrides)
    straight = train(cfg, toy, tmp_path / "a", text_features=text, progress=False)
    assert straight.step == 4
    # Worker processes are shut down when training ends, not left to the garbage collector
    # of whatever process forks next (which cannot stop them and prints a traceback).
    assert not [o for o in gc.get_objects() if type(o).__name__ == "_MultiProcessingDataLoaderIter"]
    part = train(resolve_config("tiny", overrides), toy, tmp_path / "b", stop_after=2, text_features=text, progress=False)
    assert part.step == 2 and [p.name for p in checkpoint_dirs(tmp_path / "b")] == ["step_00000002"]
    state = json.loads((checkpoint_dirs(tmp_path / "b")[0] / "trainer_state.json").read_text())
    assert state["data"]["batch"] > 0 or state["data"]["epoch"] > 0
    resumed = resume_run(tmp_path / "b", text_features=text, progress=False)
    assert resumed.step == 4
    a, b = _ckpt_tensors(checkpoint_dirs(tmp_path / "a")[-1]), _ckpt_tensors(checkpoint_dirs(tmp_path / "b")[-1])
    assert a.keys() == b.keys() and len(a) > 20
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    # The logged training losses of steps 3..4 are identical too (same data, same noise).
    rows = lambda run: [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["split"] == "train" and r["step"] > 2]  # noqa: E731
    assert [r["loss"] for r in rows(tmp_path / "a")] == [r["loss"] for r in rows(tmp_path / "b")]


def test_cli_train_resume_and_outputs(toy, cache_dir, tmp_path, capsys):
    run = tmp_path / "run"
    code = cli_main(["train", "--config", "tiny", "--data", str(toy), "--out", str(run), "--set", "steps=4", "--text-cache", str(cache_dir), "--no-progress", "--stop-after", "2"])
    assert code == 0
    assert cli_main(["train", "--resume", str(run), "--set", "steps=4", "--text-cache", str(cache_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "step 4: model in" in out and "R@1=" in out
    cfg, root = read_run_config(run)
    assert root == Path(toy) and cfg.steps == 4
    model = load_model(run)
    assert model.config.text_dim == 384 and model.config.text_model == "all-MiniLM-L6-v2"
    mean, std = load_stats(run)
    np.testing.assert_array_equal(mean, np.load(toy / "Mean.npy"))
    # The exported weights are the EMA's.
    ema = load_file(str(checkpoint_dirs(run)[-1] / "ema.safetensors"))
    exported = load_file(str(run / "model.safetensors"))
    raw = load_file(str(checkpoint_dirs(run)[-1] / "model.safetensors"))
    k = "denoiser.output_proj.weight"
    assert torch.equal(exported[k], ema[f"module.{k}"]) and not torch.equal(exported[k], raw[k])
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["split"] == "train"] == [1, 2, 3, 4]  # resumed without duplicates
    assert {"rec", "gen", "align", "sr", "steps_per_s", "data_share"} <= set(rows[0])
    assert any(r["split"] == "val" and "R@1" in r for r in rows)
    assert (run / "loss_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Held-out latent retrieval over a split with the exported model.
    from ramotion.data.dataset import MotionTextDataset

    val = MotionTextDataset(toy, "val", mean=mean, std=std)
    r = latent_retrieval(model, val, cached_caption_features(None, "cpu", cache_dir), group=4)
    assert set(r) == {"R@1", "R@5", "chance_R@1", "chance_R@5"} and r["chance_R@1"] == 0.25 and 0.0 <= r["R@1"] <= 1.0
    assert list((run / "logs").rglob("events.out.tfevents.*"))
    # Refusals, one line each.
    assert cli_main(["train", "--config", "tiny", "--data", str(toy), "--out", str(run)]) == 2
    assert cli_main(["train", "--config", "tiny", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r2")]) == 2
    assert cli_main(["train", "--resume", str(run), "--set", "loss.w_sr=0"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "dataset root not found" in err and "only top-level fields" in err


def test_resume_refuses_corrupt_or_unsafe_state(toy, text, tmp_path):
    cfg = resolve_config("tiny", ["steps=2", "ckpt_every=1", "val_every=100"])
    train(cfg, toy, tmp_path / "r", text_features=text, progress=False)
    ckpt = checkpoint_dirs(tmp_path / "r")[-1]
    (ckpt / "optimizer.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt or not a ramotion training state"):
        resume_run(tmp_path / "r", text_features=text, progress=False, overrides={"steps": 3})

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, ckpt / "optimizer.pt")
    with pytest.raises(ValueError, match="corrupt or not a ramotion training state"):
        resume_run(tmp_path / "r", text_features=text, progress=False, overrides={"steps": 3})
    (ckpt / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="corrupt"):
        resume_run(tmp_path / "r", text_features=text, progress=False, overrides={"steps": 3})
    with pytest.raises(FileNotFoundError, match="not a ramotion training run"):
        resume_run(tmp_path, text_features=text, progress=False)
