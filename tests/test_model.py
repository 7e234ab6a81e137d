"""RAM model: shapes, masking, unconditional condition, parameter counts, checkpoints."""

import json

import numpy as np
import pytest
import torch

from ramotion.model import RAM, RAMConfig, load_model, load_stats, save_model

TINY = dict(latent_dim=32, text_dim=24, enc_layers=2, enc_heads=2, enc_ff=64, dim=48, layers=2, heads=2, ff=96, max_frames=40, feature_dim=263)


def tiny_model(**kw) -> RAM:
    torch.manual_seed(0)
    return RAM(RAMConfig(**{**TINY, **kw})).eval()


def test_shapes_and_padding_invariance():
    m = tiny_model()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 40, 263, generator=g)
    mask = torch.ones(2, 40, dtype=torch.bool)
    mask[1, 25:] = False
    t = torch.tensor([0, 49])
    z = torch.randn(2, 32, generator=g)
    with torch.no_grad():
        out = m.denoise(x, t, z, mask)
        assert out.shape == (2, 40, 263)
        # Changing padded frames changes nothing on valid frames, nor the motion latent.
        x2 = x.clone()
        x2[1, 25:] = 100.0
        out2 = m.denoise(x2, t, z, mask)
        torch.testing.assert_close(out2[1, :25], out[1, :25], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(m.encode_motion(x2, mask), m.encode_motion(x, mask), rtol=1e-4, atol=1e-4)
        # A shorter sequence T < max_frames gives the same valid outputs as the padded one.
        short = m.denoise(x[1:, :25], t[1:], z[1:], mask[1:, :25])
        torch.testing.assert_close(short[0], out[1, :25], rtol=1e-4, atol=1e-4)
        tok = torch.randn(2, 7, 24, generator=g)
        tmask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3], dtype=torch.bool)
        zs = m.encode_text(tok, tmask)
        assert zs.shape == (2, 32)
        tok2 = tok.clone()
        tok2[1, 4:] = -5.0
        torch.testing.assert_close(m.encode_text(tok2, tmask), zs, rtol=1e-4, atol=1e-4)


def test_condition_and_timestep_matter():
    m = tiny_model()
    x = torch.randn(1, 10, 263)
    mask = torch.ones(1, 10, dtype=torch.bool)
    with torch.no_grad():
        a = m.denoise(x, torch.tensor([5]), torch.zeros(1, 32), mask)
        b = m.denoise(x, torch.tensor([5]), torch.ones(1, 32), mask)
        c = m.denoise(x, torch.tensor([40]), torch.zeros(1, 32), mask)
    assert (a - b).abs().max() > 1e-3 and (a - c).abs().max() > 1e-3


def test_bad_inputs_are_refused():
    m = tiny_model()
    with pytest.raises(ValueError, match="exceed"):
        m.denoise(torch.zeros(1, 41, 263), torch.zeros(1, dtype=torch.long), torch.zeros(1, 32), torch.ones(1, 41, dtype=torch.bool))
    with pytest.raises(ValueError, match="x_t must be"):
        m.denoise(torch.zeros(1, 10, 251), torch.zeros(1, dtype=torch.long), torch.zeros(1, 32), torch.ones(1, 10, dtype=torch.bool))
    with pytest.raises(ValueError, match="no motion encoder"):
        tiny_model(use_motion_encoder=False).encode_motion(torch.zeros(1, 5, 263), torch.ones(1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="divisible"):
        RAMConfig(dim=50, heads=4)
    with pytest.raises(ValueError, match="unknown RAM config keys"):
        RAMConfig.from_dict({"latnt_dim": 3})


def test_paper_preset_parameter_counts(capsys):
    counts = RAM(RAMConfig()).parameter_counts()
    with capsys.disabled():
        print("\nRAM paper preset parameters (without the text model):", {k: f"{v / 1e6:.2f}M" for k, v in counts.items()})
    # MDM's transformer denoiser (8 x 512, ff 1024) is ~17.9M; each TEMOS-size encoder ~4.8M.
    assert 17.0e6 < counts["denoiser"] < 18.0e6
    assert 4.5e6 < counts["motion_encoder"] < 5.0e6 and 4.5e6 < counts["text_encoder"] < 5.0e6
    assert RAM(RAMConfig(use_motion_encoder=False)).parameter_counts()["motion_encoder"] == 0


def test_checkpoint_roundtrip_and_refusals(tmp_path):
    m = tiny_model()
    mean, std = np.arange(263, dtype=np.float32), np.ones(263, dtype=np.float32)
    save_model(tmp_path / "m", m, mean, std, extra={"step": 7})
    loaded = load_model(tmp_path / "m")
    for (k, v), (k2, v2) in zip(m.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    got_mean, got_std = load_stats(tmp_path / "m")
    np.testing.assert_array_equal(got_mean, mean)
    # corrupt weights
    (tmp_path / "m" / "model.safetensors").write_bytes(b"garbage" * 10)
    with pytest.raises(ValueError, match="corrupt"):
        load_model(tmp_path / "m")
    # a foreign safetensors file (no ramotion metadata)
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ValueError, match="not a ramotion checkpoint"):
        load_model(tmp_path / "m")
    # a foreign config
    (tmp_path / "m" / "config.json").write_text(json.dumps({"architectures": ["Bert"]}))
    with pytest.raises(ValueError, match="not a ramotion RAM config"):
        load_model(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="no such"):
        load_model(tmp_path / "nope")
    # weights that do not match the config
    save_model(tmp_path / "a", m)
    save_model(tmp_path / "b", tiny_model(latent_dim=16))
    (tmp_path / "a" / "model.safetensors").write_bytes((tmp_path / "b" / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match="shape"):
        load_model(tmp_path / "a")


def test_config_types_and_sizes_are_refused_before_allocating(tmp_path):
    for kw, message in [
        ({"dim": 10**9}, r"RAMConfig.dim must be an integer in \[1, 8192\], got 1000000000"),
        ({"text_dim": 10**6}, r"RAMConfig.text_dim must be an integer in \[1, 16384\]"),
        ({"max_frames": 10**7}, r"RAMConfig.max_frames must be an integer in \[1, 20000\]"),
        ({"layers": 2.0}, r"RAMConfig.layers must be an integer in \[1, 128\], got 2.0"),
        ({"dropout": None}, r"RAMConfig.dropout must be a number in \[0, 1\), got null"),
        ({"dropout": "0.1"}, r"RAMConfig.dropout must be a number in \[0, 1\), got '0.1' \(a string\)"),
        ({"use_motion_encoder": 1}, r"RAMConfig.use_motion_encoder must be true or false, got 1"),
        ({"text_model": ""}, r"RAMConfig.text_model must be a non-empty string"),
    ]:
        with pytest.raises(ValueError, match=message):
            RAMConfig(**kw)
    m = tiny_model()
    save_model(tmp_path / "m", m, extra={"step": 3})
    payload = json.loads((tmp_path / "m" / "config.json").read_text())
    payload["extra"] = [1, 2]
    (tmp_path / "m" / "config.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=r"config.json: \"extra\" must be a JSON object \(e.g. \{\"step\": 100\}\), got an array$"):
        load_model(tmp_path / "m")
    payload["extra"], payload["model"]["dim"] = {}, 10**9
    (tmp_path / "m" / "config.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=r"config.json: invalid model config: RAMConfig.dim must be an integer in \[1, 8192\]"):
        load_model(tmp_path / "m")


def test_noise_schedule_is_saved_and_read(tmp_path):
    """config.json records the diffusion's schedule and the pipeline builds its diffusion from it;
    a folder saved before the field existed reads as the cosine schedule; unknown ones are refused."""
    from ramotion import RAMPipeline

    m = tiny_model()
    save_model(tmp_path / "m", m, np.zeros(263, np.float32), np.ones(263, np.float32))
    data = json.loads((tmp_path / "m" / "config.json").read_text())
    assert data["model"]["noise_schedule"] == "cosine"
    pipe = RAMPipeline.from_pretrained(tmp_path / "m", device="cpu")
    assert pipe.diffusion.schedule == "cosine" and pipe.diffusion.num_steps == m.config.num_diffusion_steps
    del data["model"]["noise_schedule"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(data))
    assert load_model(tmp_path / "m").config.noise_schedule == "cosine"
    with pytest.raises(ValueError, match="noise_schedule must be one of cosine; got 'linear'"):
        RAMConfig(noise_schedule="linear")
