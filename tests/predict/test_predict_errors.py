"""Bad input to ``egot2 predict`` (docs/errors.md, the ``predict-*`` entries): exit code 2, one line naming
the file and the field, no traceback, nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch
from tests.artefacts import snapshot

from egot2.backbones import build_ts_model
from egot2.config.schema import TrainConfig
from egot2.predict import write_tracks
from egot2.training.stage1 import save_ts_run
from predict.worlds import cli, raw_tracks, social_clip

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

#: entry -> the message after its file path (``<name>`` stands for a hash or a number of the data at hand).
MESSAGES = {
    "predict-not-generalist": "config.yaml: field 'model.method': a 'egot2-s' run: predict answers with an EgoT2-g "
                              "run (`egot2 train --method egot2-g --cluster ...`)",
    "predict-malformed-tracks": "tracks.csv: field 'y1': line 3: expected a number, got 'two'",
    "predict-no-ts": "field '--ts': no TS model for task 'lam': pass the TS runs the features were extracted with "
                     "(`--ts ts/pnr ts/oscc ...`)",
    "predict-other-ts-weights": "model.safetensors: field 'sha256': this 'ttm' TS model is not the one the run's "
                                "features were extracted with (CACHE/ttm/meta.json records sha256 <sha256>, the file "
                                "has <sha256>)",
}


def _pattern(message: str) -> str:
    pattern = re.escape(message).replace("\\<", "<").replace("\\>", ">").replace("CACHE/", r"\S+/")
    return re.sub(r"<\w+>", r"[^' ]+", pattern)



def check(argv: list[object], message: str, *artefacts: Path) -> str:
    """``egot2 predict ARGV`` exits with 2 and ``message`` and changes nothing under ``artefacts``."""
    before = snapshot(*artefacts)
    code, _, err = cli(*argv)
    assert code == 2, err
    assert re.search(r"^egot2 predict: error: ", err, flags=re.M) and "Traceback" not in err, err
    assert re.search(_pattern(message), err), err
    assert snapshot(*artefacts) == before
    return err


@pytest.fixture
def social(tiny_world: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The social video and a valid tracks file for it."""
    video, clip = social_clip(tiny_world)
    write_tracks(tmp_path / "tracks.csv", raw_tracks(clip))
    return video, tmp_path / "tracks.csv"


def test_every_entry_is_documented_with_its_message() -> None:
    doc = DOC.read_text()
    text = " ".join(doc.split())
    for entry, message in MESSAGES.items():
        assert f"[`{entry}`](#{entry})" in text and f"### {entry}\n" in doc, entry
        assert " ".join(message.split()) in text, entry


def test_run_that_is_not_egot2_g(hh_run: Path, social: tuple[Path, Path], tmp_path: Path) -> None:
    run = shutil.copytree(hh_run, tmp_path / "run")
    config = run / "config.yaml"
    config.write_text(config.read_text().replace("method: egot2-g", "method: egot2-s"))
    video, tracks = social
    check([video, "--run", run, "--tracks", tracks, "--out", tmp_path / "a.json"], MESSAGES["predict-not-generalist"],
          run, tmp_path)


def test_malformed_tracks_file(hh_run: Path, social: tuple[Path, Path], tmp_path: Path) -> None:
    video, tracks = social
    lines = tracks.read_text().splitlines()
    lines[2] = ",".join(["two" if i == 2 else x for i, x in enumerate(lines[2].split(","))])
    tracks.write_text("\n".join(lines) + "\n")
    err = check([video, "--run", hh_run, "--tracks", tracks, "--out", tmp_path / "a.json"],
                MESSAGES["predict-malformed-tracks"], hh_run, tmp_path)
    assert str(tracks) in err


def test_no_ts_models(hh_run: Path, social: tuple[Path, Path], tmp_path: Path) -> None:
    video, tracks = social
    check([video, "--run", hh_run, "--tracks", tracks, "--out", tmp_path / "a.json"], MESSAGES["predict-no-ts"],
          hh_run, tmp_path)


def test_ts_model_with_other_weights(hh_run: Path, ts_runs: dict[str, Path], social: tuple[Path, Path],
                                     tmp_path: Path) -> None:
    torch.manual_seed(999)
    save_ts_run(tmp_path / "ttm2", build_ts_model("ttm", "tiny"), "ttm", "tiny", TrainConfig(), {})
    video, tracks = social
    ts = [ts_runs["lam"], ts_runs["asd"], tmp_path / "ttm2"]
    err = check([video, "--run", hh_run, "--tracks", tracks, "--ts", *ts, "--out", tmp_path / "a.json"],
                MESSAGES["predict-other-ts-weights"], hh_run, tmp_path)
    assert str(tmp_path / "ttm2" / "model.safetensors") in err


@pytest.mark.parametrize("problem", ["missing", "truncated"])
def test_missing_or_corrupt_video(problem: str, hh_run: Path, social: tuple[Path, Path], tmp_path: Path) -> None:
    video, tracks = social
    bad = tmp_path / "video.mp4"
    if problem == "truncated":
        bad.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    message = ("video file not found (expected an .mp4 at this path)" if problem == "missing" else
               "cannot open the video (Invalid data found when processing input); the file is truncated, corrupt or "
               "not a video")
    err = check([bad, "--run", hh_run, "--tracks", tracks, "--out", tmp_path / "a.json"], message, hh_run, tmp_path)
    assert f"error: {bad}: " in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--start", "20"], "field '--start': --start 20.0 s lies outside the video (0 to 10.00 s)"),
    (["--start", "2", "--end", "1"], "field '--end': --end 1.0 s is not after --start (2.00 s)"),
    (["--lam-stride", "0"], "field '--lam-stride': must be >= 1, got 0"),
])
def test_bad_range(argv: list[str], message: str, hh_run: Path, social: tuple[Path, Path], tmp_path: Path) -> None:
    video, tracks = social
    check([video, "--run", hh_run, "--tracks", tracks, *argv, "--out", tmp_path / "a.json"], message, hh_run,
          tmp_path)


def test_not_a_run_folder(social: tuple[Path, Path], tmp_path: Path) -> None:
    video, tracks = social
    check([video, "--run", tmp_path / "nothing", "--tracks", tracks], "field '--run': run folder not found", tmp_path)
