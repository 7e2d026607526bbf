"""Run folders: what a finished training run leaves behind, written atomically.

``RUN/model.safetensors`` (weights only, never a pickled module), ``RUN/config.yaml`` (the resolved
config), ``RUN/run.json`` (what was trained on, the validation scores); Lightning's ``checkpoints/``
(``last.ckpt`` for ``--resume``) and ``logs/`` (CSV, TensorBoard when installed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from egot2.config import Config, config_to_yaml, load_config
from egot2.errors import UserInputError
from egot2.utils.atomic import atomic_path, write_json, write_text


def save_run(out: Path, model: nn.Module, cfg: Config, info: dict[str, Any]) -> None:
    """Write the weights, the resolved config and ``run.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(out / "model.safetensors") as tmp:
        save_file(state, str(tmp))
    write_text(out / "config.yaml", config_to_yaml(cfg))
    write_json(out / "run.json", info)


def load_run(run: Path) -> tuple[Config, dict[str, Any], dict[str, torch.Tensor]]:
    """Read a run folder: its config, ``run.json`` and weights (each problem a clear error)."""
    run = Path(run)
    for name in ("config.yaml", "run.json", "model.safetensors"):
        if not (run / name).exists():
            raise UserInputError(f"not a finished run: {name} is missing", file=run / name)
    cfg = load_config([run / "config.yaml"])
    try:
        info = json.loads((run / "run.json").read_text())
    except json.JSONDecodeError as exc:
        raise UserInputError(f"run.json is not valid JSON (line {exc.lineno})", file=run / "run.json") from None
    try:
        weights = load_file(str(run / "model.safetensors"))
    except Exception as exc:
        raise UserInputError(f"corrupt or truncated weights ({exc})", file=run / "model.safetensors") from None
    return _older_defaults(cfg, run / "config.yaml", weights), info, weights


def _older_defaults(cfg: Config, path: Path, weights: dict[str, torch.Tensor]) -> Config:
    """A run written before a default changed keeps the setting it was trained with: a keyframe run
    whose config predates ``model.keyframe_head`` (then always the pooled head) and whose weights hold
    the pooled head's ``head.fc.logits`` is read with ``keyframe_head: pooled``."""
    import dataclasses

    import yaml

    from egot2.tasks import OutputKind, get_task, task_names

    primary = cfg.model.primary
    if cfg.model.method == "egot2-g" or primary not in task_names() or \
            get_task(primary).output.kind is not OutputKind.KEYFRAME:
        return cfg
    model = (yaml.safe_load(path.read_text()) or {}).get("model") or {}
    if "keyframe_head" not in model and any(k.endswith("head.fc.logits.weight") for k in weights):
        return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, keyframe_head="pooled"))
    return cfg
