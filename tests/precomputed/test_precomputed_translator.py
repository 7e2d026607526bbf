"""Precomputed features as translator input: ``model.precomputed: {NAME: D}`` appends the cached stream
``NAME.features`` (variable length, padded and masked) to a translator's layout; train, eval and the
errors."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from egot2.baselines.feature_mlp import FeatureMLP
from egot2.cli import main
from egot2.config import load_config
from egot2.config.schema import FusionConfig, TranslatorConfig
from egot2.data.video import probe_video
from egot2.errors import UserInputError
from egot2.features.cache import CacheSplit
from egot2.features.windows import precomputed_feature_windows
from egot2.methods import build_model, model_layout
from egot2.tasks import get_task
from egot2.training.cached_data import CachedStreams, collate_cached
from egot2.training.runs import load_run
from egot2.translator import EgoT2S, plan_streams
from egot2.translator.frame_windows import per_frame_keys, split_windows
from egot2.translator.projection import module_key

SMALL = ["model.translator.dim=16", "model.translator.heads=2", "model.translator.layers=1", "model.translator.ffn=16",
         "model.translator.dropout=0.0", "model.translator.positions=task-sinusoidal"]
TRAIN = ["train.epochs=2", "train.batch_size=4", "train.lr=0.01", "train.optimizer=adam"]


def _fake(folder: Path, video_uid: str, num_frames: int, dim: int, g: torch.Generator) -> None:
    """Random features, one row per feature window of the video."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(torch.randn(len(precomputed_feature_windows(num_frames)), dim, generator=g), folder / f"{video_uid}.pt")


# -- the layout ---------------------------------------------------------------------------------------

def test_precomputed_streams_come_last_and_are_not_per_frame() -> None:
    layout = plan_streams("ttm", ["lam"], precomputed={"ego": 5, "omni": 3})
    assert [(s.key, s.tokens, s.dim, s.precomputed) for s in layout[-2:]] == [
        ("ego.features", None, 5, True), ("omni.features", None, 3, True)]
    assert [s.key for s in layout[:-2]] == [s.key for s in plan_streams("ttm", ["lam"])]
    assert [s.per_frame for s in layout] == [True, False, True, False, False]  # ttm.audio is one token
    # an explicit stream selection keeps the precomputed streams (and may name them)
    kept = plan_streams("ttm", ["lam"], streams=["ttm.frames"], precomputed={"ego": 5})
    assert [s.key for s in kept] == ["ttm.frames", "ego.features"]
    assert plan_streams("ttm", ["lam"], streams=["ttm.frames", "ego.features"], precomputed={"ego": 5}) == kept


@pytest.mark.parametrize(("precomputed", "dims", "message"), [
    ({"ar": 5}, {}, "is a task's name"),
    ({"a.b": 5}, {}, "letters, digits"),
    ({"ego": 0}, {}, "integer >= 1"),
    ({"ego": True}, {}, "integer >= 1"),
    ({"ego": 5}, {"ego.features": 7}, "dims gives ego.features 7 dims"),
    ({}, {"ego.features": 7}, "unknown stream"),
])
def test_bad_precomputed_layouts(precomputed: dict, dims: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        plan_streams("oscc", [], precomputed=precomputed, dims=dims)


def test_config_key_reaches_every_method() -> None:
    for method, aux in (("egot2-s", None), ("finetune", None), ("transfer", ["pnr"]), ("late-fusion", None)):
        cfg = load_config([], [f"model.method={method}", "model.primary=oscc", "model.precomputed.ego=5",
                               *([f"model.aux=[{aux[0]}]"] if aux else [])])
        assert model_layout(cfg.model)[-1].key == "ego.features"
    with pytest.raises(UserInputError, match="precomputed"):
        load_config([], ["model.precomputed.ego=wide"])


def test_learned_positions_need_max_tokens() -> None:
    layout = plan_streams("oscc", [], precomputed={"ego": 5}, dims={"oscc.tokens": 8})
    with pytest.raises(UserInputError, match="precomputed streams"):
        EgoT2S(get_task("oscc"), layout, TranslatorConfig(dim=16, heads=2, ffn=16, layers=1, positions="learned"))
    EgoT2S(get_task("oscc"), layout, TranslatorConfig(dim=16, heads=2, ffn=16, layers=1, positions="learned",
                                                      max_tokens=64))


def test_padding_of_a_precomputed_stream_is_masked() -> None:
    """Two clips with 3 and 6 feature windows: the short clip's answer ignores its padding, and equals its
    answer alone (unpadded)."""
    layout = plan_streams("oscc", [], precomputed={"ego": 5}, dims={"oscc.tokens": 8})
    model = EgoT2S(get_task("oscc"), layout, TranslatorConfig(dim=16, heads=2, ffn=16, layers=1, dropout=0.0,
                                                              positions="task-sinusoidal")).eval()
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(2, 16, 8, generator=g)
    ego = torch.randn(2, 6, 5, generator=g)
    mask = torch.tensor([[True] * 3 + [False] * 3, [True] * 6])
    out = model({"oscc.tokens": tokens, "ego.features": ego}, {"ego.features": mask})["logits"]
    ego2 = ego.clone()
    ego2[0, 3:] = 100.0  # only padding changes
    assert torch.allclose(model({"oscc.tokens": tokens, "ego.features": ego2}, {"ego.features": mask})["logits"], out)
    alone = model({"oscc.tokens": tokens[:1], "ego.features": ego[:1, :3]})["logits"]
    assert torch.allclose(alone, out[:1], atol=1e-5)
    ego2[0, :3] += 1.0  # real tokens change: the answer changes
    assert not torch.allclose(model({"oscc.tokens": tokens, "ego.features": ego2}, {"ego.features": mask})["logits"][0],
                              out[0])


def test_baselines_resample_the_real_feature_windows_only() -> None:
    layout = plan_streams("oscc", [], precomputed={"ego": 5}, dims={"oscc.tokens": 8})
    model = FeatureMLP(get_task("oscc"), layout, FusionConfig(hidden=8, dropout=0.0), time_from="oscc.tokens").eval()
    g = torch.Generator().manual_seed(0)
    tokens, ego = torch.randn(2, 16, 8, generator=g), torch.randn(2, 6, 5, generator=g)
    mask = torch.tensor([[True] * 3 + [False] * 3, [True] * 6])
    out = model({"oscc.tokens": tokens, "ego.features": ego}, {"ego.features": mask})["logits"]
    alone = model({"oscc.tokens": tokens[:1], "ego.features": ego[:1, :3]})["logits"]
    assert torch.allclose(alone, out[:1], atol=1e-6)  # the padding is neither read nor stretched over
    changed = model({"oscc.tokens": tokens, "ego.features": ego + 1.0}, {"ego.features": mask})["logits"]
    assert not torch.allclose(changed, out)


def test_frame_windows_copy_a_precomputed_stream_whole() -> None:
    layout = plan_streams("asd", ["ttm"], streams=["asd.frames", "ttm.frames"], precomputed={"ego": 3},
                          dims={"asd.frames": 4, "ttm.frames": 4})
    streams = {"asd.frames": torch.randn(2, 10, 4), "ttm.frames": torch.randn(2, 10, 4),
               "ego.features": torch.randn(2, 2, 3)}
    assert per_frame_keys(layout, streams) == ["asd.frames", "ttm.frames"]
    cut, _, index = split_windows(layout, streams, None, 4)
    assert cut["asd.frames"].shape == (6, 4, 4)
    assert torch.equal(cut["ego.features"], streams["ego.features"][index.clip])  # (B', 2, 3): every window


# -- train and evaluate from an extracted cache --------------------------------------------------------

@pytest.fixture(scope="module")
def cache(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("precomputed_cache")
    g = torch.Generator().manual_seed(1)
    for video in sorted((tiny_world / "full_scale").glob("*.mp4")):
        _fake(root / "feats", video.stem, probe_video(video).num_frames(), 5, g)
    assert main(["extract", "--primary", "oscc", "--data", str(tiny_world), "--ts", str(ts_runs["oscc"]), "--out",
                 str(root / "cache"), "--aux", "--splits", "train", "val", "--quiet",
                 "--precomputed", f"ego={root / 'feats'}"]) == 0
    return root / "cache"


def test_train_and_eval_read_the_precomputed_stream(cache: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--method", "egot2-s", "--primary", "oscc", "--cache", str(cache), "--out", str(run),
                 "--quiet", "model.aux=[]", "model.precomputed.ego=5", *SMALL, *TRAIN]) == 0
    capsys.readouterr()
    assert json.loads((run / "run.json").read_text())["streams"] == ["oscc.tokens", "ego.features"]
    cfg, _, weights = load_run(run)
    assert cfg.model.precomputed == {"ego": 5}

    # training moved the precomputed stream's projection: gradients reached it
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    start = build_model(cfg.model).state_dict()
    key = f"encoder.proj.{module_key('ego.features')}.weight"
    assert not torch.allclose(weights[key], start[key])

    # the stream reaches the translator: other feature values give other answers
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    model.eval()
    batch = collate_cached([CachedStreams(CacheSplit(cache, "val"), ["oscc.tokens", "ego.features"])[i]
                            for i in range(2)])
    assert batch["streams"]["ego.features"].shape[-1] == 5
    with torch.no_grad():
        out = model(batch["streams"], batch["masks"] or None)["logits"]
        other = {**batch["streams"], "ego.features": batch["streams"]["ego.features"] + 3.0}
        assert not torch.allclose(model(other, batch["masks"] or None)["logits"], out)

    assert main(["eval", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scored_by"] == "evaluate" and Path(result["predictions"]).is_file()
    assert set(result["metrics"]) == {"acc"}


@pytest.mark.parametrize(("override", "message"), [
    ("model.precomputed.omni=5", "the cache has no precomputed stream 'omni.features'"),
    ("model.precomputed.ego=7", "reads ego.features as 7-dim features but the cache's are 5-dim"),
    ("model.precomputed.oscc=5", "is a task's name"),
])
def test_config_and_cache_disagree(cache: Path, tmp_path: Path, capsys, override: str, message: str) -> None:
    code = main(["train", "--method", "egot2-s", "--primary", "oscc", "--cache", str(cache), "--out",
                 str(tmp_path / "run"), "--quiet", "model.aux=[]", override, *SMALL, *TRAIN])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "model.precomputed" in err
    assert not (tmp_path / "run" / "run.json").exists()


def test_online_training_cannot_read_precomputed_streams(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path,
                                                         capsys) -> None:
    code = main(["train", "--primary", "oscc", "--online", "--data", str(tiny_world), "--ts", str(ts_runs["oscc"]),
                 "--out", str(tmp_path / "run"), "model.precomputed.ego=5"])
    assert code == 2 and "give --cache" in capsys.readouterr().err


def test_egot2g_reads_a_precomputed_stream_in_every_task(tmp_path: Path) -> None:
    """Hand-made human-human caches with a longer-than-the-clip ``ego.features`` stream: EgoT2-g trains on it,
    and per-frame answers (ASD) still label the clip's frames, not the feature windows."""
    from egot2.features.cache import CacheItem, CacheWriter, write_meta
    from egot2.training.joint import predict_generalist, train_generalist

    dims = {"lam.frames": 6, "ttm.frames": 6, "asd.frames": 6, "ego.features": 3}
    g = torch.Generator().manual_seed(0)
    for task in ("lam", "ttm", "asd"):
        write_meta(tmp_path / "caches" / task, {"primary": task, "streams": dims, "dtype": "float32"})
        for split in ("train", "val"):
            writer = CacheWriter(tmp_path / "caches" / task, split)
            for i in range(8):
                streams = {k: torch.randn(9 + (i % 3) if k == "ego.features" else 5, d, generator=g)
                           for k, d in dims.items()}
                label = (streams["asd.frames"][:, 0] > 0).long() if task == "asd" else torch.tensor(i % 2)
                writer.add(CacheItem(f"{task}{split}{i}", streams, {"label": label}, {}))
            writer.flush()
    cfg = load_config([], ["model.method=egot2-g", "model.generalist.cluster=human-human", "model.precomputed.ego=3",
                           "model.streams=[lam.frames,ttm.frames,asd.frames]", "model.generalist.max_len=8", *SMALL,
                           "train.epochs=1", "train.batch_size=4"])
    info = train_generalist(cfg, tmp_path / "caches", tmp_path / "run", progress=False)
    assert all(s[-1] == "ego.features" for s in info["streams"].values())
    run_cfg, _, weights = load_run(tmp_path / "run")
    model = build_model(run_cfg.model)
    model.load_state_dict(weights)
    outs, _, _, _ = predict_generalist(model, run_cfg, tmp_path / "caches", "val")["asd"]
    assert all(o["logits"].shape[1] == 5 for o in outs)  # 5 frames, though ego.features has 9 to 11 tokens
    bad = load_config([], ["model.method=egot2-g", "model.generalist.cluster=human-human", "model.precomputed.ego=4",
                           "model.streams=[lam.frames,ttm.frames,asd.frames]", *SMALL])
    with pytest.raises(UserInputError, match="4-dim features but the cache's are 3-dim") as exc:
        train_generalist(bad, tmp_path / "caches", tmp_path / "bad", progress=False)
    assert exc.value.file.endswith("meta.json")
