"""RAMPipeline: save/load, generation, seeds, padding invariance, outputs and bad input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.cli.prompts import iter_prompt_file
from ramotion.outputs import MotionBatch
from ramotion.pipeline import RAMPipeline
from ramotion.runtime import cpu_has_fast_bf16, resolve_dtype

TINY = dict(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64)


def tiny_pipeline(use_motion_encoder: bool = True, text_encoder=None) -> RAMPipeline:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=263).astype(np.float32) * 0.1, rng.uniform(0.05, 0.2, 263).astype(np.float32)
    return RAMPipeline(RAM(RAMConfig(use_motion_encoder=use_motion_encoder, **TINY)), Normalizer(mean, std), text_encoder, device="cpu")


@pytest.fixture(scope="module")
def text_encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, text_encoder) -> Path:
    out = tmp_path_factory.mktemp("tiny_model")
    tiny_pipeline(text_encoder=text_encoder).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def pipe(model_dir: Path, text_encoder) -> RAMPipeline:
    return RAMPipeline.from_pretrained(model_dir, device="cpu", text_encoder=text_encoder)


def test_save_and_load_round_trip(model_dir: Path, pipe: RAMPipeline, tmp_path: Path) -> None:
    assert {"config.json", "model.safetensors", "stats.safetensors"} <= {p.name for p in model_dir.iterdir()}
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model"]["text_model"] == "all-MiniLM-L6-v2"  # the text-model reference
    reference = tiny_pipeline()
    for (name, a), (_, b) in zip(reference.model.state_dict().items(), pipe.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(pipe.normalizer.std, reference.normalizer.std)
    pipe.save_pretrained(tmp_path / "again")
    again = RAMPipeline.from_pretrained(tmp_path / "again", device="cpu", text_encoder=pipe.text_encoder)
    assert torch.equal(again.model.denoiser.output_proj.weight, pipe.model.denoiser.output_proj.weight)


def test_npy_stats_are_accepted(model_dir: Path, tmp_path: Path, pipe: RAMPipeline) -> None:
    folder = tmp_path / "npy_stats"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_bytes((model_dir / name).read_bytes())
    np.save(folder / "Mean.npy", pipe.normalizer.mean.numpy())
    np.save(folder / "Std.npy", pipe.normalizer.std.numpy())
    loaded = RAMPipeline.from_pretrained(folder, device="cpu", text_encoder=pipe.text_encoder)
    assert torch.equal(loaded.normalizer.mean, pipe.normalizer.mean)
    (folder / "Std.npy").unlink()
    with pytest.raises(FileNotFoundError, match="no normalisation stats"):
        RAMPipeline.from_pretrained(folder, device="cpu", text_encoder=pipe.text_encoder)


def test_generate_shapes_lengths_and_seeds(pipe: RAMPipeline) -> None:
    motions = pipe(["a person walks forward", "a person jumps"], seconds=[3.0, 2.0], seed=5)
    assert isinstance(motions, MotionBatch) and len(motions) == 2
    assert [f.shape for f in motions.features] == [(60, 263), (40, 263)]
    assert [j.shape for j in motions.joints] == [(60, 22, 3), (40, 22, 3)]
    assert [m.seed for m in motions] == [5, 6] and motions[0].fps == 20.0
    assert all(np.isfinite(f).all() for f in motions.features)
    again = pipe(["a person walks forward", "a person jumps"], seconds=[3.0, 2.0], seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(motions.features, again.features))  # bitwise on CPU
    other = pipe(["a person walks forward"], seconds=3.0, seed=6)
    assert np.abs(other.features[0] - motions.features[0]).max() > 1e-2
    assert pipe("a person walks forward", frames=60, seed=5).features[0].shape == (60, 263)


def test_padding_and_batch_invariance(pipe: RAMPipeline) -> None:
    alone = pipe(["a person walks in a circle"], frames=60, seed=[7])
    beside = pipe(["someone dances energetically for a long time", "a person walks in a circle"], frames=[196, 60], seed=[3, 7])
    np.testing.assert_allclose(beside.features[1], alone.features[0], rtol=1e-4, atol=1e-4)
    chunked = pipe(["someone dances energetically for a long time", "a person walks in a circle"], frames=[196, 60], seed=[3, 7], batch_size=1)
    np.testing.assert_allclose(chunked.features[1], alone.features[0], rtol=1e-4, atol=1e-4)
    assert chunked[0].prompt.startswith("someone")  # results keep the prompts' order


def test_text_latent_once_reg_every_step_but_first(pipe: RAMPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"text": 0, "motion": 0, "denoise": []}
    model = pipe.model
    orig_text, orig_motion, orig_denoise = model.encode_text, model.encode_motion, model.denoise

    def text(*a):
        calls["text"] += 1
        return orig_text(*a)

    def motion(*a):
        calls["motion"] += 1
        return orig_motion(*a)

    def denoise(x, *a):
        calls["denoise"].append(tuple(x.shape))
        return orig_denoise(x, *a)

    monkeypatch.setattr(model, "encode_text", text)
    monkeypatch.setattr(model, "encode_motion", motion)
    monkeypatch.setattr(model, "denoise", denoise)
    pipe(["a person waves", "a person sits"], frames=[48, 36], seed=0)
    assert calls["text"] == 1 and calls["motion"] == 19
    assert calls["denoise"] == [(4, 48, 263)] + [(6, 48, 263)] * 19  # one forward per step, longest length, not 196
    calls["denoise"].clear()
    pipe(["a person waves"], frames=48, seed=0, reg_steps=[46, 44])
    assert calls["motion"] == 21 and len(calls["denoise"]) == 20


def test_reg_and_cfg_change_the_motion(pipe: RAMPipeline) -> None:
    base = pipe("a person kicks", frames=40, seed=1).features[0]
    no_reg = pipe("a person kicks", frames=40, seed=1, w_reg=0.0).features[0]
    no_guidance = pipe("a person kicks", frames=40, seed=1, w_reg=0.0, w_cfg=0.0).features[0]
    assert np.abs(base - no_reg).max() > 1e-3 and np.abs(no_reg - no_guidance).max() > 1e-3


def test_model_without_motion_encoder(text_encoder) -> None:
    pipe = tiny_pipeline(use_motion_encoder=False, text_encoder=text_encoder)
    assert pipe("a person runs", frames=20, seed=0).features[0].shape == (20, 263)  # w_reg defaults to 0
    with pytest.raises(ValueError, match="needs a motion encoder"):
        pipe("a person runs", frames=20, seed=0, w_reg=5.0)


def test_model_folder_sampler_defaults(pipe: RAMPipeline, tmp_path: Path, text_encoder) -> None:
    """A folder's config.json extra.sampler replaces the paper's defaults; explicit arguments still win."""
    assert pipe.default_sampler() == {"steps": 20, "w_reg": 5.0, "w_cfg": 1.5, "reg_steps": "all"}
    pipe.save_pretrained(tmp_path / "chosen")
    config_path = tmp_path / "chosen" / "config.json"
    config = json.loads(config_path.read_text())
    config["extra"] = {**config.get("extra", {}), "sampler": {"steps": 10, "w_reg": 2.5, "w_cfg": 0.0, "reg_steps": 2}}
    config_path.write_text(json.dumps(config))
    chosen = RAMPipeline.from_pretrained(tmp_path / "chosen", device="cpu", text_encoder=text_encoder)
    assert chosen.default_sampler() == {"steps": 10, "w_reg": 2.5, "w_cfg": 0.0, "reg_steps": 2}
    implicit = chosen("a person kicks", frames=30, seed=2).features[0]
    explicit = pipe("a person kicks", frames=30, seed=2, steps=10, w_reg=2.5, w_cfg=0.0, reg_steps=2).features[0]
    paper = chosen("a person kicks", frames=30, seed=2, steps=20, w_reg=5.0, w_cfg=1.5, reg_steps="all").features[0]
    assert np.array_equal(implicit, explicit)
    assert np.array_equal(paper, pipe("a person kicks", frames=30, seed=2).features[0])
    config["extra"]["sampler"] = {"w_guidance": 3}
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="unknown keys"):
        RAMPipeline.from_pretrained(tmp_path / "chosen", device="cpu", text_encoder=text_encoder)


def test_model_folder_cleanup_is_what_every_output_gets(pipe: RAMPipeline, tmp_path: Path, text_encoder) -> None:
    """extra.cleanup turns the foot cleanup on for joints (and so every file); cleanup=False
    gives the features' own joints; a bad extra.cleanup fails at load time."""
    from ramotion.motion.cleanup import CleanupConfig, clean_motion

    assert pipe.default_cleanup() is None
    raw = pipe("a person walks", frames=40, seed=1)[0]
    np.testing.assert_array_equal(raw.joints, raw.raw_joints)
    pipe.save_pretrained(tmp_path / "clean")
    config_path = tmp_path / "clean" / "config.json"
    config = json.loads(config_path.read_text())
    config["extra"] = {**config.get("extra", {}), "cleanup": CleanupConfig(smooth_sigma=0.5).to_dict()}
    config_path.write_text(json.dumps(config))
    cleaned_pipe = RAMPipeline.from_pretrained(tmp_path / "clean", device="cpu", text_encoder=text_encoder)
    m = cleaned_pipe("a person walks", frames=40, seed=1)[0]
    np.testing.assert_array_equal(m.features, raw.features)  # the sample itself is the same
    expected = clean_motion(raw.raw_joints, config=CleanupConfig(smooth_sigma=0.5)).astype(np.float32)
    np.testing.assert_array_equal(m.joints, expected)
    assert np.abs(m.joints - m.raw_joints).max() > 1e-3
    np.save(tmp_path / "expected.npy", expected)
    m.save(tmp_path / "saved.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "saved.npy"), expected)  # files hold the cleaned joints
    off = cleaned_pipe("a person walks", frames=40, seed=1, cleanup=False)[0]
    np.testing.assert_array_equal(off.joints, raw.raw_joints)
    with pytest.raises(TypeError, match="cleanup must be"):
        cleaned_pipe("a person walks", frames=40, cleanup="yes")
    config["extra"]["cleanup"] = {"sigma": 1}
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="extra.cleanup: unknown cleanup settings: sigma"):
        RAMPipeline.from_pretrained(tmp_path / "clean", device="cpu", text_encoder=text_encoder)


def test_outputs_by_extension(pipe: RAMPipeline, tmp_path: Path) -> None:
    import bvh as bvh_parser

    motions = pipe(["a person turns around", "a person crouches"], frames=[24, 20], seed=0)
    m = motions[0]
    m.save(tmp_path / "j.npy")
    np.testing.assert_allclose(np.load(tmp_path / "j.npy"), m.joints)
    m.save(tmp_path / "f.npy", npy="features")
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), m.features)
    m.save(tmp_path / "m.bvh")
    parsed = bvh_parser.Bvh((tmp_path / "m.bvh").read_text())
    assert parsed.nframes == 24 and abs(parsed.frame_time - 0.05) < 1e-9
    for ext in ("gif", "mp4"):
        m.save(tmp_path / f"m.{ext}", size=96)
        assert (tmp_path / f"m.{ext}").stat().st_size > 1000
    assert (tmp_path / "m.gif").read_bytes()[:3] == b"GIF"
    paths = motions.save(tmp_path / "batch.npy")
    assert [p.name for p in paths] == ["batch_00.npy", "batch_01.npy"]
    assert np.load(paths[1]).shape == (20, 22, 3)
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporary files


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(prompts=[""]), "prompt 1 is empty"),
        (dict(prompts=["a person walks", "   \t"]), "prompt 2 is empty"),
        (dict(prompts=[]), "no prompts"),
        (dict(prompts=["walk " * 600]), r"prompt 1 is \d+ tokens long; the text model accepts at most 512"),
        (dict(seconds=0), r"seconds must be in \(0, 9.8\]"),
        (dict(seconds=-1.0), r"seconds must be in \(0, 9.8\]"),
        (dict(seconds=9.9), r"seconds must be in \(0, 9.8\]"),
        (dict(seconds=float("nan")), r"seconds must be in \(0, 9.8\]"),
        (dict(seconds=0.01), "shorter than one frame"),
        (dict(frames=197), r"frames must be whole numbers in 1..196"),
        (dict(frames=0), r"frames must be whole numbers in 1..196"),
        (dict(seconds=2.0, frames=40), "not both"),
        (dict(seconds=[1.0, 2.0]), "2 values for 1 prompts"),
        (dict(seed=[1, 2]), "one per prompt"),
        (dict(seed=2**70), r"seeds must be in 0..9223372036854775807"),
        (dict(seed=-1), r"seeds must be in 0.."),
        (dict(seed=1.5), "seed must be a whole number"),
        (dict(seed="7"), "seed must be a whole number"),
        (dict(seconds="1.5"), r"seconds must be in \(0, 9.8\]"),
        (dict(steps=0), "steps must be"),
        (dict(reg_steps=[49]), "first sampling step"),
        (dict(dtype="int8"), "unknown dtype"),
        (dict(batch_size=0), "batch_size must be"),
    ],
)
def test_bad_generation_input(pipe: RAMPipeline, kwargs: dict, message: str) -> None:
    prompts = kwargs.pop("prompts", ["a person walks"])
    with pytest.raises(ValueError, match=message):
        pipe(prompts, **kwargs)


def test_bad_output_paths(pipe: RAMPipeline, tmp_path: Path) -> None:
    m = pipe("a person walks", frames=8, seed=0)[0]
    with pytest.raises(ValueError, match=r"unknown output extension '.txt'"):
        m.save(tmp_path / "x.txt")
    with pytest.raises(ValueError, match=r"unknown output extension '\(none\)'"):
        m.save(tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        m.save(tmp_path / "missing" / "x.npy")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="is a file, not a folder"):
        m.save(tmp_path / "file" / "x.npy")
    (tmp_path / "d.npy").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        m.save(tmp_path / "d.npy")


def test_not_a_model_folder(tmp_path: Path, model_dir: Path, text_encoder) -> None:
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        RAMPipeline.from_pretrained(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a ramotion model folder"):
        RAMPipeline.from_pretrained(tmp_path / "empty")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        RAMPipeline.from_pretrained(tmp_path / "f.txt")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        RAMPipeline.from_pretrained(bad)
    (bad / "config.json").write_text((model_dir / "config.json").read_text())
    (bad / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt or not a safetensors"):
        RAMPipeline.from_pretrained(bad)


def test_default_model_missing_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ramotion.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no bundled default model.*ramotion train"):
        RAMPipeline.from_pretrained()


def test_bad_device() -> None:
    from ramotion.runtime import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no usable CUDA GPU"):
            resolve_device("cuda")


def test_text_model_size_mismatch(model_dir: Path) -> None:
    class Fake:
        hidden_size = 768
        name_or_path = "distilbert-base-uncased"

    with pytest.raises(ValueError, match="hidden size 768.*size 384"):
        RAMPipeline.from_pretrained(model_dir, device="cpu", text_encoder=Fake())


def test_dtypes(pipe: RAMPipeline) -> None:
    cpu = torch.device("cpu")
    assert resolve_dtype("auto", cpu) == (torch.bfloat16 if cpu_has_fast_bf16() else torch.float32)
    assert resolve_dtype("auto", cpu, model_dim=512) == resolve_dtype("auto", cpu)
    assert resolve_dtype("auto", cpu, model_dim=128) == torch.float32  # too narrow for bf16 to pay
    assert resolve_dtype("bf16", cpu) == torch.bfloat16 and resolve_dtype(torch.float16, cpu) == torch.float16
    fp32 = pipe("a person walks", frames=8, seed=0, steps=4, dtype="float32").features[0]
    bf16 = pipe("a person walks", frames=8, seed=0, steps=4, dtype="bfloat16").features[0]
    assert np.isfinite(bf16).all() and not np.array_equal(fp32, bf16)
    # bf16 keeps ~3 significant digits per matmul; the trajectories stay close on a tiny model.
    assert np.abs(bf16 - fp32).max() < 0.5 * np.abs(fp32).max()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_weights_cast_once_give_autocasts_numbers(text_encoder, dtype: str) -> None:
    """The reduced-precision copy (matmul weights cast once, model.precision) samples bit for bit
    what autocast over the fp32 weights samples, leaves the model in fp32, and follows weight updates."""
    pipe = tiny_pipeline(text_encoder=text_encoder)
    kw = dict(frames=[12, 9], seed=[3, 4], steps=4, dtype=dtype, w_reg=5.0, w_cfg=1.5, cleanup=False)
    with pytest.warns(UserWarning) if dtype == "float16" else contextlib.nullcontext():
        cast = pipe(["a person walks", "someone waves"], **kw).features
        copy = pipe._cast[1]
        assert all(p.dtype == torch.float32 for p in pipe.model.parameters())
        linear = copy.denoiser.encoder.layers[0].self_attn
        assert linear.in_proj_weight.dtype == linear.out_proj.weight.dtype == getattr(torch, dtype)
        assert copy.denoiser.encoder.layers[0].norm1.weight.dtype == torch.float32
        pipe("a person walks", frames=12, seed=3, steps=4, dtype=dtype, cleanup=False)
        assert pipe._cast[1] is copy  # reused while the weights stay the same
        with torch.no_grad():
            pipe.model.denoiser.output_proj.bias.add_(0.5)  # an in-place update, as an optimizer step
        moved = pipe(["a person walks", "someone waves"], **kw).features
        assert pipe._cast[1] is not copy
        with torch.no_grad():
            pipe.model.denoiser.output_proj.bias.sub_(0.5)
        pipe._compute_model = lambda dt: pipe.model  # the engine before: autocast over the fp32 weights
        autocast = pipe(["a person walks", "someone waves"], **kw).features
    assert all(np.array_equal(a, b) for a, b in zip(cast, autocast))
    assert not all(np.array_equal(a, b) for a, b in zip(moved, autocast))


def test_prompt_file_parsing(tmp_path: Path) -> None:
    f = tmp_path / "p.txt"
    f.write_text("# comment\na person walks\n\nsomeone jumps#2.5\n")
    assert list(iter_prompt_file(f)) == [(2, "a person walks", None), (4, "someone jumps", 2.5)]
    f.write_text("a person walks#soon\n")
    with pytest.raises(ValueError, match=r"p.txt:1: bad length 'soon'"):
        list(iter_prompt_file(f))


# What "batch-invariant" means for each dtype on a CPU, in metres of joint position (issue 21).
# float32 mixes lengths in one batch and differs by float rounding only; bfloat16 batches one
# length at a time and comes out bit-identical here; float16's small matrix products round
# differently for one row than for several (the timestep and condition projections), which
# twenty steps turn into under a millimetre on this model.
BATCH_INVARIANCE_TOLERANCE_M = {"float32": 1e-4, "bfloat16": 1e-4, "float16": 5e-3}


@pytest.mark.parametrize("dtype", sorted(BATCH_INVARIANCE_TOLERANCE_M))
def test_bundled_model_is_batch_invariant(dtype: str) -> None:
    """A motion depends on its prompt, length and seed only, not on the batch it is computed in:
    alone, twice in one batch, or among longer and shorter prompts, with REG on and off, on the
    bundled model, in every dtype a CPU runs."""
    from ramotion.pipeline import default_model_dir

    if default_model_dir() is None:
        pytest.skip("this installation has no bundled model")
    pipe = RAMPipeline.from_pretrained(device="cpu")
    tol = BATCH_INVARIANCE_TOLERANCE_M[dtype]
    for w_reg in (0.0, 5.0):
        kw = dict(w_reg=w_reg, reg_steps="all" if w_reg else "none", cleanup=False, dtype=dtype)
        alone = pipe(["a person jumps twice"], seconds=3.0, seed=42, **kw)[0]
        pair = pipe(["a person jumps twice"] * 2, seconds=3.0, seed=[42, 42], **kw)
        mixed = pipe(["a person walks in a circle", "a person jumps twice", "a person waves"], seconds=[6.0, 3.0, 1.5], seed=[1, 42, 2], **kw)[1]
        for other in (pair[0], pair[1], mixed):
            assert np.abs(other.raw_joints - alone.raw_joints).max() < tol, (dtype, w_reg)
            if dtype != "float16":  # features to 1e-3 (float16's millimetres are larger there)
                assert np.abs(other.features - alone.features).max() < 1e-3, (dtype, w_reg)


def test_reduced_precision_batches_hold_one_length() -> None:
    """bf16/fp16 batches never mix lengths (padding rounds differently); float32 batches do."""
    from ramotion.pipeline import _batches

    lengths = [40, 60, 40, 60, 20]
    assert _batches(lengths, 8, one_length=False) == [[1, 3, 0, 2, 4]]
    assert _batches(lengths, 8, one_length=True) == [[1, 3], [0, 2], [4]]
    assert _batches(lengths, 1, one_length=True) == [[1], [3], [0], [2], [4]]


def test_non_finite_samples_are_refused_not_returned(pipe: RAMPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing non-finite leaves the pipeline (issue 21): absurd guidance weights are refused
    up front, and a sampler that still produces NaN raises instead of returning it."""
    with pytest.raises(ValueError, match=r"w_cfg must be within ±100"):
        pipe("a person jumps", frames=10, seed=0, w_cfg=1e30)
    real = pipe.model.denoise
    monkeypatch.setattr(pipe.model, "denoise", lambda *a, **k: real(*a, **k) * float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite values for 1 of 1 prompts"):
        pipe("a person jumps", frames=10, seed=0, steps=4)


def test_numpy_numbers_are_accepted_as_lengths_and_seeds(pipe: RAMPipeline) -> None:
    m = pipe("a person walks", seconds=np.float32(1.0), seed=np.int64(3), steps=2)[0]
    assert m.num_frames == 20 and m.seed == 3
