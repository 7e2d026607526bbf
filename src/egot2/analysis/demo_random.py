"""The placeholder main job: paper translators on random token streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from egot2.analysis.attention import task_attention_mass
from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.methods import build_model, model_layout
from egot2.utils.params import count_parameters


def find_paper_configs() -> Path:
    """``configs/paper`` of the source checkout (the demo runs from the repository)."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "configs" / "paper"
        if candidate.is_dir():
            return candidate
    raise UserInputError("configs/paper not found; pass --configs DIR", field="--configs")


def run_random_demo(folder: Path, frames: int = 30, seed: int = 0, batch: int = 2) -> list[dict[str, Any]]:
    """Build every EgoT2-s config in ``folder`` and run it once on random streams."""
    torch.manual_seed(seed)
    rows = []
    for path in sorted(folder.glob("egot2s_*.yaml")):
        cfg = load_config([path])
        model = build_model(cfg.model).eval()
        streams = {s.key: torch.randn(batch, s.tokens or frames, s.dim) for s in model_layout(cfg.model)}
        with torch.no_grad():
            out = model(streams, return_attention=True)
        attention = out.pop("attention")
        rows.append({
            "config": path.name,
            "primary": cfg.model.primary,
            "tokens": sum(x.shape[1] for x in streams.values()),
            "trainable": count_parameters(model).trainable,
            "outputs": {k: v.shape for k, v in out.items()},
            "task_attention": task_attention_mass(attention[-1], model.segments(streams)),
        })
    return rows
