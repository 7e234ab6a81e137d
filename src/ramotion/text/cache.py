"""On-disk cache of token features, so that a dataset's captions are encoded once.

Layout: `<folder>/<encoder identity>/shard-<n>-<random>.safetensors`, each shard a set of
tensors (L_i, H) (valid tokens only, no padding) keyed by the SHA-1 of the caption text.
The encoder identity (`TextEncoder.identity`) covers the model, its weights fingerprint,
its config and the truncation length, so a different model never reads another's
features. Shards are written atomically and never modified; several processes may read
and add shards at the same time.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from ..io_utils import atomic_path
from .encoder import TextEncoder


def caption_key(caption: str) -> str:
    """The cache key of a caption: SHA-1 of its UTF-8 text, exactly as given."""
    return hashlib.sha1(caption.encode("utf-8")).hexdigest()


def pad_features(features: list[Tensor]) -> tuple[Tensor, Tensor]:
    """[(L_i, H)] -> hidden (B, max L_i, H) zero-padded, mask (B, max L_i) bool."""
    B, H = len(features), features[0].shape[-1]
    L = max(f.shape[0] for f in features)
    hidden = features[0].new_zeros(B, L, H)
    mask = torch.zeros(B, L, dtype=torch.bool, device=features[0].device)
    for i, f in enumerate(features):
        hidden[i, : f.shape[0]] = f
        mask[i, : f.shape[0]] = True
    return hidden, mask


class TextFeatureCache:
    """Token features per caption, on disk; encodes what is missing with `encoder`.

    `encode(captions)` has the encoder's interface (hidden (B, L, H) float32, mask (B, L)
    bool) and returns tensors on `device` (default: the encoder's device, else CPU).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        encoder: TextEncoder | None = None,
        *,
        identity: str | None = None,
        batch_size: int = 256,
        store_dtype: torch.dtype = torch.float32,
        device: str | torch.device | None = None,
    ) -> None:
        if encoder is None and identity is None:
            raise ValueError("TextFeatureCache needs an encoder or the identity of the encoder that filled it")
        self.encoder = encoder
        self.identity = identity or encoder.identity  # type: ignore[union-attr]
        self.dir = Path(folder) / self.identity
        self.dir.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.store_dtype = store_dtype
        self.device = torch.device(device) if device is not None else (encoder.device if encoder is not None else torch.device("cpu"))
        self._where: dict[str, Path] = {}
        self._handles: dict[Path, object] = {}
        self.refresh()

    def refresh(self) -> None:
        """Index shards written since (e.g. by other processes)."""
        for shard in sorted(self.dir.glob("shard-*.safetensors")):
            if shard not in self._handles:
                handle = safe_open(str(shard), framework="pt")
                self._handles[shard] = handle
                for key in handle.keys():
                    self._where.setdefault(key, shard)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, caption: str) -> bool:
        return caption_key(caption) in self._where

    def missing(self, captions: Iterable[str]) -> list[str]:
        """Distinct captions not in the cache, in first-seen order."""
        return [c for c in dict.fromkeys(captions) if caption_key(c) not in self._where]

    def add(self, captions: Iterable[str], progress: bool = False) -> int:
        """Encode and store the captions not yet cached; returns how many were encoded."""
        from tqdm.auto import tqdm

        todo = self.missing(captions)
        if todo and self.encoder is None:
            raise ValueError(f"{len(todo)} captions are not cached and this cache has no encoder to encode them")
        for s in tqdm(range(0, len(todo), self.batch_size), disable=not progress, desc="encode", unit="batch"):
            chunk = todo[s : s + self.batch_size]
            hidden, mask = self.encoder.encode(chunk)  # type: ignore[union-attr]  # (b, L, H), (b, L)
            tensors = {
                caption_key(c): hidden[i, mask[i]].to("cpu", self.store_dtype).contiguous() for i, c in enumerate(chunk)
            }
            shard = self.dir / f"shard-{len(self._handles):06d}-{uuid.uuid4().hex[:8]}.safetensors"
            with atomic_path(shard) as tmp:
                save_file(tensors, str(tmp), metadata={"identity": self.identity})
            handle = safe_open(str(shard), framework="pt")
            self._handles[shard] = handle
            for key in tensors:
                self._where.setdefault(key, shard)
        return len(todo)

    def get(self, captions: list[str]) -> list[Tensor]:
        """Per caption, its token features (L_i, H) float32 on `self.device`; encodes missing ones first."""
        self.add(captions)
        out = []
        for c in captions:
            key = caption_key(c)
            feat = self._handles[self._where[key]].get_tensor(key)  # type: ignore[attr-defined]
            out.append(feat.to(self.device, torch.float32))
        return out

    def encode(self, captions: list[str]) -> tuple[Tensor, Tensor]:
        """Like `TextEncoder.encode`: hidden (B, L, H) float32, mask (B, L) bool, from the cache."""
        if isinstance(captions, str):
            raise TypeError("encode() takes a list of captions, not one string")
        if not captions:
            raise ValueError("encode() needs at least one caption")
        return pad_features(self.get(list(captions)))
