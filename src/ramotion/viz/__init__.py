"""Visualisation: stick-figure animations of motions (MP4 / GIF)."""

from .render import render_frames, render_motion

__all__ = ["render_frames", "render_motion"]
