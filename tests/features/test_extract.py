"""Feature extraction on a tiny synthetic world: streams per the layout, resume, stale caches, parity
of cached and online streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit
from egot2.features.extract import extract, extraction_dataset
from egot2.features.online import OnlineStreams, online_builder
from egot2.methods import build_model, model_layout
from egot2.training.cached_data import collate_cached
from egot2.translator.layout import plan_streams


def test_pnr_cache_layout_and_resume(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in ("pnr", "oscc", "ar")]
    written = extract("pnr", tiny_world, ts, tmp_path / "c", splits=["val", "test"], progress=False)
    assert written["val"] > 0 and written["test"] > 0
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert list(meta["streams"]) == ["pnr.tokens", "oscc.tokens", "ar.slow", "ar.fast"]
    item = next(iter(CacheSplit(tmp_path / "c", "val")))
    assert item.streams["pnr.tokens"].shape[0] == 16 and item.streams["ar.slow"].shape[0] == 8
    assert "parent_pnr_frame" in item.info and item.labels["label"].shape == ()
    assert CacheSplit(tmp_path / "c", "test").get(next(iter(CacheSplit(tmp_path / "c", "test").ids()))).labels == {}
    again = extract("pnr", tiny_world, ts, tmp_path / "c", splits=["val", "test"], progress=False)
    assert again == {"val": 0, "test": 0}  # everything was already there


def test_cache_made_with_other_weights_is_refused(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    extract("oscc", tiny_world, [ts_runs["oscc"], ts_runs["pnr"], ts_runs["ar"]], tmp_path / "c", splits=["val"],
            progress=False)
    from egot2.backbones import build_ts_model
    from egot2.config.schema import TrainConfig
    from egot2.training.stage1 import save_ts_run

    torch.manual_seed(999)  # an OSCC model with other weights
    save_ts_run(tmp_path / "oscc2", build_ts_model("oscc", "tiny"), "oscc", "tiny", TrainConfig(), {})
    with pytest.raises(UserInputError, match="other TS models") as info:
        extract("oscc", tiny_world, [tmp_path / "oscc2", ts_runs["pnr"], ts_runs["ar"]], tmp_path / "c",
                splits=["val"], progress=False)
    assert "ts: cache has" in str(info.value)


def test_missing_primary_model(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="primary task 'pnr'"):
        extract("pnr", tiny_world, [ts_runs["oscc"]], tmp_path / "c", progress=False)


def test_lta_one_pooled_token_per_clip(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in ("lta", "pnr", "oscc", "ar")]
    extract("lta", tiny_world, ts, tmp_path / "c", splits=["val"], progress=False)
    item = next(iter(CacheSplit(tmp_path / "c", "val")))
    dims = json.loads((tmp_path / "c" / "meta.json").read_text())["streams"]
    assert item.streams["ar.clip"].shape == (2, dims["ar.clip"]) and dims["ar.clip"] == 256 + 64
    assert item.streams["lta.clips"].shape[0] == 2 and item.labels["verb"].shape == (20,)


@pytest.mark.parametrize("primary", ["ttm", "asd"])
def test_social_streams_per_frame(primary: str, tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in ("lam", "ttm", "asd")]
    extract(primary, tiny_world, ts, tmp_path / "c", splits=["val"], progress=False, float16=True)
    split = CacheSplit(tmp_path / "c", "val")
    item = next(iter(split))
    frames = item.streams[f"{primary}.frames"].shape[0]
    assert item.streams["lam.frames"].shape[0] == frames and item.streams["asd.frames"].shape[0] == frames
    if primary == "asd":
        assert item.labels["label"].shape == (frames,)
    else:
        assert item.streams["ttm.audio"].shape[0] == 1


def test_cached_and_online_streams_and_loss_are_equal(tiny_world: Path, ts_runs: dict[str, Path],
                                                       tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in ("lam", "ttm", "asd")]
    extract("ttm", tiny_world, ts, tmp_path / "c", splits=["val"], progress=False)
    cached = CacheSplit(tmp_path / "c", "val")
    layout = plan_streams("ttm", ["lam", "asd"])
    online = OnlineStreams("ttm", tiny_world, "val", online_builder("ttm", tiny_world, ts, layout))
    cfg = load_config([], ["model.primary=ttm", "model.translator.positions=task-sinusoidal",
                           "model.translator.dim=16", "model.translator.heads=2"])
    cfg.model.dims = {k: v.shape[-1] for k, v in next(iter(cached)).streams.items()}
    model = build_model(cfg.model).eval()
    keys = [s.key for s in model_layout(cfg.model)]
    n = min(4, len(online))
    a = collate_cached([online[i] for i in range(n)])
    b = collate_cached([{"id": c.clip_id, "streams": {k: c.streams[k] for k in keys}, "labels": c.labels,
                         "info": c.info} for c in (cached.get(online.dataset.items[i].key) for i in range(n))])
    for k in keys:
        assert torch.equal(a["streams"][k], b["streams"][k]), k
    spec = model.primary
    with torch.no_grad():
        la = spec.compute_loss(model(a["streams"], a["masks"] or None), a["labels"])
        lb = spec.compute_loss(model(b["streams"], b["masks"] or None), b["labels"])
    assert la.item() == lb.item()  # exactly equal in float32


def test_extraction_dataset_is_deterministic(tiny_world: Path) -> None:
    a = extraction_dataset("ar", tiny_world, "train")
    b = extraction_dataset("ar", tiny_world, "train")
    torch.testing.assert_close(a[0]["fast"], b[0]["fast"], rtol=0, atol=0)


def test_online_training_runs(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    from egot2.training.stage2 import train_stage2

    cfg = load_config([], ["model.primary=ttm", "model.aux=[lam,asd]", "model.translator.positions=task-sinusoidal",
                           "model.translator.dim=16", "model.translator.heads=2", "train.epochs=1",
                           "train.batch_size=4"])
    info = train_stage2(cfg, None, tmp_path / "run", online=(tiny_world, [ts_runs[t] for t in ("lam", "ttm", "asd")]),
                        progress=False)
    assert 0.0 <= info["val"]["map"] <= 1.0 and (tmp_path / "run" / "model.safetensors").exists()


@pytest.mark.parametrize(("primary", "aux"), [("oscc", ["pnr", "ar"]), ("ttm", ["lam", "asd"])])
def test_each_clip_is_decoded_once(primary: str, aux: list[str], tiny_world: Path, ts_runs: dict[str, Path],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from egot2.data import media

    reads: list[str] = []
    frames, audio = media.read_frames, media.read_audio
    monkeypatch.setattr(media, "read_frames", lambda *a, **k: reads.append("frames") or frames(*a, **k))
    monkeypatch.setattr(media, "read_audio", lambda *a, **k: reads.append("audio") or audio(*a, **k))
    builder = online_builder(primary, tiny_world, [ts_runs[t] for t in (primary, *aux)], plan_streams(primary, aux))
    data = OnlineStreams(primary, tiny_world, "val", builder)
    data[0]
    assert reads == (["frames"] if primary == "oscc" else ["frames", "audio"])  # the primary's and every aux model's


def test_prefetch_lowers_the_switch_interval_only_while_it_runs() -> None:
    """The inputs thread runs with a short thread switch interval; the interval is restored after, also
    when a clip fails."""
    import sys

    from egot2.features.extract import GIL_SWITCH_S, prefetched

    before = sys.getswitchinterval()
    seen = []

    def make(k: int) -> int:
        seen.append(sys.getswitchinterval())
        if k == 3:
            raise ValueError("clip 3 is broken")
        return k * k

    assert list(prefetched(make, [0, 1, 2], 2)) == [0, 1, 4]
    assert seen and all(abs(s - GIL_SWITCH_S) < 1e-9 for s in seen) and GIL_SWITCH_S < before
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError, match="clip 3"):
        list(prefetched(make, [0, 3, 4], 2))
    assert sys.getswitchinterval() == before


def test_extraction_shares_open_files_and_gives_the_same_streams(tiny_world: Path, ts_runs: dict[str, Path],
                                                                  tmp_path: Path, opened_files: list[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """TTM segments of one video reuse its open file (ContainerPool) and every stream is the one of an
    extraction that opens the file for every read."""
    import contextlib

    from egot2.data.video import ContainerPool

    ts = [ts_runs[t] for t in ("lam", "ttm", "asd")]
    opens = opened_files
    n = extract("ttm", tiny_world, ts, tmp_path / "pooled", splits=["train"], progress=False)["train"]
    pooled_opens = len(opens)
    monkeypatch.setattr(ContainerPool, "active", lambda self: contextlib.nullcontext(self))
    opens.clear()
    extract("ttm", tiny_world, ts, tmp_path / "fresh", splits=["train"], progress=False)
    assert n > len(set(opens)) and len(opens) >= 2 * n  # several segments per video; video and audio apart
    assert pooled_opens < len(opens)
    a, b = CacheSplit(tmp_path / "pooled", "train"), CacheSplit(tmp_path / "fresh", "train")
    assert sorted(a.ids()) == sorted(b.ids()) and len(list(a.ids())) == n
    for clip in a.ids():
        x, y = a.get(clip), b.get(clip)
        assert x.streams.keys() == y.streams.keys()
        for k in x.streams:
            assert torch.equal(x.streams[k], y.streams[k]), (clip, k)


def test_meta_records_the_window_plan_and_a_stale_plan_is_refused(tiny_world: Path, ts_runs: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in ("oscc", "pnr", "ar")]
    extract("oscc", tiny_world, ts, tmp_path / "c", windows={"ar": 3}, splits=["val"], progress=False)
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    ar = meta["plan"]["ar"]
    # 3 windows of AR's 32 frames at 15 fps (2.133 s) spread over an 8 s clip: step (8 - 2.133) / 2
    assert ar["fps"] == 15.0 and ar["span_s"] == pytest.approx(32 / 15)
    assert ar["windows"] == [[0.0, 2.133333], [2.933333, 5.066667], [5.866667, 8.0]]
    assert meta["plan"]["oscc"] == {"fps": 2.0, "span_s": 8.0, "windows": [[0.0, 8.0]]}
    meta["plan"]["ar"]["fps"] = 30.0  # as a cache planned by another version of the planner
    (tmp_path / "c" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserInputError, match="plan: cache has"):
        extract("oscc", tiny_world, ts, tmp_path / "c", windows={"ar": 3}, splits=["val"], progress=False)


def test_social_models_on_a_social_clip_read_the_face_track() -> None:
    from egot2.features.extract import window_plan

    plan = window_plan("ttm", ["ttm", "lam", "asd"])
    assert plan["lam"]["face_track"] == {"window_frames": 7} and plan["asd"]["face_track"] == "every frame"
    assert plan["ttm"]["windows"] == [[0.0, 2.7]] and "windows" not in plan["lam"]


def test_extraction_with_a_stride(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """AR slid every 2 s over 8 s OSCC clips: windows at 0, 2, 4 s and one ending at 8 s. The first and last
    coincide with those of 4 evenly spread windows, so their tokens are the same numbers."""
    from egot2.cli import main

    ts = [str(ts_runs[t]) for t in ("oscc", "pnr", "ar")]
    base = ["extract", "--primary", "oscc", "--data", str(tiny_world), "--ts", *ts, "--splits", "val", "--quiet"]
    assert main([*base, "--stride", "ar=2.0", "--out", str(tmp_path / "stride")]) == 0
    assert main([*base, "--windows", "ar=4", "--out", str(tmp_path / "spread")]) == 0
    meta = json.loads((tmp_path / "stride" / "meta.json").read_text())
    assert meta["strides"] == {"ar": 2.0}
    assert [w[0] for w in meta["plan"]["ar"]["windows"]] == [0.0, 2.0, 4.0, pytest.approx(8 - 32 / 15, abs=1e-6)]
    a, b = CacheSplit(tmp_path / "stride", "val"), CacheSplit(tmp_path / "spread", "val")
    for clip in a.ids():
        x, y = a.get(clip).streams["ar.slow"], b.get(clip).streams["ar.slow"]
        assert x.shape[0] == y.shape[0] == 32
        assert torch.equal(x[:8], y[:8]) and torch.equal(x[24:], y[24:])
        assert not torch.equal(x[8:16], y[8:16])
    capsys.readouterr()
    assert main([*base, "--stride", "ar=x", "--out", str(tmp_path / "bad")]) == 2
    assert "expected TASK=SECONDS, got 'ar=x'" in capsys.readouterr().err
    cfg = load_config([], ["model.primary=oscc", "model.translator.dim=16", "model.translator.heads=2",
                           "train.epochs=1"])
    from egot2.training.stage2 import train_stage2

    with pytest.raises(UserInputError, match="extracted with \\{'ar': 2.0\\}"):
        train_stage2(cfg, tmp_path / "stride", tmp_path / "run", progress=False)


def test_completion_files_follow_the_number_of_processes(tiny_world: Path, ts_runs: dict[str, Path],
                                                         tmp_path: Path) -> None:
    """A split is complete when every rank's completion file is there; re-extracting with another number
    of processes replaces them, so the split still reads (and a missing clip is still caught)."""
    ts, out = [ts_runs["oscc"]], tmp_path / "c"
    for rank in (0, 1):
        extract("oscc", tiny_world, ts, out, aux=[], splits=["val"], progress=False, rank=rank, world_size=2)
    folder = out / "val"
    assert sorted(p.name for p in folder.glob("complete*.json")) == ["complete-r0.json", "complete-r1.json"]
    n = len(CacheSplit(out, "val"))
    assert extract("oscc", tiny_world, ts, out, aux=[], splits=["val"], progress=False) == {"val": 0}
    assert sorted(p.name for p in folder.glob("complete*.json")) == ["complete.json"]
    assert json.loads((folder / "complete.json").read_text())["clips"] == n == len(CacheSplit(out, "val"))
    for rank in (0, 1):
        extract("oscc", tiny_world, ts, out, aux=[], splits=["val"], progress=False, rank=rank, world_size=2)
    assert sorted(p.name for p in folder.glob("complete*.json")) == ["complete-r0.json", "complete-r1.json"]
    assert len(CacheSplit(out, "val")) == n
    (folder / "complete-r1.json").unlink()
    with pytest.raises(UserInputError, match=r"did not finish on rank\(s\) \[1\] of 2"):
        CacheSplit(out, "val")
