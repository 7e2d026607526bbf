"""Keep decoded samples in memory after the first epoch (small worlds decode once, not every epoch)."""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset


class MemoizedDataset(Dataset):
    """Wrap a dataset so that ``ds[i]`` is computed once and then served from memory.

    Random augmentation of the wrapped dataset is therefore drawn once per item. Skip markers are not
    kept (an item that failed is tried again).

    Args:
        dataset: the dataset to wrap.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._memo: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> Any:
        if i not in self._memo:
            sample = self.dataset[i]
            if isinstance(sample, dict) and "skipped" in sample:
                return sample
            self._memo[i] = sample
        return self._memo[i]

    def __getattr__(self, name: str) -> Any:
        if name in ("dataset", "_memo"):
            raise AttributeError(name)
        return getattr(self.dataset, name)
