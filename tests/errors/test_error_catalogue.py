"""The bad-input catalogue (docs/errors.md): every entry, run through ``egot2.cli.main``, exits with code 2
and the documented message, and leaves every artefact that existed before byte-identical (no file
changed, none added or removed)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from tests.artefacts import snapshot

from distributed.caches import oscc_cache
from egot2.backbones import build_ts_model
from egot2.cli import main
from egot2.config.schema import TrainConfig
from egot2.data.datasets import build_dataset
from egot2.features.extract import extract
from egot2.training.stage1 import save_ts_run

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

#: entry -> the message after its file path, ``<name>`` standing for a clip id or a number of the data at hand
#: (docs/errors.md shows each verbatim).
MESSAGES = {
    "config-misspelt-key": "field 'train.epoch': Key 'epoch' not in 'TrainConfig'. Did you mean: 'epochs'?",
    "config-bad-value": "field 'train.epochs': Value 'three' of type 'str' could not be converted to Integer "
                        "(in override 'train.epochs=three')",
    "config-out-of-range": "field 'train.batch_size': must be >= 1, got 0 (in override 'train.batch_size=0')",
    "config-invalid-yaml": "not valid YAML (line 2): expected ',' or ']', but got '<stream end>'",
    "cli-unknown-task": "field 'task': unknown task 'foo'; valid tasks: pnr, oscc, ar, lta, lam, ttm, asd",
    "cli-unknown-method": "argument --method: invalid choice: 'foo' (choose from 'ts', 'finetune', 'transfer', "
                          "'late-fusion', 'egot2-s', 'egot2-g')",
    "cli-bad-windows": "field '--windows': expected TASK=N, got 'ar=x'",
    "cli-aux-span-rule": "field 'aux': auxiliary task 'lta' is excluded by the span rule: its model needs 16.00 s "
                         "of video but a 'pnr' clip spans 8.00 s",
    "annotations-missing-file": "annotations/fho_oscc-pnr_train.json: annotation file not found",
    "annotations-missing-field": "field 'video_uid': clips[1] (unique_id '<unique_id>'): missing field",
    "annotations-malformed-json": "annotations/fho_oscc-pnr_train.json: malformed JSON: Unterminated string "
                                  "starting at: line <line>, column <column>",
    "video-missing": "clip '<unique_id>': video file not found (expected an .mp4 at this path)",
    "video-truncated": "clip '<unique_id>': cannot open the video (Invalid data found when processing input); the "
                       "file is truncated, corrupt or not a video",
    "video-clip-beyond-end": "field 'parent_end_frame': clip '<unique_id>': needs frame <frame> (<seconds> s at 30 "
                             "fps) but the video has <frames> frames (<duration> s): the clip lies beyond the video's "
                             "end",
    "audio-missing-stream": "clip '<unique_id>:0': the video has no audio stream; ttm needs 16 kHz audio",
    "cache-other-ts-weights": "the cache does not match this run (stale or made with other TS models): ts: cache has "
                              "{'oscc': {'sha256': '<sha256>', 'size': 'tiny'}}, expected {'oscc': {'sha256': "
                              "'<sha256>', 'size': 'tiny'}}",
    "cache-other-primary": "field 'primary': the cache was extracted for primary 'oscc', the config trains 'ttm'",
    "train-unfreeze-with-cache": "field 'train.unfreeze_ts': unfrozen TS models train with the translator, which "
                                 "a feature cache cannot stand in for: use --online --data DATA --ts RUN... instead "
                                 "of --cache",
    "cache-missing-split": "/val: the cache has no 'val' split",
    "cache-missing-shard": "train/shard-00001.safetensors: the shard is missing (shard-* are numbered without gaps); "
                           "re-run `egot2 extract` to rebuild its clips",
    "cache-missing-clips": "/train: field 'clips': the split holds <n> clips but its extraction wrote <m>: clips are "
                           "missing (a shard was deleted or lost); re-run `egot2 extract` with the same arguments to "
                           "finish it",
    "cache-unfinished": "/train: the extraction of this split did not finish (no complete.json): re-run `egot2 "
                        "extract` with the same arguments to finish it",
    "run-other-cache": "meta.json: field 'ts': the cache holds other streams than the one the run was trained on (TS "
                       "model 'oscc': this cache's sha256 <sha>..., the run's <sha>...): extract it with the same TS "
                       "models and settings",
    "train-dims-mismatch": "meta.json: field 'model.dims.oscc.tokens': config pins oscc.tokens to 7 dims but the "
                           "cache holds <n>",
    "train-windows-mismatch": "meta.json: field 'model.windows': the config slides windows {'ar': 3} but the cache "
                              "was extracted with {}: extract it with these windows (`egot2 extract --config` takes "
                              "them from the config)",
    "train-aux-span-rule": "field 'aux': auxiliary task 'lta' is excluded by the span rule: its model needs 16.00 s "
                           "of video but a 'oscc' clip spans 8.00 s",
    "cache-truncated-shard": "train/shard-00000.safetensors: corrupt or truncated cache shard (truncated: <n> bytes, "
                             "tensor 'oscc.tokens' ends at byte <m>); delete it and re-run `egot2 extract` to rebuild it",
    "checkpoint-truncated-resume": "checkpoints/last.ckpt: corrupt or truncated checkpoint (RuntimeError: "
                                   "PytorchStreamReader failed reading zip archive: failed finding central "
                                   "directory); delete it to start again without --resume, or restore an intact copy",
    "checkpoint-truncated-weights": "model.safetensors: corrupt or truncated weights (Error while deserializing "
                                    "header: incomplete metadata, file not fully covered)",
    "checkpoint-wrong-shapes": "checkpoint does not match the model: 1 shape mismatch(es): "
                               "backbone.s1.pathway0_stem.conv.weight (file (3, 3), model (4, 3, 3, 7, 7))",
    "checkpoint-malicious-pickle": "checkpoints/last.ckpt: refusing to load a checkpoint that pickles objects other "
                                   "than tensors and plain data (Trying to load unsupported GLOBAL posix.system "
                                   "whose module posix is blocked.); egot2 never writes such files",
    "checkpoint-not-converted": "a released checkpoint, not a converted one: run `egot2 convert-checkpoint TASK "
                                "released.ckpt --out FILE.safetensors` and pass the .safetensors file (or a TS run "
                                "folder)",
    "predictions-missing-ids": "1 of 2 annotated clips have no prediction, first: '<unique_id>'",
}


class Evil:
    """Unpickling this runs a shell command (it never may)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.system, (f"touch {self.marker}",))


# --- helpers ---------------------------------------------------------------------------------------------


def cli(*argv: object) -> tuple[int, str]:
    """Run ``egot2 ARGV`` in this process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, err.getvalue()


def _pattern(message: str) -> str:
    return re.sub(r"<\w+>", r"[^' ]+", re.escape(message).replace("\\<", "<").replace("\\>", ">"))



def check(entry: str, argv: list[object], *artefacts: Path) -> None:
    """``egot2 ARGV`` exits with 2 and the entry's message, and changes nothing under ``artefacts``."""
    before = snapshot(*artefacts)
    code, err = cli(*argv)
    assert code == 2, err
    assert re.search(_pattern(MESSAGES[entry]), err), err
    assert re.search(r"^egot2 [\w-]+: error: ", err, flags=re.M), err
    assert "Traceback" not in err
    assert snapshot(*artefacts) == before


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="module")
def real_cache(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OSCC cache of the tiny world (the OSCC TS model only)."""
    out = tmp_path_factory.mktemp("errors") / "cache"
    extract("oscc", tiny_world, [ts_runs["oscc"]], out, aux=[], progress=False)
    return out


@pytest.fixture(scope="module")
def finished_run(real_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished EgoT2-s run on ``real_cache`` (with its checkpoints)."""
    out = tmp_path_factory.mktemp("errors") / "run"
    code, err = cli("train", "--primary", "oscc", "--aux", "--cache", real_cache, "--out", out, "--quiet",
                    "train.epochs=1", "model.translator.dim=16", "model.translator.heads=2")
    assert code == 0, err
    return out


def _world(tiny_world: Path, tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    world = copy(tiny_world, tmp_path / "world")
    edit(world)
    return world


def _first_oscc_clip(world: Path) -> dict:
    return json.loads((world / "annotations" / "fho_oscc-pnr_train.json").read_text())["clips"][0]


def _extract(world: Path, ts: Path, out: Path, *extra: object) -> list[object]:
    return ["extract", "--primary", "oscc", "--data", world, "--ts", ts, "--aux", "--out", out, "--quiet", *extra]


def _train(cache: Path, run: Path, *extra: object) -> list[object]:
    return ["train", "--primary", "oscc", "--aux", "--cache", cache, "--out", run, "--quiet", *extra]


# --- the documentation lists every entry with its message -------------------------------------------------


def test_every_entry_is_documented_with_its_message() -> None:
    text = " ".join(DOC.read_text().split())
    for entry, message in MESSAGES.items():
        assert f"`{entry}`" in text, entry
        assert " ".join(message.split()) in text, entry
    assert len(MESSAGES) >= 15


# --- configs -------------------------------------------------------------------------------------------------


def test_config_misspelt_key(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    (tmp_path / "cfg.yaml").write_text("train: {epoch: 3}\n")
    check("config-misspelt-key", [*_train(real_cache, run), "--config", tmp_path / "cfg.yaml"], run, real_cache)


def test_config_bad_value(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    check("config-bad-value", [*_train(real_cache, run), "train.epochs=three"], run, real_cache)


def test_config_out_of_range(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    check("config-out-of-range", [*_train(real_cache, run), "train.batch_size=0"], run, real_cache)


def test_config_invalid_yaml(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    (tmp_path / "cfg.yaml").write_text("train: [epochs: 3\n")
    check("config-invalid-yaml", [*_train(real_cache, run), "--config", tmp_path / "cfg.yaml"], run, real_cache)


# --- command-line arguments -------------------------------------------------------------------------------


def test_cli_unknown_task(tiny_world: Path, ts_runs: dict[str, Path], real_cache: Path) -> None:
    argv = ["extract", "--primary", "foo", "--data", tiny_world, "--ts", ts_runs["oscc"], "--out", real_cache]
    check("cli-unknown-task", argv, real_cache, ts_runs["oscc"])


def test_cli_unknown_method(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    check("cli-unknown-method", [*_train(real_cache, run), "--method", "foo"], run, real_cache)


def test_cli_bad_windows(tiny_world: Path, ts_runs: dict[str, Path], real_cache: Path) -> None:
    check("cli-bad-windows", [*_extract(tiny_world, ts_runs["oscc"], real_cache), "--windows", "ar=x"], real_cache)


def test_cli_aux_excluded_by_the_span_rule(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    argv = ["extract", "--primary", "pnr", "--data", tiny_world, "--ts", ts_runs["pnr"], ts_runs["lta"], "--aux", "lta",
            "--out", tmp_path / "cache"]
    check("cli-aux-span-rule", argv, tmp_path / "cache", ts_runs["pnr"], ts_runs["lta"])


# --- annotation files ---------------------------------------------------------------------------------------


def _edit_annotations(world: Path, edit: Callable[[dict], None]) -> None:
    f = world / "annotations" / "fho_oscc-pnr_train.json"
    content = json.loads(f.read_text())
    edit(content)
    f.write_text(json.dumps(content))


def test_annotations_missing_file(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    world = _world(tiny_world, tmp_path, lambda w: (w / "annotations" / "fho_oscc-pnr_train.json").unlink())
    check("annotations-missing-file", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world, tmp_path / "cache")


def test_annotations_missing_field(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    world = _world(tiny_world, tmp_path, lambda w: _edit_annotations(w, lambda a: a["clips"][1].pop("video_uid")))
    check("annotations-missing-field", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world,
          tmp_path / "cache")


def test_annotations_malformed_json(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    def cut(w: Path) -> None:
        f = w / "annotations" / "fho_oscc-pnr_train.json"
        f.write_text(f.read_text()[:500])

    world = _world(tiny_world, tmp_path, cut)
    check("annotations-malformed-json", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world,
          tmp_path / "cache")


# --- videos and audio ---------------------------------------------------------------------------------------


def _video_of_first_clip(world: Path) -> Path:
    return world / "full_scale" / f"{_first_oscc_clip(world)['video_uid']}.mp4"


def test_video_missing(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    world = _world(tiny_world, tmp_path, lambda w: _video_of_first_clip(w).unlink())
    check("video-missing", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world, tmp_path / "cache")


def test_video_truncated(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    def cut(w: Path) -> None:
        f = _video_of_first_clip(w)
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])

    world = _world(tiny_world, tmp_path, cut)
    check("video-truncated", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world, tmp_path / "cache")


def test_video_clip_beyond_its_end(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    def shift(annotations: dict) -> None:
        clip = annotations["clips"][0]
        for k in ("parent_start_sec", "parent_end_sec", "clip_start_sec", "clip_end_sec"):
            clip[k] += 1000.0
        for k in ("parent_start_frame", "parent_end_frame", "clip_start_frame", "clip_end_frame"):
            clip[k] += 30000

    world = _world(tiny_world, tmp_path, lambda w: _edit_annotations(w, shift))
    check("video-clip-beyond-end", _extract(world, ts_runs["oscc"], tmp_path / "cache"), world, tmp_path / "cache")


def test_audio_missing_for_an_audio_visual_task(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    import av

    def strip_audio(w: Path) -> None:  # rewrite the video of the first TTM clip with its video stream only
        f = w / "full_scale" / build_dataset("ttm", w, "train").items[0].video.path.name
        with av.open(str(tiny_world / "full_scale" / f.name)) as src, av.open(str(f), "w", format="mp4") as dst:
            stream = dst.add_stream_from_template(src.streams.video[0])
            for packet in src.demux(src.streams.video[0]):
                if packet.dts is not None:
                    packet.stream = stream
                    dst.mux(packet)

    world = _world(tiny_world, tmp_path, strip_audio)
    argv = ["extract", "--primary", "ttm", "--data", world, "--ts", ts_runs["ttm"], "--aux", "--splits", "train",
            "--out", tmp_path / "cache", "--quiet"]
    check("audio-missing-stream", argv, world, tmp_path / "cache")


# --- caches ---------------------------------------------------------------------------------------------------


def test_cache_made_with_other_ts_weights(tiny_world: Path, real_cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(999)
    save_ts_run(tmp_path / "oscc2", build_ts_model("oscc", "tiny"), "oscc", "tiny", TrainConfig(), {})
    check("cache-other-ts-weights", _extract(tiny_world, tmp_path / "oscc2", real_cache), real_cache)


def test_cache_for_another_primary(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    argv = ["train", "--primary", "ttm", "--cache", real_cache, "--out", run, "--quiet"]
    check("cache-other-primary", argv, run, real_cache)


def test_train_unfreeze_with_cache(real_cache: Path, tmp_path: Path) -> None:
    check("train-unfreeze-with-cache", [*_train(real_cache, tmp_path / "run"), "train.unfreeze_ts=true"], tmp_path,
          real_cache)


def test_cache_missing_split(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run, cache = copy(finished_run, tmp_path / "run"), copy(real_cache, tmp_path / "cache")
    for shard in (cache / "val").iterdir():
        shard.unlink()
    check("cache-missing-split", _train(cache, run), run, cache)


def test_cache_missing_shard(finished_run: Path, tmp_path: Path) -> None:
    run, cache = copy(finished_run, tmp_path / "run"), oscc_cache(tmp_path / "cache", shard_size=16)  # 3 shards
    (cache / "train" / "shard-00001.safetensors").unlink()
    check("cache-missing-shard", _train(cache, run), run, cache)


def test_cache_truncated_shard(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run, cache = copy(finished_run, tmp_path / "run"), copy(real_cache, tmp_path / "cache")
    shard = next((cache / "train").glob("shard-*.safetensors"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    check("cache-truncated-shard", _train(cache, run), run, cache)


# --- checkpoints -------------------------------------------------------------------------------------------------


def test_checkpoint_truncated_resume(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    check("checkpoint-truncated-resume", [*_train(real_cache, run), "--resume", "train.epochs=2"], run, real_cache)


def test_checkpoint_truncated_weights(finished_run: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    check("checkpoint-truncated-weights", ["eval", run], run)


def test_checkpoint_with_wrong_shapes(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    ts = copy(ts_runs["oscc"], tmp_path / "oscc")
    with safe_open(str(ts / "model.safetensors"), "pt") as fh:
        metadata = fh.metadata()
    tensors = load_file(str(ts / "model.safetensors"))
    tensors["backbone.s1.pathway0_stem.conv.weight"] = torch.zeros(3, 3)
    save_file(tensors, str(ts / "model.safetensors"), metadata=metadata)
    check("checkpoint-wrong-shapes", _extract(tiny_world, ts, tmp_path / "cache"), ts, tmp_path / "cache")


def test_checkpoint_malicious_pickle(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run = copy(finished_run, tmp_path / "run")
    marker = tmp_path / "code-ran"
    torch.save({"state_dict": {}, "hook": Evil(marker)}, run / "checkpoints" / "last.ckpt")
    check("checkpoint-malicious-pickle", [*_train(real_cache, run), "--resume", "train.epochs=2"], run, real_cache)
    assert not marker.exists()


def test_checkpoint_not_converted(tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    released = tmp_path / "released.ckpt"
    torch.save({"state_dict": load_file(str(ts_runs["oscc"] / "model.safetensors"))}, released)
    check("checkpoint-not-converted", _extract(tiny_world, released, tmp_path / "cache"), released,
          tmp_path / "cache")


# --- prediction files -------------------------------------------------------------------------------------------


def test_predictions_missing_ids(tiny_world: Path, tmp_path: Path) -> None:
    annotations = tiny_world / "annotations" / "fho_oscc-pnr_val.json"
    uids = [c["unique_id"] for c in json.loads(annotations.read_text())["clips"]]
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps([{"unique_id": u, "state_change": True} for u in uids[1:]]))
    check("predictions-missing-ids", ["evaluate", "oscc", "--annotations", annotations, "--predictions", predictions],
          annotations, predictions)


def test_cache_missing_clips(finished_run: Path, tiny_world: Path, ts_runs: dict[str, Path], tmp_path: Path) -> None:
    """The last shard of a split gone (nothing left to show a gap in the numbering): the completion file
    counts the clips the extraction wrote."""
    run, cache = copy(finished_run, tmp_path / "run"), tmp_path / "cache"
    extract("oscc", tiny_world, [ts_runs["oscc"]], cache, aux=[], splits=["train", "val"], shard_size=2,
            progress=False)
    shards = sorted((cache / "train").glob("shard-*.safetensors"))
    assert len(shards) >= 2
    shards[-1].unlink()
    check("cache-missing-clips", _train(cache, run), run, cache)


def test_cache_unfinished(finished_run: Path, real_cache: Path, tmp_path: Path) -> None:
    run, cache = copy(finished_run, tmp_path / "run"), copy(real_cache, tmp_path / "cache")
    (cache / "train" / "complete.json").unlink()  # as an extraction killed before the split's end leaves it
    check("cache-unfinished", _train(cache, run), run, cache)


def test_eval_with_a_cache_of_other_ts_weights(finished_run: Path, tiny_world: Path, tmp_path: Path) -> None:
    torch.manual_seed(999)
    save_ts_run(tmp_path / "oscc2", build_ts_model("oscc", "tiny"), "oscc", "tiny", TrainConfig(), {})
    other = tmp_path / "other"
    extract("oscc", tiny_world, [tmp_path / "oscc2"], other, aux=[], splits=["train", "val"], progress=False)
    run = copy(finished_run, tmp_path / "run")
    check("run-other-cache", ["eval", run, "--cache", other], run, other)


def test_train_dims_not_the_caches(real_cache: Path, tmp_path: Path) -> None:
    check("train-dims-mismatch", [*_train(real_cache, tmp_path / "run"), "model.dims={oscc.tokens: 7}"], tmp_path,
          real_cache)


def test_train_aux_span_rule(real_cache: Path, tmp_path: Path) -> None:
    argv = ["train", "--primary", "oscc", "--aux", "lta", "--cache", real_cache, "--out", tmp_path / "run", "--quiet"]
    check("train-aux-span-rule", argv, tmp_path, real_cache)


def test_train_windows_not_the_caches(real_cache: Path, tmp_path: Path) -> None:
    check("train-windows-mismatch", [*_train(real_cache, tmp_path / "run"), "model.windows={ar: 3}"], tmp_path,
          real_cache)
