"""Text features: a frozen pretrained encoder and an on-disk cache of its token features."""

from .cache import TextFeatureCache, caption_key, pad_features
from .encoder import DEFAULT_MODEL, TextEncoder, default_model_path, resolve_model

__all__ = ["DEFAULT_MODEL", "TextEncoder", "TextFeatureCache", "caption_key", "default_model_path", "pad_features", "resolve_model"]
