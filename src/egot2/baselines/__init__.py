"""The paper's baselines: Finetuning, Transfer, Late Fusion and multi-task hard parameter sharing."""

from egot2.baselines.feature_mlp import FeatureMLP, align_time
from egot2.baselines.multitask import HardSharing

__all__ = ["FeatureMLP", "HardSharing", "align_time"]
