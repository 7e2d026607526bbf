"""The feature cache: round trip, float16, resume, truncated shards, stale metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from egot2.errors import UserInputError
from egot2.features.cache import CacheItem, CacheSplit, CacheWriter, check_meta, read_meta, write_meta


def _item(i: int, frames: int) -> CacheItem:
    g = torch.Generator().manual_seed(i)
    return CacheItem(
        clip_id=f"clip{i}",
        streams={"ttm.frames": torch.randn(frames, 4, generator=g), "ttm.audio": torch.randn(1, 3, generator=g)},
        labels={"label": torch.tensor(i % 2)},
        info={"clip_uid": f"c{i}", "idx": i},
    )


def _make(root: Path, dtype: str = "float32", n: int = 5, shard: int = 2) -> list[CacheItem]:
    write_meta(root, {"primary": "ttm", "streams": {"ttm.frames": 4, "ttm.audio": 3}, "dtype": dtype})
    writer = CacheWriter(root, "val", shard_size=shard)
    items = [_item(i, frames=3 + i) for i in range(n)]
    for it in items:
        writer.add(it)
    writer.flush()
    return items


def test_round_trip_by_id(tmp_path: Path) -> None:
    items = _make(tmp_path)
    split = CacheSplit(tmp_path, "val")
    assert len(split.shards) == 3 and split.ids() == [f"clip{i}" for i in range(5)]
    got = split.get("clip3")
    assert torch.equal(got.streams["ttm.frames"], items[3].streams["ttm.frames"])  # exact in float32
    assert got.streams["ttm.frames"].shape == (6, 4)
    assert got.labels["label"].shape == () and int(got.labels["label"]) == 1 and got.info == {"clip_uid": "c3", "idx": 3}
    with pytest.raises(UserInputError, match="not in the 'val' split"):
        split.get("nope")


def test_float16_storage(tmp_path: Path) -> None:
    items = _make(tmp_path, dtype="float16")
    got = CacheSplit(tmp_path, "val").get("clip1").streams["ttm.frames"]
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, items[1].streams["ttm.frames"], atol=2e-3, rtol=1e-3)
    assert not torch.equal(got, items[1].streams["ttm.frames"])


def test_resume_skips_done_clips(tmp_path: Path) -> None:
    _make(tmp_path, n=4, shard=2)
    writer = CacheWriter(tmp_path, "val", shard_size=2)
    assert writer.done == {"clip0", "clip1", "clip2", "clip3"}


def test_truncated_shard_is_refused(tmp_path: Path) -> None:
    _make(tmp_path)
    shard = tmp_path / "val" / "shard-00001.safetensors"
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(UserInputError, match="shard-00001"):
        CacheSplit(tmp_path, "val")


def test_temporary_files_are_never_read(tmp_path: Path) -> None:
    _make(tmp_path)
    (tmp_path / "val" / ".shard-00003.safetensors.tmp-abc").write_bytes(b"half written")
    assert len(CacheSplit(tmp_path, "val")) == 5


def test_stale_meta_is_refused(tmp_path: Path) -> None:
    _make(tmp_path)
    check_meta(tmp_path, {"primary": "ttm"})
    with pytest.raises(UserInputError, match="primary: cache has 'ttm', expected 'asd'"):
        check_meta(tmp_path, {"primary": "asd"})
    with pytest.raises(UserInputError, match="no meta.json"):
        read_meta(tmp_path / "elsewhere")


def test_wrong_streams_rejected(tmp_path: Path) -> None:
    _make(tmp_path)
    writer = CacheWriter(tmp_path, "train")
    bad = _item(9, 2)
    del bad.streams["ttm.audio"]
    with pytest.raises(UserInputError, match="streams"):
        writer.add(bad)
