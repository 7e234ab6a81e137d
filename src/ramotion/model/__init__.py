"""The RAM model: E_T, E_M (TEMOS-style encoders), D (MDM denoiser) and checkpoints."""

from .config import RAMConfig
from .denoiser import Denoiser
from .encoders import SequenceEncoder
from .ram import RAM
from .checkpoint import load_model, load_stats, save_model

__all__ = ["RAM", "Denoiser", "RAMConfig", "SequenceEncoder", "load_model", "load_stats", "save_model"]
