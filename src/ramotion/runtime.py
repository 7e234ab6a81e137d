"""Where and in what precision a model runs: the torch device and the compute dtype (and the
progress bar over denoising steps).

`resolve_device` turns a user's device ("cpu", "cuda:1", None) into a usable torch device;
`resolve_dtype` picks the compute dtype ("auto": bf16/fp16 where it is fast, else fp32).
The pipeline, the benchmarks and the experiment runner all ask here.
"""

from __future__ import annotations

from typing import Any

import torch

_DTYPES = {
    "float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16,
}  # fmt: skip


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX); without it bf16 is far slower than fp32."""
    cpu = getattr(torch, "cpu", None)
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in probes)


# Below this width bf16 does not pay on a CPU even with native bf16: measured on a 2-core Xeon
# with AMX, bf16 autocast ran the 1.26 M-parameter small preset (dim 128) 0.84x as fast as
# fp32, a dim-256 model 1.2x and the paper's size (dim 512) 2.45x. Re-measured with the weights
# cast once (issue 20; docs/performance.md): the bundled dim-128 model generates one 120-frame
# sentence in 94 ms in fp32 and 133 ms in bf16, so the threshold stays.
MIN_BF16_DIM_CPU = 256


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device, model_dim: int | None = None) -> torch.dtype:
    """The compute dtype for the model: "auto" picks bf16 (fp16 on older GPUs) where it is
    fast -- on a CPU only with native bf16 and a model at least MIN_BF16_DIM_CPU wide
    (`model_dim`; None: any) -- else fp32. Only fp32 makes a sample independent of the batch
    it is computed in (see `RAMPipeline.__call__`)."""
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype}")
        return dtype
    if dtype is None or str(dtype).lower() == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "cpu" and cpu_has_fast_bf16() and (model_dim is None or model_dim >= MIN_BF16_DIM_CPU):
            return torch.bfloat16
        return torch.float32
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}: expected auto, float32, bfloat16 or float16") from None


def resolve_device(device: str | torch.device | None) -> torch.device:
    """A usable torch device: None -> CUDA when available, else CPU; unknown or absent devices -> ValueError."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}: expected e.g. cpu, cuda, cuda:1, mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but this torch has no usable CUDA GPU: use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA GPU(s) are visible")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} asked for, but MPS is not available here")
    return dev


def progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar over denoising steps, or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="denoising", unit="step", leave=False)
