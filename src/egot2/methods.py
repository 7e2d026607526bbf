"""The stage-II methods a config can name, and the one function that builds them.

A plain registry: ``method name -> builder(cfg) -> nn.Module``. Builders read only the model config.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from egot2.baselines.feature_mlp import FeatureMLP
from egot2.config.schema import ModelConfig
from egot2.errors import UserInputError
from egot2.tasks import get_task, tasks_in_cluster
from egot2.tasks.copies import ensure_copies
from egot2.translator.egot2s import EgoT2S
from egot2.translator.layout import InputStream, default_aux, plan_streams

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
    if cfg.primary_copies:
        if cfg.aux:
            raise UserInputError("primary_copies replaces the auxiliary tasks: leave model.aux empty",
                                 field="model.primary_copies")
        aux = ensure_copies(cfg.primary, cfg.primary_copies)
    layout = plan_streams(cfg.primary, aux, order=cfg.order if method not in ("finetune", "transfer") else None,
                          windows=cfg.windows, strides=cfg.window_stride, streams=cfg.streams, dims=cfg.dims, precomputed=cfg.precomputed)
    if method == "transfer":
        layout = [s for s in layout if s.task != cfg.primary]
    return layout


def generalist_tasks(cfg: ModelConfig) -> list[str]:
    """The tasks an EgoT2-g model answers."""
    g = cfg.generalist
    if g.tasks:
        return [get_task(t).name for t in g.tasks]
    names = [t.name for t in tasks_in_cluster(g.cluster)]
    if not names:
        raise UserInputError(f"no task in cluster {g.cluster!r}", field="model.generalist.cluster")
    return names


def generalist_layouts(cfg: ModelConfig) -> dict[str, list[InputStream]]:
    """For each task EgoT2-g answers, the streams its clips provide (paper span and modality rules)."""
    tasks = generalist_tasks(cfg)
    clusters = sorted({get_task(t).cluster for t in tasks}) if cfg.generalist.cross_cluster else None
    out = {}
    for t in tasks:
        aux = [a for a in default_aux(get_task(t), clusters) if a in tasks]
        layout = plan_streams(t, aux, windows=cfg.windows, strides=cfg.window_stride, check_primary=False, precomputed=cfg.precomputed)
        dims = {k: v for k, v in cfg.dims.items() if k in {s.key for s in layout}}
        layout = plan_streams(t, aux, windows=cfg.windows, strides=cfg.window_stride, dims=dims, check_primary=False,
                              precomputed=cfg.precomputed)
        if cfg.streams is not None:
            layout = [s for s in layout if s.key in set(cfg.streams) or s.precomputed]
        out[t] = layout
    return out


def union_layout(layouts: dict[str, list[InputStream]]) -> list[InputStream]:
    """Every stream of every task's layout, in first-seen order."""
    seen: dict[str, InputStream] = {}
    for layout in layouts.values():
        for s in layout:
            seen.setdefault(s.key, s)
    return list(seen.values())


def _egot2g(cfg: ModelConfig) -> nn.Module:
    from egot2.generalist import EgoT2G

    layouts = generalist_layouts(cfg)
    g = cfg.generalist
    return EgoT2G([get_task(t) for t in layouts], union_layout(layouts), cfg.translator, g.decoder_layers, g.max_len,
                  frame_answer_dropout=g.frame_answer_dropout, frame_decoding=g.frame_decoding,
                  keyframe_answers=g.keyframe_answers)


def _egot2s(cfg: ModelConfig) -> nn.Module:
    return EgoT2S(get_task(cfg.primary), model_layout(cfg), cfg.translator, keyframe_head=cfg.keyframe_head)


def _feature_mlp(cfg: ModelConfig) -> nn.Module:
    layout = model_layout(cfg)
    primary_keys = [s.key for s in layout if s.task == cfg.primary]
    return FeatureMLP(get_task(cfg.primary), layout, cfg.fusion, time_from=primary_keys[0] if primary_keys else None,
                      keyframe_head=cfg.keyframe_head)


METHODS: dict[str, Builder] = {
    "egot2-s": _egot2s,
    "egot2-g": _egot2g,
    "finetune": _feature_mlp,
    "transfer": _feature_mlp,
    "late-fusion": _feature_mlp,
}


def build_model(cfg: ModelConfig) -> nn.Module:
    """Build the stage-II model named by ``cfg.method``; a miss lists the valid methods."""
    if cfg.method not in METHODS:
        raise UserInputError(f"unknown method {cfg.method!r}; valid: {', '.join(METHODS)}", field="model.method")
    return METHODS[cfg.method](cfg)
