"""Online token streams: the frozen TS models run on every clip as it is loaded (the authors' way, for
parity checks and ablations). Items have the same form as the cached ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from egot2.backbones.zoo import load_ts_model
from egot2.data.transforms import profile_for_root
from egot2.features.builder import StreamBuilder
from egot2.features.extract import extraction_dataset
from egot2.training.clip_info import dataset_infos
from egot2.training.stage1 import label_keys
from egot2.translator.layout import InputStream


class OnlineStreams(Dataset):
    """The primary task's clips of one split, each turned into token streams when loaded.

    Args:
        primary: the primary task.
        data: the data folder.
        split: the split.
        builder: the stream builder (holding the frozen TS models).
    """

    def __init__(self, primary: str, data: Path, split: str, builder: StreamBuilder) -> None:
        self.primary, self.builder = primary, builder
        self.dataset = extraction_dataset(primary, data, split)
        self.infos = dataset_infos(primary, self.dataset, data, split)
        self.keys = label_keys(primary)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict[str, Any]:
        key = self.dataset.items[i].key
        streams, sample = self.builder.build(self.dataset, i, self.infos.get(key, {}))
        labels = {k: sample[k] for k in self.keys if k in sample}
        return {"id": key, "streams": streams, "labels": labels, "info": dict(self.infos.get(key, {}))}


def online_builder(primary: str, data: Path, ts: Sequence[Path], layout: Sequence[InputStream],
                   windows: dict[str, int] | None = None) -> StreamBuilder:
    """A stream builder over the TS models in ``ts`` for ``layout``."""
    models = {m.task: m.model for m in (load_ts_model(p) for p in ts)}
    return StreamBuilder(primary, models, layout, profile_for_root(data), windows)
