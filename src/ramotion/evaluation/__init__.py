"""Evaluation: the T2M evaluator, the community metrics and protocol, semantic accuracy, reports."""

from .evaluator import EvaluatorConfig, T2MEvaluator, load_official
from .metrics import diversity, fid, matching_distance, multimodality, r_precision
from .protocol import Protocol, ProtocolConfig, pipeline_generator
from .semantic import semantic_accuracy
from .train_evaluator import TrainEvaluatorConfig, train_evaluator
from .word_vectors import WordVectors, safe_unpickle

__all__ = [
    "EvaluatorConfig",
    "Protocol",
    "ProtocolConfig",
    "T2MEvaluator",
    "TrainEvaluatorConfig",
    "WordVectors",
    "diversity",
    "fid",
    "load_official",
    "matching_distance",
    "multimodality",
    "pipeline_generator",
    "r_precision",
    "safe_unpickle",
    "semantic_accuracy",
    "train_evaluator",
]
