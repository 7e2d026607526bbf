"""Data parallelism across processes (Lightning's DDP, or ``torchrun``): which rank this process is, the
sampler that splits every epoch across ranks, and the gathering of validation outputs so that every
clip is scored exactly once.

The same :class:`ShardedSampler` serves one process and many: an epoch is one global order (a seeded
permutation, or the dataset order), padded by wrapping to a multiple of the world size, and rank ``r``
takes positions ``r, r + W, r + 2W, ...``. With a per-rank batch ``b`` the ``k``-th batches of all ranks
together are positions ``[kWb, (k+1)Wb)`` of that order: the batch a single process with batch ``Wb``
takes at step ``k``. DDP averages the ranks' gradients, so a W-process run follows the 1-process run with
the same global batch (up to float rounding) when the loss is a mean over clips.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import Sampler

#: One validation batch as the modules collect it: (outputs, labels, infos).
ValBatch = tuple[dict[str, Tensor], dict[str, Tensor], list[dict[str, Any]]]


def process_group() -> tuple[int, int]:
    """``(rank, world size)`` of the initialised process group; ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


_P = ParamSpec("_P")
_R = TypeVar("_R")


def releases_process_group(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Destroy, when ``fn`` returns or raises, a process group that did not exist when it was called
    (the one Lightning's DDP creates inside a training function).

    A gloo group left to the interpreter's exit can abort the process ("terminate called without an
    active exception") when its worker threads outlive the interpreter; a group the caller created
    itself is left alone.
    """

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        existed = dist.is_available() and dist.is_initialized()
        try:
            return fn(*args, **kwargs)
        finally:
            if not existed and dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()

    return wrapper


def launch_rank() -> tuple[int, int]:
    """``(rank, world size)`` of a process started by ``torchrun`` (``RANK``/``WORLD_SIZE``) or of the
    initialised process group; ``(0, 1)`` for a plain process."""
    if dist.is_available() and dist.is_initialized():
        return process_group()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def shard_positions(size: int, world: int) -> int:
    """Positions per rank for ``size`` items over ``world`` ranks (the last few repeat the first)."""
    return math.ceil(size / world) if size else 0


class ShardedSampler(Sampler[int]):
    """This rank's share of an epoch (see the module docstring).

    Args:
        size: dataset length.
        shuffle: a fresh permutation every epoch (``seed + epoch``), else the dataset order.
        seed: base seed of the permutations.
    """

    def __init__(self, size: int, shuffle: bool, seed: int = 0) -> None:
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.epoch = 0
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's permutation (Lightning calls this before every epoch)."""
        self.epoch = epoch

    def skip(self, count: int) -> None:
        """Leave out the first ``count`` indices of this rank at the next iteration (a mid-epoch resume)."""
        self._skip = count

    def global_order(self, world: int) -> list[int]:
        """The epoch's order over all ranks, padded by wrapping to a multiple of ``world``."""
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        total = shard_positions(self.size, world) * world
        while order and len(order) < total:
            order += order[: total - len(order)]
        return order

    def local_indices(self, rank: int | None = None, world: int | None = None) -> list[int]:
        """The dataset indices ``rank`` (default: this process) visits this epoch, in order."""
        here, size = process_group()
        rank, world = here if rank is None else rank, size if world is None else world
        return self.global_order(world)[rank::world]

    def __iter__(self) -> Iterator[int]:
        skip, self._skip = self._skip, 0
        return iter(self.local_indices()[skip:])

    def __len__(self) -> int:
        return shard_positions(self.size, process_group()[1])


def gather_samples(local: Sequence[Any], indices: Sequence[int]) -> list[Any]:
    """Every rank's samples in dataset order, each dataset index once.

    Args:
        local: this rank's samples, in the order it visited them.
        indices: the dataset index of each (the sampler's :meth:`ShardedSampler.local_indices`); only the
            first ``len(local)`` are used (a sanity check or ``limit_val_batches`` sees fewer).
    """
    pairs = list(zip(indices, local, strict=False))
    _, world = process_group()
    if world > 1:
        parts: list[Any] = [None] * world
        dist.all_gather_object(parts, pairs)
        pairs = [p for part in parts for p in part]
    first: dict[int, Any] = {}
    for index, item in pairs:
        first.setdefault(int(index), item)  # the padding repeats a few clips: keep one
    return [first[i] for i in sorted(first)]


def _split(batch: ValBatch) -> list[ValBatch]:
    outputs, labels, infos = batch
    return [({k: v[i : i + 1] for k, v in outputs.items()}, {k: v[i : i + 1] for k, v in labels.items()}, [info])
            for i, info in enumerate(infos)]


def _joinable(samples: Sequence[ValBatch]) -> bool:
    for part in (0, 1):
        for key in samples[0][part]:
            if len({tuple(s[part][key].shape) for s in samples}) > 1:
                return False
    return True


def _join(samples: Sequence[ValBatch]) -> ValBatch:
    outputs = {k: torch.cat([s[0][k] for s in samples]) for k in samples[0][0]}
    labels = {k: torch.cat([s[1][k] for s in samples]) for k in samples[0][1]}
    return outputs, labels, [s[2][0] for s in samples]


def gather_validation(batches: Sequence[ValBatch], loader: Any) -> list[ValBatch]:
    """A validation epoch's batches over all ranks: each clip once, in dataset order, regrouped into
    batches of the global batch size (the batches a single process would have scored). Without a process
    group the batches are returned as they are.

    Per-frame outputs padded to different lengths by different ranks cannot be stacked again; such a
    group is returned clip by clip (their score does not depend on the grouping).

    Args:
        batches: this rank's ``(outputs, labels, infos)`` per validation batch, in order.
        loader: the validation DataLoader (its sampler must be a :class:`ShardedSampler`).
    """
    _, world = process_group()
    if world == 1:
        return list(batches)
    sampler = getattr(loader, "sampler", None)
    if not isinstance(sampler, ShardedSampler):
        raise RuntimeError("validation under DDP needs a ShardedSampler to score every clip once")
    samples = gather_samples([s for b in batches for s in _split(b)], sampler.local_indices())
    size = (loader.batch_size or 1) * world
    out: list[ValBatch] = []
    for start in range(0, len(samples), size):
        group = samples[start : start + size]
        out.extend([_join(group)] if _joinable(group) else [_join([s]) for s in group])
    return out


def all_gather_lists(local: Mapping[str, list[float]]) -> dict[str, list[float]]:
    """Concatenate per-key lists of floats over all ranks (rank order)."""
    _, world = process_group()
    if world == 1:
        return {k: list(v) for k, v in local.items()}
    parts: list[Any] = [None] * world
    dist.all_gather_object(parts, dict(local))
    return {k: [x for p in parts for x in p.get(k, [])] for k in local}
