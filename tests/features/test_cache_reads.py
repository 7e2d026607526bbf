"""Cache reads copy each clip's rows out of the shard (no memory map that keeps the cache resident)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from egot2.errors import UserInputError
from egot2.features.cache import CacheItem, CacheSplit, CacheWriter, write_meta


def _write(root: Path, dtype: str = "float32") -> list[CacheItem]:
    write_meta(root, {"primary": "asd", "streams": {"asd.frames": 3, "lam.frames": 2}, "dtype": dtype})
    writer = CacheWriter(root, "val", shard_size=8)
    items = []
    for i, t in enumerate((4, 0, 2)):  # a clip may have no tokens of a stream
        items.append(CacheItem(f"c{i}", {"asd.frames": torch.randn(t, 3), "lam.frames": torch.randn(t, 2)},
                               {"label": torch.arange(t, dtype=torch.int64), "flag": torch.tensor(i % 2 == 0)},
                               {"i": i}))
        writer.add(items[-1])
    writer.flush()
    return items


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_rows_of_every_dtype_and_length(tmp_path: Path, dtype: str) -> None:
    items = _write(tmp_path, dtype)
    split = CacheSplit(tmp_path, "val")
    for it in items:
        got = split.get(it.clip_id)
        for k, v in it.streams.items():
            assert got.streams[k].dtype == torch.float32 and got.streams[k].shape == v.shape
            torch.testing.assert_close(got.streams[k], v.to(getattr(torch, dtype)).float(), rtol=0, atol=0)
        assert torch.equal(got.labels["label"], it.labels["label"]) and got.labels["flag"].shape == ()
        assert bool(got.labels["flag"]) == bool(it.labels["flag"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_tokens_are_not_views_of_a_mapped_shard(tmp_path: Path) -> None:
    _write(tmp_path)
    split = CacheSplit(tmp_path, "val")
    tokens = split.get("c0").streams["asd.frames"]
    assert str(tmp_path) not in Path("/proc/self/maps").read_text()  # nothing of the cache is mapped
    assert tokens.sum().isfinite() and len(split) == 3


def test_header_that_promises_more_than_the_file(tmp_path: Path) -> None:
    _write(tmp_path)
    shard = next((tmp_path / "val").glob("shard-*.safetensors"))
    data = shard.read_bytes()
    shard.write_bytes(data[:8] + b"{not json" + data[17:])
    with pytest.raises(UserInputError, match="unreadable header"):
        CacheSplit(tmp_path, "val")
    shard.write_bytes((10**9).to_bytes(8, "little") + data[8:])
    with pytest.raises(UserInputError, match="header of"):
        CacheSplit(tmp_path, "val")
