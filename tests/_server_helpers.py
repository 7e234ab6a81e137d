"""Helpers for the server tests: a tiny random RAM model and a real uvicorn server on a free port."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline

TINY = dict(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64, num_diffusion_steps=20)


def save_tiny_model(directory: Path, text_encoder: Any) -> Path:
    """A randomly initialised RAM model (HumanML3D features) written with save_pretrained."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mean = rng.normal(size=263).astype(np.float32) * 0.1
    std = rng.uniform(0.05, 0.2, 263).astype(np.float32)
    pipe = RAMPipeline(RAM(RAMConfig(**TINY)), Normalizer(mean, std), text_encoder, device="cpu")
    return pipe.save_pretrained(directory)


def running_server(app: Any) -> contextlib.AbstractContextManager[str]:
    """Serve `app` with a real uvicorn on 127.0.0.1 (a free port); yields its URL."""
    from ramotion.server.threaded import serve_in_thread

    return serve_in_thread(app)
