"""``egot2 eval`` of a TS run: the task-specific model on its own task's clips, written as the task's
prediction file and scored with the official metrics, as translator runs are (the paper's "TS" rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Subset

from egot2.errors import UserInputError


@torch.no_grad()
def evaluate_ts_run(run: Path, split: str = "val", predictions: Path | None = None, data: Path | None = None,
                    batch: int = 16) -> dict[str, Any]:
    """Run the TS model of the run folder ``run`` over ``split`` of its data folder (``data``, else the one it
    was trained on), in the stage-I validation setting (centred windows; every clip once: the first piece of
    a clip split in pieces, as caches hold them), write its prediction file and report the official metrics
    (:func:`egot2.evaluation.run_files.write_and_score`)."""
    from egot2.backbones.zoo import TS_INFO, load_ts_model
    from egot2.data.datasets import build_dataset
    from egot2.evaluation import submission
    from egot2.evaluation.run_files import write_and_score
    from egot2.features.extract import first_pieces
    from egot2.training.clip_info import dataset_infos
    from egot2.training.stage1 import dataset_options, make_collate

    run = Path(run)
    info = json.loads((run / TS_INFO).read_text())
    loaded = load_ts_model(run)
    task = loaded.task
    data = Path(data or info.get("data") or "")
    if not data.is_dir():
        raise UserInputError("the TS run's data folder is not there: pass --data", file=data, field="--data")
    dataset = build_dataset(task, data, split, **dataset_options(task))
    infos = dataset_infos(task, dataset, data, split)
    loader = DataLoader(Subset(dataset, first_pieces(dataset)), batch_size=batch, shuffle=False,
                        collate_fn=make_collate(task, infos), num_workers=0)
    outs, labels, clip_infos, ids = [], [], [], []
    for b in loader:
        outs.append({k: v for k, v in loaded.model(b["inputs"]).items() if k != "attention"})
        labels.append(b["labels"])
        clip_infos.extend(b["infos"])
        ids.extend(b["ids"])
    path = Path(predictions or submission.predictions_path(run, task, split))
    return write_and_score(task, split, outs, labels, clip_infos, ids, path, data, explicit=predictions is not None,
                           source="online")
