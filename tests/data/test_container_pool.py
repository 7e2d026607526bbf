"""ContainerPool: reads of one file share an open container and give the frames and samples a freshly
opened file gives, in any order; a failed read closes its container; the least recently used file is
closed beyond the pool's size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from egot2.data.audio import read_audio
from egot2.data.video import ContainerPool, probe_video, read_frames
from egot2.errors import UserInputError


@pytest.fixture()
def opens(opened_files: list[str]) -> list[str]:
    """The files :func:`open_container` opens (probing included)."""
    return opened_files


def _with_audio(world: Path, n: int) -> list[Path]:
    return [p for p in sorted((world / "full_scale").glob("*.mp4")) if probe_video(p).has_audio][:n]


def _reads(path: Path) -> list[Callable[[], np.ndarray]]:
    """Reads that go forwards, back to the start, back again, and switch between frames and audio."""
    return [
        lambda: read_frames(path, [40, 41, 60]),
        lambda: read_audio(path, 1.0, 1.5),
        lambda: read_frames(path, [0, 3]),  # back to the start: no seek would give later frames
        lambda: read_audio(path, 0.0, 0.3),
        lambda: read_frames(path, [12], pixels="gray", crop=(2, 2, 20, 16)),
        lambda: read_audio(path, 2.0, 2.2),
        lambda: read_frames(path, [15, 14, 15]),
    ]


def test_pooled_reads_equal_fresh_reads_and_share_the_open_file(tiny_world: Path, opens: list[str]) -> None:
    path = _with_audio(tiny_world, 1)[0]
    probe_video(path)
    fresh = [read() for read in _reads(path)]
    assert len(opens) >= len(fresh)  # one open per read without a pool
    opens.clear()
    pool = ContainerPool()
    with pool.active():
        pooled = [read() for read in _reads(path)]
    pool.close()
    assert opens == [path.name, path.name]  # audio from the file's start is read from a fresh container
    for a, b in zip(fresh, pooled, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_no_pool_outside_the_block_nor_in_other_threads(tiny_world: Path, opens: list[str]) -> None:
    import threading

    path = _with_audio(tiny_world, 1)[0]
    pool = ContainerPool()
    with pool.active():
        assert ContainerPool.current() is pool
        other: list[object] = []
        t = threading.Thread(target=lambda: other.append(ContainerPool.current()))
        t.start()
        t.join()
        assert other == [None]
    assert ContainerPool.current() is None
    read_frames(path, [1])
    read_frames(path, [2])
    assert opens == [path.name, path.name]
    pool.close()


def test_a_failed_read_closes_its_container_and_the_next_reopens(tiny_world: Path, opens: list[str]) -> None:
    path = _with_audio(tiny_world, 1)[0]
    n = probe_video(path).num_frames()
    pool = ContainerPool()
    with pool.active():
        read_frames(path, [5])
        with pytest.raises(UserInputError, match="beyond"):
            read_frames(path, [n + 3])
        again = read_frames(path, [5, 6])
    pool.close()
    assert opens == [path.name, path.name]  # the failed read's container was not kept
    np.testing.assert_array_equal(again, read_frames(path, [5, 6]))


def test_least_recently_used_files_are_closed_beyond_the_size(tiny_world: Path, opens: list[str]) -> None:
    a, b = _with_audio(tiny_world, 2)
    for p in (a, b):
        probe_video(p)
    opens.clear()
    pool = ContainerPool(size=1)
    with pool.active():
        for p in (a, a, b, a, b, b):
            read_frames(p, [7])
    assert opens == [a.name, b.name, a.name, b.name]
    held = list(pool._open.values())
    assert len(held) == 1
    pool.close()
    assert pool._open == {}
