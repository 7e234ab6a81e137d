"""ramotion: RAM (Reconstruction-Anchored diffusion) for text-to-motion generation."""

__version__ = "0.1.0"
