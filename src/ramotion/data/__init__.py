"""Datasets in the HumanML3D / KIT-ML layout: loading, validation, statistics and building."""

from .build import BuildItem, BuildSummary, CaptionSpec, build_dataset, resample
from .check import CheckReport, check_dataset
from .dataset import MotionTextDataset, collate
from .kit import load_annotations, load_splits
from .layout import CaptionFormatError, CaptionLine, Layout, parse_caption_line, read_captions, read_split, write_captions, write_split
from .stats import dataset_stats
from .tagging import get_tagger, rule_tag

__all__ = [
    "BuildItem",
    "BuildSummary",
    "CaptionFormatError",
    "CaptionLine",
    "CaptionSpec",
    "CheckReport",
    "Layout",
    "MotionTextDataset",
    "build_dataset",
    "check_dataset",
    "collate",
    "dataset_stats",
    "get_tagger",
    "load_annotations",
    "load_splits",
    "parse_caption_line",
    "read_captions",
    "read_split",
    "resample",
    "rule_tag",
    "write_captions",
    "write_split",
]
