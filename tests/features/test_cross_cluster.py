"""Cross-cluster streams (paper Appendix A.3): social models on human-object clips read whole frames,
human-object models on social clips read planned windows; and the cross-cluster EgoT2-g config extracts
and trains end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from egot2.backbones.zoo import load_ts_model
from egot2.cli import main
from egot2.data.samplers import slow_indices
from egot2.data.transforms import task_transform
from egot2.data.video import read_frames
from egot2.features.cache import CacheSplit
from egot2.features.extract import extract, extraction_dataset


def _first(cache: Path, world: Path, task: str):  # noqa: ANN202
    split = CacheSplit(cache, "val")
    cached = next(iter(split))
    item = next(i for i in extraction_dataset(task, world, "val").items if i.key == cached.clip_id)
    return cached, item


@torch.no_grad()
def test_social_models_on_a_hoi_clip_read_whole_frames(tiny_world: Path, ts_runs: dict[str, Path],
                                                        tmp_path: Path) -> None:
    aux = ["lam", "ttm", "asd"]
    extract("oscc", tiny_world, [ts_runs[t] for t in ("oscc", *aux)], tmp_path / "c", aux=aux, windows={"lam": 2},
            splits=["val"], progress=False, limit=1)
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert list(meta["streams"]) == ["oscc.tokens", "lam.frames", "ttm.frames", "asd.visual"]  # no audio pathway
    cached, item = _first(tmp_path / "c", tiny_world, "oscc")
    start, end = int(cached.info["parent_start_frame"]), int(cached.info["parent_end_frame"])
    n = end - start  # the 8 s clip at the social models' 30 fps
    raw = read_frames(item.video.path, list(range(start, end)))
    models = {t: load_ts_model(ts_runs[t]).model for t in aux}
    whole = task_transform("ttm", "synth").frames(raw)  # (n, 3, S, S): the whole frame resized, no face box
    ttm = models["ttm"].tokens({"video": whole[None]})["frames"][0]
    grey = task_transform("asd", "synth").frames(raw)[:, 0]  # (n, S, S)
    asd = models["asd"].tokens({"video": grey[None]})["visual"][0]
    lam_frames = task_transform("lam", "synth").frames(raw)
    windows = (lam_frames[:7], lam_frames[n - 7:])  # two 7-frame windows: the first and the last
    lam = torch.cat([models["lam"].tokens({"video": w[None]})["frames"][0] for w in windows])  # (14, D)
    assert cached.streams["ttm.frames"].shape[0] == n == cached.streams["asd.visual"].shape[0]
    assert torch.equal(cached.streams["ttm.frames"], ttm)
    assert torch.equal(cached.streams["asd.visual"], asd)
    assert torch.equal(cached.streams["lam.frames"], lam)


@torch.no_grad()
def test_hoi_model_on_a_social_clip_reads_planned_windows(tiny_world: Path, ts_runs: dict[str, Path],
                                                          tmp_path: Path) -> None:
    aux = ["lam", "asd", "ar"]
    extract("ttm", tiny_world, [ts_runs[t] for t in ("ttm", *aux)], tmp_path / "c", aux=aux, windows={"ar": 2},
            splits=["val"], progress=False, limit=1)
    cached, item = _first(tmp_path / "c", tiny_world, "ttm")
    start, end = item.video.offset + item.data["start"], item.video.offset + item.data["end"] + 1
    n = end - start
    starts = (0, n - 64) if n >= 64 else (0, 0)  # 2 AR windows of 64 frames spread over the clip
    ar = load_ts_model(ts_runs["ar"]).model
    expected = []
    for s in starts:
        raw = read_frames(item.video.path, [start + min(s + 2 * k, n - 1) for k in range(32)])  # 15 fps
        fast = task_transform("ar", "synth").frames(raw, layout="cthw")[None]  # (1, 3, 32, S, S)
        expected.append(ar.tokens({"slow": fast[:, :, slow_indices(32)], "fast": fast}))
    for name in ("slow", "fast"):
        assert torch.equal(cached.streams[f"ar.{name}"], torch.cat([e[name][0] for e in expected]))
    assert cached.streams["lam.frames"].shape[0] == n == cached.streams["ttm.frames"].shape[0]


def test_cross_cluster_config_extracts_and_trains(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cross.yaml"
    cfg.write_text(
        "model:\n  method: egot2-g\n"
        "  generalist: {tasks: [oscc, ar, ttm], cross_cluster: true, decoder_layers: 1, max_len: 8}\n"
        "  translator: {dim: 16, layers: 1, heads: 2, ffn: 32, dropout: 0.0, positions: task-sinusoidal}\n"
        "train: {epochs: 1, batch_size: 8}\n")
    ts = [str(ts_runs[t]) for t in ("oscc", "ar", "ttm")]
    for task in ("oscc", "ar", "ttm"):
        rc = main(["extract", "--config", str(cfg), "--primary", task, "--data", str(tiny_world), "--ts", *ts,
                   "--out", str(tmp_path / "caches" / task), "--splits", "train", "val", "--quiet"])
        assert rc == 0
    streams = {t: set(json.loads((tmp_path / "caches" / t / "meta.json").read_text())["streams"])
               for t in ("oscc", "ar", "ttm")}
    assert streams == {"oscc": {"oscc.tokens", "ar.slow", "ar.fast", "ttm.frames"},  # span rule: no PNR/OSCC on TTM
                       "ar": {"ar.slow", "ar.fast", "oscc.tokens", "ttm.frames"},
                       "ttm": {"ttm.frames", "ttm.audio", "ar.slow", "ar.fast"}}
    capsys.readouterr()
    rc = main(["train", "--config", str(cfg), "--cache", str(tmp_path / "caches"), "--out", str(tmp_path / "run"),
               "--quiet"])
    assert rc == 0 and set(json.loads(capsys.readouterr().out)["val"]) == {"oscc", "ar", "ttm"}
    rc = main(["extract", "--config", str(cfg), "--primary", "oscc", "--aux", "ar", "--data", str(tiny_world),
               "--ts", *ts, "--out", str(tmp_path / "x")])
    assert rc == 2 and "leave out --aux" in capsys.readouterr().err
