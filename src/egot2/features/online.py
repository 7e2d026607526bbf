"""Online token streams: the TS models run on every clip as it is loaded (the authors' way, for parity
checks and ablations). :class:`OnlineStreams` items have the same form as the cached ones (frozen models,
run in the data loader); :class:`OnlineInputs` items carry the models' inputs instead, for training with
unfrozen TS models (the models then run in the training step, :mod:`egot2.training.unfrozen`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from egot2.backbones.zoo import LoadedTS, load_ts_models
from egot2.data.transforms import profile_for_root
from egot2.features import extract
from egot2.features.builder import StreamBuilder
from egot2.training.cached_data import collate_cached
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
        first_pieces: only the first piece of every clip, as a cache holds them (TTM segments longer than
            150 frames have several pieces sharing a key); default every item.
    """

    def __init__(self, primary: str, data: Path, split: str, builder: StreamBuilder, first_pieces: bool = False
                 ) -> None:
        self.primary, self.builder = primary, builder
        self.dataset = extract.extraction_dataset(primary, data, split)
        self.infos = dataset_infos(primary, self.dataset, data, split)
        self.keys = label_keys(primary)
        self.indices = extract.first_pieces(self.dataset) if first_pieces else list(range(len(self.dataset)))

    def __len__(self) -> int:
        return len(self.indices)

    def _labels(self, sample: Mapping[str, Any]) -> dict[str, Any]:
        return {k: sample[k] for k in self.keys if k in sample}

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = self.indices[i]
        key = self.dataset.items[index].key
        streams, sample = self.builder.build(self.dataset, index, self.infos.get(key, {}))
        return {"id": key, "streams": streams, "labels": self._labels(sample), "info": dict(self.infos.get(key, {}))}


class OnlineInputs(OnlineStreams):
    """The primary task's clips of one split as the TS models' inputs (decoded and transformed, no model
    run): items ``{"id", "inputs": ClipInputs, "labels", "info"}``, batched by :func:`collate_inputs`."""

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = self.indices[i]
        key = self.dataset.items[index].key
        clip = self.builder.inputs(self.dataset, index, self.infos.get(key, {}))
        return {"id": key, "inputs": clip, "labels": self._labels(clip.sample), "info": dict(self.infos.get(key, {}))}


def collate_inputs(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """:func:`~egot2.training.cached_data.collate_cached` of the labels, with ``inputs``: the clips'
    :class:`~egot2.features.builder.ClipInputs` in batch order."""
    batch = collate_cached([{**it, "streams": {}} for it in items])
    batch["inputs"] = [it["inputs"] for it in items]
    return batch


def load_models(ts: Sequence[str | Path]) -> dict[str, LoadedTS]:
    """``{task: loaded TS model}`` of the runs or checkpoints ``ts`` (``[TASK=]PATH`` each; two for one task:
    an error)."""
    return load_ts_models(ts)


def online_builder(primary: str, data: Path, ts: Sequence[str | Path], layout: Sequence[InputStream],
                   windows: dict[str, int] | None = None, models: Mapping[str, LoadedTS] | None = None,
                   strides: dict[str, float] | None = None) -> StreamBuilder:
    """A stream builder over the TS models in ``ts`` (or already ``models``) for ``layout``."""
    models = load_models(ts) if models is None else models
    return StreamBuilder(primary, {t: m.model for t, m in models.items()}, layout, profile_for_root(data), windows,
                         strides)
