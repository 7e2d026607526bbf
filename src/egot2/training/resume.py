"""Crash safety of training runs: atomic checkpoints, mid-epoch checkpoints, data loaders and random
state that resume exactly where a killed run stopped, and a resume checkpoint checked before Lightning
reads it.

A run killed at any moment resumes with ``--resume`` from ``RUN/checkpoints/last.ckpt`` and ends with
the same weights and metrics as an uninterrupted run (CPU, fixed seeds): the checkpoint holds the loop
position, the optimiser, the torch random state and how many batches of the epoch each loader has
served; the loaders' samplers are seeded per epoch, so the resumed epoch continues with the same batches,
and every loader draws its worker seed from its own generator, so that creating loader iterators (which
a resumed run does at other moments) never moves the global random state.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch.utils.data import DataLoader, Dataset

from egot2.config.schema import TrainConfig
from egot2.errors import UserInputError
from egot2.training.distributed import ShardedSampler
from egot2.utils.atomic import atomic_path

LAST = "last.ckpt"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoints written to a temporary name, synced and renamed into place."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


class StepCheckpoint(Callback):
    """Save ``last.ckpt`` every ``every`` training steps inside an epoch (not after an epoch's last batch:
    the end-of-epoch checkpoint follows validation).

    Args:
        path: the checkpoint file.
        every: steps between saves.
    """

    def __init__(self, path: Path, every: int) -> None:
        self.path, self.every = Path(path), every

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if trainer.global_step % self.every or trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        trainer.save_checkpoint(self.path)


class ResumableLoader(DataLoader):
    """A DataLoader over a :class:`ShardedSampler` whose state is the number of batches it served in the
    current epoch; after :meth:`load_state_dict` its next iteration skips them (:class:`ResumeLoaders`).

    Args:
        dataset: the dataset.
        batch_size: clips per batch (per rank).
        sampler: the sampler.
        collate_fn: the collate function.
        seed: seed of the loader's own generator.
    """

    def __init__(self, dataset: Dataset, batch_size: int, sampler: ShardedSampler, collate_fn: Any,
                 seed: int = 0) -> None:
        super().__init__(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collate_fn, num_workers=0,
                         generator=torch.Generator().manual_seed(seed))
        self.served = 0
        self._resume_at = 0

    def __iter__(self) -> Iterator[Any]:
        start, self._resume_at = self._resume_at, 0
        self.sampler.skip(start * (self.batch_size or 1))  # type: ignore[attr-defined]
        self.served = start
        for batch in super().__iter__():
            self.served += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """Batches of the current epoch served so far."""
        return {"batches": self.served}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Skip the batches a checkpoint says were served (none after a finished epoch)."""
        served = int(state.get("batches", 0))
        self._resume_at = served if served < len(self) else 0


def _train_loaders(trainer: L.Trainer) -> list[Any]:
    """The training loaders in a fixed order (one, or those of a CombinedLoader's dict or list)."""
    loaders = trainer.train_dataloader
    if isinstance(loaders, Mapping):
        return list(loaders.values())
    if isinstance(loaders, list | tuple):
        return list(loaders)
    return [loaders]


class ResumeLoaders(Callback):
    """Save the training loaders' states in every checkpoint and hand them back on resume.

    (Lightning restores stateful loaders itself only when it sets up the training data after loading a
    checkpoint; estimating the number of steps for a learning-rate schedule sets it up before.)
    """

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._trainer: L.Trainer | None = None

    def state_dict(self) -> dict[str, Any]:
        if self._trainer is None:
            return {"loaders": []}
        loaders = _train_loaders(self._trainer)
        return {"loaders": [x.state_dict() if isinstance(x, ResumableLoader) else {} for x in loaders]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = list(state_dict.get("loaders", []))

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for loader, state in zip(_train_loaders(trainer), self._pending, strict=False):
            if isinstance(loader, ResumableLoader):
                loader.load_state_dict(state)
        self._pending = []


def train_loader(dataset: Dataset, batch_size: int, seed: int, collate_fn: Any) -> ResumableLoader:
    """A shuffled, rank-sharded, resumable training loader."""
    return ResumableLoader(dataset, batch_size, ShardedSampler(len(dataset), True, seed), collate_fn,  # type: ignore[arg-type]
                           seed)


def eval_loader(dataset: Dataset, batch_size: int, collate_fn: Any) -> DataLoader:
    """A validation loader in dataset order, sharded over ranks (gathered again before scoring)."""
    return DataLoader(dataset, batch_size=batch_size, sampler=ShardedSampler(len(dataset), False),  # type: ignore[arg-type]
                      collate_fn=collate_fn, num_workers=0, generator=torch.Generator().manual_seed(0))


def trainer_options(out: Path, train: TrainConfig, best: ModelCheckpoint) -> dict[str, Any]:
    """The Trainer arguments every stage shares for crash safety and DDP: the callbacks (``best`` and,
    with ``train.checkpoint_every_steps``, a mid-epoch ``last.ckpt``), atomic checkpoint writes and our
    own rank-sharded samplers instead of Lightning's."""
    callbacks: list[Callback] = [best, ResumeLoaders()]
    if train.checkpoint_every_steps > 0:
        callbacks.append(StepCheckpoint(Path(out) / "checkpoints" / LAST, train.checkpoint_every_steps))
    return {"callbacks": callbacks, "plugins": [AtomicCheckpointIO()], "use_distributed_sampler": False}


def best_checkpoint(out: Path) -> ModelCheckpoint:
    """The callback that keeps ``best.ckpt`` (highest ``val_metric``) and ``last.ckpt`` after each
    validation, overwriting them in place rather than adding ``-v1`` copies."""
    return ModelCheckpoint(dirpath=Path(out) / "checkpoints", monitor="val_metric", mode="max", save_last=True,
                           filename="best", enable_version_counter=False)


def check_checkpoint(path: Path) -> None:
    """Refuse a checkpoint that is truncated, corrupt, or pickles anything but tensors and plain data,
    with a message naming the file, before Lightning reads it."""
    from egot2.checkpoints.reader import unpickling_reason

    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UserInputError(f"refusing to load a checkpoint that pickles objects other than tensors and plain "
                             f"data ({unpickling_reason(exc)}); egot2 never writes such files", file=path) from None
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0]  # torch's first sentence
        raise UserInputError(f"corrupt or truncated checkpoint ({type(exc).__name__}: {first}); delete it to "
                             "start again without --resume, or restore an intact copy", file=path) from None


def resume_path(out: Path, resume: bool) -> str | None:
    """``RUN/checkpoints/last.ckpt`` when resuming from one (checked first), else ``None``."""
    last = Path(out) / "checkpoints" / LAST
    if not resume or not last.exists():
        return None
    check_checkpoint(last)
    return str(last)


def save_random_state(checkpoint: dict[str, Any]) -> None:
    """Put the torch random state into a checkpoint (dropout and random clip sampling continue exactly)."""
    checkpoint["egot2_rng"] = {"torch": torch.get_rng_state()}


def load_random_state(checkpoint: Mapping[str, Any]) -> None:
    """Restore the torch random state saved by :func:`save_random_state`, if there is one."""
    state = checkpoint.get("egot2_rng")
    if state is not None:
        torch.set_rng_state(state["torch"])
