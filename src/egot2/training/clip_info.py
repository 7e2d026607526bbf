"""Per-clip information that scoring and prediction files need beyond the labels (ids, PNR frame
windows, LAM rows, TTM segments, ASD face frames), keyed by the dataset item's key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from egot2.data.annotations import load_oscc_pnr
from egot2.data.datasets.base import ClipDataset
from egot2.data.layout import resolve_root

PNR_FIELDS = ("parent_start_frame", "parent_end_frame", "parent_start_sec", "parent_end_sec", "parent_pnr_frame",
              "state_change")
ITEM_FIELDS = {
    "ar": ("clip_uid", "action_idx"),
    "lta": ("clip_uid",),
    "lam": ("clip_uid", "frame", "track_id", "box"),
    "ttm": ("clip_uid", "idx", "eval_start", "eval_end", "piece"),
    "asd": ("clip_uid", "person_id", "track_id", "frames", "boxes"),
}


def dataset_infos(task: str, dataset: ClipDataset, data: str | Path, split: str) -> dict[str, dict[str, Any]]:
    """``{item key: info}`` for every item of ``dataset``."""
    if task in ("pnr", "oscc"):
        root = resolve_root(data)
        clips = load_oscc_pnr(root.annotation_file(task, split), require_labels=split != "test")
        out = {}
        for c in clips:
            info: dict[str, Any] = {"unique_id": c.unique_id}
            for f in PNR_FIELDS:
                value = getattr(c, f, None)
                info[f] = bool(value) if f == "state_change" and value is not None else value
            out[c.unique_id] = info
        return out
    fields = ITEM_FIELDS.get(task, ())
    return {item.key: {"key": item.key, **{f: _plain(item.data[f]) for f in fields if f in item.data}}
            for item in dataset.items}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
