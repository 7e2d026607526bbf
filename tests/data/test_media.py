"""SharedMedia: several readers of one clip share one decoding pass and get the frames and audio that
reading alone would give them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from egot2.data import media as media_mod
from egot2.data.audio import read_audio
from egot2.data.media import SharedMedia
from egot2.data.video import probe_video, read_frames


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    calls: dict[str, list] = {"frames": [], "audio": []}
    frames, audio = media_mod.read_frames, media_mod.read_audio

    def count_frames(path, indices, **kw):  # noqa: ANN001, ANN003, ANN202
        calls["frames"].append(list(indices))
        return frames(path, indices, **kw)

    def count_audio(path, start, end, **kw):  # noqa: ANN001, ANN003, ANN202
        calls["audio"].append((start, end))
        return audio(path, start, end, **kw)

    monkeypatch.setattr(media_mod, "read_frames", count_frames)
    monkeypatch.setattr(media_mod, "read_audio", count_audio)
    return calls


def _video(world: Path, audio: bool = False) -> Path:
    return next(p for p in sorted((world / "full_scale").glob("*.mp4")) if probe_video(p).has_audio or not audio)


def test_expected_frames_are_decoded_with_the_first_read(tiny_world: Path, counted: dict[str, list]) -> None:
    path = _video(tiny_world)
    media = SharedMedia(path)
    media.expect([30, 45, 12])
    first = media.frames(path, [12, 3, 3, 20])
    second = media.frames(path, [45, 30, 20])
    assert counted["frames"] == [[3, 12, 20, 30, 45]]  # one pass, sorted, repeats once
    np.testing.assert_array_equal(first, read_frames(path, [12, 3, 3, 20]))
    np.testing.assert_array_equal(second, read_frames(path, [45, 30, 20]))
    media.frames(path, [50])  # not decoded yet: another pass
    assert counted["frames"][-1] == [50]


def test_grey_and_cropped_reads_go_to_the_file(tiny_world: Path, counted: dict[str, list]) -> None:
    path = _video(tiny_world)
    media = SharedMedia(path)
    media.frames(path, [4, 5])
    grey = media.frames(path, [4, 5], pixels="gray", crop=(0, 0, 10, 8))
    np.testing.assert_array_equal(grey, read_frames(path, [4, 5], pixels="gray", crop=(0, 0, 10, 8)))
    media.frames(path, [5, 4])
    assert counted["frames"] == [[4, 5], [4, 5]]  # the grey read is decoded apart, the RGB frames are kept


def test_an_audio_span_is_decoded_once(tiny_world: Path, counted: dict[str, list]) -> None:
    path = _video(tiny_world, audio=True)
    media = SharedMedia(path)
    a = media.audio(path, 1.0, 2.0)
    a[:] = 0.0  # a reader's copy: the next reader still gets the signal
    b = media.audio(path, 1.0, 2.0)
    assert counted["audio"] == [(1.0, 2.0)]
    np.testing.assert_array_equal(b, read_audio(path, 1.0, 2.0))
    media.audio(path, 1.0, 2.5)
    assert len(counted["audio"]) == 2
