"""benchmarks/aits.py counts the sampler's arithmetic as torch itself counts it.

The benchmark prints each configuration's FLOP ratio to the MDM-style baseline: the
lowest time ratio any implementation of eq. 11 on the same denoiser can reach at equal
efficiency. That claim is only as good as the count, so it is checked here against
torch's FlopCounterMode over a real sampling run of a tiny model.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from ramotion.diffusion import GaussianDiffusion
from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.sampling import MDM_BASELINE, PerSampleNoise, SamplerConfig, SamplingPlan, sample

AITS_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "aits.py"


def load_aits():  # noqa: ANN201 - a module loaded from a path
    """benchmarks/aits.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("aits_benchmark", AITS_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "sampler",
    [SamplerConfig(), SamplerConfig(reg_steps=[46, 44]), SamplerConfig(reg_steps="none"), SamplerConfig(w_cfg=0.0), MDM_BASELINE],
    ids=["reg-all", "reg-46-44", "no-reg", "no-cfg", "mdm-50"],
)
def test_sampling_flops_match_torch_flop_counter(sampler: SamplerConfig) -> None:
    aits = load_aits()
    torch.manual_seed(0)
    cfg = RAMConfig(feature_dim=12, latent_dim=16, text_dim=8, enc_layers=2, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64, max_frames=40)
    model = RAM(cfg).eval()
    frames = 30
    mask = torch.ones(1, frames, dtype=torch.bool)
    noise = PerSampleNoise([0], [frames], cfg.feature_dim, torch.device("cpu"))
    z_text = torch.randn(1, cfg.latent_dim)
    # The fused attention kernels are invisible to the counter; the math backend does the same
    # products as matmuls it can see.
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        sample(model.denoise, model.encode_motion, SamplingPlan.resolve(sampler, GaussianDiffusion(cfg.num_diffusion_steps), motion_encoder=True), z_text, mask, noise)
    counted = counter.get_total_flops()
    # The benchmark leaves out only the condition token's small MLPs (d_E -> dim, timestep embedding).
    assert aits.sampling_flops(cfg, sampler, frames) == pytest.approx(counted, rel=0.01)


def test_reg_all_flop_ratio_at_paper_size() -> None:
    """The arithmetic floor quoted for issue 6: RAM-20 + REG on all steps at 120 frames
    does 0.38x the matmul work of the MDM-style 50-step baseline padded to 196 frames."""
    aits = load_aits()
    cfg = RAMConfig()
    ratio = aits.sampling_flops(cfg, SamplerConfig(reg_steps="all"), 120) / aits.sampling_flops(cfg, MDM_BASELINE, 196)
    assert 0.37 < ratio < 0.40


def test_throughput_row_runs_the_users_path() -> None:
    """The throughput row generates every prompt through RAMPipeline.__call__ and counts the
    batches the pipeline really ran: one padded batch in fp32, one per length in bf16."""
    from ramotion.motion.normalize import Normalizer
    from ramotion.pipeline import RAMPipeline
    from ramotion.text.encoder import TextEncoder

    aits = load_aits()
    torch.manual_seed(0)
    cfg = RAMConfig(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=1, heads=2, ff=64, num_diffusion_steps=20)
    normalizer = Normalizer(torch.zeros(cfg.feature_dim).numpy(), torch.ones(cfg.feature_dim).numpy())
    encoder = TextEncoder(device="cpu")
    calls: list[int] = []
    for dtype, expected in (("float32", 1), ("bfloat16", None)):
        pipe = RAMPipeline(RAM(cfg), normalizer, encoder, device="cpu", dtype=dtype)
        run = pipe.generate_features
        pipe.generate_features = lambda prompts, *a, **k: (calls.append(len(prompts)), run(prompts, *a, **k))[1]  # type: ignore[method-assign]
        calls.clear()
        rate, frame_rate, batches = aits.throughput(pipe, 4, torch.device("cpu"))
        assert rate > 0 and frame_rate > 40 * rate
        lengths = [int(n) for n in np.random.default_rng(0).integers(40, 197, size=4)]  # as the benchmark draws them
        warm_up = 1 if dtype == "float32" else len(set(lengths[:2]))  # its warm-up call: the first two prompts
        assert sum(calls) == 2 + 4 and len(calls) == warm_up + batches
        if expected is not None:
            assert batches == expected
    assert "native bf16" in aits.machine_line(torch.device("cpu"))
