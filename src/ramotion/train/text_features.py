"""Frozen-LM token states per caption for training, through the text layer's on-disk cache.

The language model is frozen (spec §3), so every distinct caption of the training and
validation sets is encoded once (`prepare`), stored by `ramotion.text.TextFeatureCache`
and afterwards only read back. The default cache folder is
$RAMOTION_CACHE/text_features (default ~/.cache/ramotion/text_features), shared by runs;
entries are keyed by the encoder's identity, so different models never mix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import Tensor

# encode(captions) -> (hidden (B, L, H) float32, mask (B, L) bool True=valid), on CPU
EncodeFn = Callable[[list[str]], tuple[Tensor, Tensor]]


def default_cache_dir() -> Path:
    """$RAMOTION_CACHE/text_features, default ~/.cache/ramotion/text_features."""
    return Path(os.environ.get("RAMOTION_CACHE", Path.home() / ".cache" / "ramotion")) / "text_features"


class CaptionFeatures:
    """caption -> token states, for the training loop.

    `encode` is any function with TextEncoder.encode's interface; `prepare` lets a
    cache-backed one encode all captions up front (a no-op otherwise).
    """

    def __init__(self, encode: EncodeFn, hidden_size: int, name: str, prepare: Callable[[Iterable[str]], object] | None = None) -> None:
        self.encode = encode
        self.hidden_size = hidden_size
        self.name = name
        self._prepare = prepare

    def prepare(self, captions: Iterable[str]) -> None:
        """Encode (and cache) every caption not seen yet."""
        if self._prepare is not None:
            self._prepare(captions)

    def __call__(self, captions: list[str]) -> tuple[Tensor, Tensor]:
        """captions (B) -> hidden (B, L, H) float32, mask (B, L) bool."""
        return self.encode(captions)


def cached_caption_features(
    name_or_path: str | None,
    device: torch.device | str,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> CaptionFeatures:
    """CaptionFeatures over ramotion's TextEncoder (default: the offline all-MiniLM-L6-v2),
    cached on disk under `cache_dir` (default `default_cache_dir()`); lookups return CPU tensors."""
    from ..text import TextEncoder, TextFeatureCache

    encoder = TextEncoder(name_or_path, device=device)
    cache = TextFeatureCache(cache_dir or default_cache_dir(), encoder, device="cpu")

    def prepare(captions: Iterable[str]) -> None:
        cache.refresh()  # shards other processes wrote
        cache.add(list(captions), progress=progress)

    return CaptionFeatures(cache.encode, encoder.hidden_size, str(name_or_path) if name_or_path else encoder.name, prepare)
