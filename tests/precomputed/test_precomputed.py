"""Ego4D precomputed features: window selection by hand, file checks, and a stream in extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.cli import main
from egot2.data.video import probe_video
from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit
from egot2.features.precomputed import (
    PrecomputedFeatures,
    VideoSpan,
    covering_windows,
    load_video_features,
    parse_sources,
)
from egot2.features.windows import precomputed_feature_windows


def _fake(folder: Path, video_uid: str, num_frames: int, dim: int = 3) -> Path:
    """Features whose row i is (i, i, ...): a token says which window it came from."""
    n = len(precomputed_feature_windows(num_frames))
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(torch.arange(n, dtype=torch.float32)[:, None].repeat(1, dim), folder / f"{video_uid}.pt")
    return folder / f"{video_uid}.pt"


# 100 frames: [0,32) [16,48) [32,64) [48,80) [64,96), and (100-32) % 16 = 4 -> a last window [68,100)
@pytest.mark.parametrize(("n", "start", "end", "expected"), [
    (100, 40, 50, [1, 2, 3]),
    (100, 95, 100, [4, 5]),
    (100, 66, 67, [3, 4]),  # frame 66 is in [48,80) and [64,96) only; [68,100) starts after it
    (100, 0, 200, [0, 1, 2, 3, 4, 5]),  # an end past the video is cut at its last frame
    (64, 0, 16, [0]),  # no remainder: [0,32) [16,48) [32,64) and no extra window
    (64, 63, 64, [2]),
    (20, 3, 9, [0]),  # shorter than 32 frames: one window [0, 20)
])
def test_covering_windows_by_hand(n: int, start: int, end: int, expected: list[int]) -> None:
    assert covering_windows(n, start, end) == expected


def test_span_outside_the_video() -> None:
    with pytest.raises(UserInputError, match="not inside a video of 100 frames"):
        covering_windows(100, 100, 110)


def test_tokens_of_several_spans_in_time_order(tmp_path: Path) -> None:
    _fake(tmp_path, "v1", 100)
    _fake(tmp_path, "v2", 64)
    src = PrecomputedFeatures(tmp_path, {"v1": 100, "v2": 64}.__getitem__, keep=1)
    tokens = src.tokens([VideoSpan("v1", 40, 50), VideoSpan("v2", 0, 16), VideoSpan("v1", 95, 100)])
    assert tokens.shape == (6, 3)
    assert tokens[:, 0].tolist() == [1, 2, 3, 0, 4, 5]


@pytest.mark.parametrize(("value", "message"), [
    (torch.zeros(6), "1-D"),
    (torch.zeros(6, 2, dtype=torch.int64), "int64"),
    ({"features": torch.zeros(6, 2)}, "dict"),
    (torch.zeros(5, 2), "5 windows, but a video of 100 frames has 6"),
])
def test_bad_feature_files(tmp_path: Path, value: object, message: str) -> None:
    torch.save(value, tmp_path / "v.pt")
    with pytest.raises(UserInputError, match=message) as info:
        load_video_features(tmp_path / "v.pt", 100)
    assert info.value.file == str(tmp_path / "v.pt")


def test_missing_file_and_other_width(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no precomputed features"):
        load_video_features(tmp_path / "nope.pt", 100)
    (tmp_path / "junk.pt").write_bytes(b"not a tensor")
    with pytest.raises(UserInputError, match="not a readable torch tensor"):
        load_video_features(tmp_path / "junk.pt", 100)
    with pytest.raises(UserInputError, match="width 3, the other videos' are 8"):
        load_video_features(_fake(tmp_path, "v", 100), 100, dim=8)


def test_sources_parse() -> None:
    assert parse_sources(["slowfast=/a", "omni=b"]) == {"slowfast": Path("/a"), "omni": Path("b")}
    for bad in (["slowfast"], ["a.b=/x"], ["x=/a", "x=/b"]):
        with pytest.raises(UserInputError, match="NAME=DIR|twice"):
            parse_sources(bad)


def test_extract_adds_a_precomputed_stream(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    feats = tmp_path / "feats"
    frames = {}
    for video in sorted((tiny_world / "full_scale").glob("*.mp4")):
        frames[video.stem] = probe_video(video).num_frames()
        _fake(feats, video.stem, frames[video.stem], dim=5)
    out = tmp_path / "cache"
    assert main(["extract", "--primary", "oscc", "--data", str(tiny_world), "--ts", str(ts_runs["oscc"]), "--out",
                 str(out), "--aux", "--splits", "val", "--quiet", "--precomputed", f"ego={feats}"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert list(meta["streams"]) == ["oscc.tokens", "ego.features"] and meta["streams"]["ego.features"] == 5
    clips = {c["unique_id"]: c for c in json.loads((tiny_world / "annotations" / "fho_oscc-pnr_val.json").read_text())["clips"]}
    split = CacheSplit(out, "val")
    assert len(split) > 0
    for item in split:
        clip = clips[item.clip_id]
        s, e, n = clip["parent_start_frame"], clip["parent_end_frame"], frames[clip["video_uid"]]
        # windows [16 i, 16 i + 32) overlapping frames s..e (inclusive), plus the end-aligned one
        expected = [i for i in range((n - 32) // 16 + 1) if 16 * i <= e and 16 * i + 32 > s]
        if (n - 32) % 16 and n - 32 <= e:
            expected.append((n - 32) // 16 + 1)
        assert item.streams["ego.features"][:, 0].tolist() == expected
