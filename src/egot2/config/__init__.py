"""Typed dataclass configs, YAML deltas that reject unknown keys, and ``a.b=value`` overrides."""

from egot2.config.load import config_to_yaml, load_config
from egot2.config.schema import (
           Config,
           FusionConfig,
           GeneralistConfig,
           ModelConfig,
           TrainConfig,
           TranslatorConfig,
)

__all__ = ["Config", "FusionConfig", "GeneralistConfig", "ModelConfig", "TrainConfig", "TranslatorConfig", "config_to_yaml",
           "load_config"]
