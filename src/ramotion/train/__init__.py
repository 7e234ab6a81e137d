"""Training RAM: the objective, configs/presets and the Accelerate trainer."""

from .config import PRESETS, VARIANTS, TrainConfig, resolve_config
from .losses import LossConfig, ram_loss

__all__ = ["PRESETS", "VARIANTS", "LossConfig", "TrainConfig", "ram_loss", "resolve_config"]
