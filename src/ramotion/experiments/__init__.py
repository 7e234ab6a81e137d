"""The paper's experiments (Tables 3-9) as one command each, and the bundled default model's build.

    ramotion experiment table5 --data data/synth --scale small --out experiments/small --model runs/default
"""

from .runner import ExperimentOptions, ExperimentResult, run_experiment
from .scales import SCALES, Scale, get_scale
from .tables import TABLES, Row, TableSpec, get_table

__all__ = ["SCALES", "TABLES", "ExperimentOptions", "ExperimentResult", "Row", "Scale", "TableSpec", "get_scale", "get_table", "run_experiment"]
