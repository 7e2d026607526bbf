"""The stage-II methods a config can name, and the one function that builds them.

A plain registry: ``method name -> builder(cfg) -> nn.Module``. Builders read only the model config.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from egot2.baselines.feature_mlp import FeatureMLP
from egot2.config.schema import ModelConfig
from egot2.errors import UserInputError
from egot2.tasks import get_task
from egot2.translator.egot2s import EgoT2S
from egot2.translator.layout import InputStream, plan_streams

Builder = Callable[[ModelConfig], nn.Module]


def model_layout(cfg: ModelConfig) -> list[InputStream]:
    """The input streams of the model ``cfg`` describes (the method decides which tasks it reads)."""
    method = cfg.method
    if method == "finetune":
        aux: list[str] | None = []
    elif method == "transfer":
        if not cfg.aux or len(cfg.aux) != 1:
            raise UserInputError(f"transfer reads exactly one auxiliary task, got aux={cfg.aux}", field="model.aux")
        aux = list(cfg.aux)
    else:
        aux = cfg.aux
    layout = plan_streams(cfg.primary, aux, order=cfg.order if method not in ("finetune", "transfer") else None,
                          windows=cfg.windows, streams=cfg.streams, dims=cfg.dims)
    if method == "transfer":
        layout = [s for s in layout if s.task != cfg.primary]
    return layout


def _egot2s(cfg: ModelConfig) -> nn.Module:
    return EgoT2S(get_task(cfg.primary), model_layout(cfg), cfg.translator)


def _feature_mlp(cfg: ModelConfig) -> nn.Module:
    layout = model_layout(cfg)
    primary_keys = [s.key for s in layout if s.task == cfg.primary]
    return FeatureMLP(get_task(cfg.primary), layout, cfg.fusion, time_from=primary_keys[0] if primary_keys else None)


METHODS: dict[str, Builder] = {
    "egot2-s": _egot2s,
    "finetune": _feature_mlp,
    "transfer": _feature_mlp,
    "late-fusion": _feature_mlp,
}


def build_model(cfg: ModelConfig) -> nn.Module:
    """Build the stage-II model named by ``cfg.method``; a miss lists the valid methods."""
    if cfg.method not in METHODS:
        raise UserInputError(f"unknown method {cfg.method!r}; valid: {', '.join(METHODS)}", field="model.method")
    return METHODS[cfg.method](cfg)
