"""Run an egot2 command and SIGKILL it at a chosen point, as a crash would (no clean-up runs).

``python killer.py train STEP ARGS...``: ``egot2 ARGS`` dies right after training step ``STEP`` (after the
callbacks of that step, so a checkpoint due at that step is written first).
``python killer.py extract SHARD PRIMARY DATA OUT SHARD_SIZE TS...``: extraction dies while writing its
``SHARD``-th shard, after the temporary file is written and before it is renamed into place.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at_step(step: int) -> None:
    """SIGKILL after the training step ``step`` of any stage's module."""
    import lightning as L

    original = L.LightningModule.on_train_batch_end

    def on_train_batch_end(self: L.LightningModule, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.trainer.global_step == step:
            _die()

    L.LightningModule.on_train_batch_end = on_train_batch_end  # type: ignore[method-assign]


def kill_in_shard(count: int) -> None:
    """SIGKILL while writing the ``count``-th cache shard, between writing and renaming it."""
    import egot2.features.cache as cache

    original, calls = cache.save_file, [0]

    def save_file(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == count:
            _die()

    cache.save_file = save_file


def main(argv: list[str]) -> int:
    kind, at, rest = argv[0], int(argv[1]), argv[2:]
    if kind == "train":
        from egot2.cli import main as cli

        kill_at_step(at)
        return cli(rest)
    from egot2.features.extract import extract

    kill_in_shard(at)
    primary, data, out, shard_size, *ts = rest
    extract(primary, Path(data), [Path(t) for t in ts], Path(out), aux=[], shard_size=int(shard_size),
            progress=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
