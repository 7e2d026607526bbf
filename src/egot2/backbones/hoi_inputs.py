"""Checks of the batches and label dicts the human-object TS models receive.

A wrong key or shape raises :class:`~egot2.errors.UserInputError` naming the field and what was expected,
instead of a shape error from deep inside a convolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from egot2.errors import UserInputError


def get_tensor(
    batch: Mapping[str, Tensor], key: str, ndim: int, layout: str, *, where: str = "batch"
) -> Tensor:
    """``batch[key]``, checked to be a floating tensor with ``ndim`` dims (``layout`` names them)."""
    if key not in batch:
        raise UserInputError(
            f"{where} has no {key!r}; expected {layout} (keys present: {sorted(batch)})", field=key
        )
    x = batch[key]
    if not isinstance(x, Tensor) or x.ndim != ndim or not x.is_floating_point():
        got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise UserInputError(f"{where}[{key!r}] must be a float tensor {layout}, got {got}", field=key)
    return x


def check_channels(x: Tensor, key: str, layout: str, channel_dim: int, channels: int = 3) -> None:
    """Raise unless ``x.shape[channel_dim] == channels``."""
    if x.shape[channel_dim] != channels:
        raise UserInputError(
            f"batch[{key!r}] must be {layout} with {channels} channels, got shape {tuple(x.shape)}", field=key
        )


def get_labels(labels: Mapping[str, Tensor], key: str, shape: Sequence[int], num_classes: int) -> Tensor:
    """``labels[key]`` as an int64 tensor of ``shape`` with values in ``[0, num_classes)``."""
    if key not in labels:
        raise UserInputError(f"labels have no {key!r} (keys present: {sorted(labels)})", field=key)
    y = labels[key]
    if not isinstance(y, Tensor) or tuple(y.shape) != tuple(shape) or y.is_floating_point():
        got = f"{tuple(y.shape)} {y.dtype}" if isinstance(y, Tensor) else type(y).__name__
        raise UserInputError(
            f"labels[{key!r}] must be integer class ids of shape {tuple(shape)}, got {got}", field=key
        )
    y = y.long()
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise UserInputError(
            f"labels[{key!r}] must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]", field=key
        )
    return y


def check_time_ratio(slow: Tensor, fast: Tensor, alpha: int, t_dim: int = 2) -> None:
    """SlowFast inputs: the fast pathway has ``alpha`` times the slow pathway's frames, same H, W."""
    ts, tf = slow.shape[t_dim], fast.shape[t_dim]
    if (
        tf != alpha * ts
        or slow.shape[t_dim + 1 :] != fast.shape[t_dim + 1 :]
        or slow.shape[0] != fast.shape[0]
    ):
        raise UserInputError(
            f"'fast' must have {alpha} x the frames of 'slow' and the same batch and H, W; got slow "
            f"{tuple(slow.shape)}, fast {tuple(fast.shape)}",
            field="fast",
        )
