"""Helpers for the predict tests: the tiny world's annotated clips as raw-video inputs, and the answers
the eval path (``predict_generalist`` over a run's val caches) gives for the same clips."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egot2.data.annotations import TrackBox
from egot2.metrics.lam import lam_track_boxes
from egot2.predict.tracks import FaceTrack

Rows = list[tuple[int, float, float, float, float]]

#: The tiny translator of the test runs (config overrides).
TRANSLATOR = ["model.translator.dim=16", "model.translator.layers=1", "model.translator.heads=2",
              "model.translator.ffn=32", "model.translator.dropout=0.0", "model.generalist.decoder_layers=1",
              "train.epochs=1", "train.batch_size=4", "train.lr=0.001"]

#: The keys of the JSON document ``egot2 predict`` writes.
TOP = {"video", "frames", "duration_s", "range", "runs", "tracks", "profile", "answers", "skipped"}


def cli(*argv: object) -> tuple[int, str, str]:
    """Run ``egot2 predict ARGV`` in this process: (exit code, stdout, stderr)."""
    from egot2.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["predict", *[str(a) for a in argv]])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def social_clip(world: Path, split: str = "val") -> tuple[Path, dict[str, Any]]:
    """The first AV clip of ``split`` and its canonical video."""
    video = json.loads((world / "annotations" / f"av_{split}.json").read_text())["videos"][0]
    return world / "full_scale" / f"{video['video_uid']}.mp4", video["clips"][0]


def raw_tracks(clip: dict[str, Any]) -> dict[str, Rows]:
    """Every face track of ``clip`` as the annotation has it, in video frames (x1, y1, x2, y2 boxes)."""
    off = int(clip.get("video_start_frame") or 0)
    return {t["track_id"]: [(off + b["frame"], b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"])
                            for b in t["track"]]
            for p in clip["persons"] for t in p["tracking_paths"]}


def cleaned_tracks(clip: dict[str, Any]) -> dict[str, tuple[str, Rows]]:
    """``{track_id: (person_id, rows)}`` cleaned as the LAM/TTM datasets clean them (frame 0 dropped ...)."""
    out = {}
    for p in clip["persons"]:
        for t in p["tracking_paths"]:
            boxes = [TrackBox(b["frame"], b["x"], b["y"], b["width"], b["height"]) for b in t["track"]]
            out[t["track_id"]] = (p["person_id"], lam_track_boxes(boxes, p["person_id"]))
    return out


def face_track(track_id: str, rows: Rows) -> FaceTrack:
    return FaceTrack(track_id, tuple(r[0] for r in rows), np.array([r[1:] for r in rows], dtype=np.float64))


def eval_answers(run: Path, task: str) -> dict[str, dict[str, torch.Tensor]]:
    """``{clip id: head-style outputs of that clip}`` as ``egot2 eval`` computes them on the run's val cache
    (the loop of ``training.joint``'s evaluation: batches of 64 cached clips, ``generation_outputs``)."""
    from egot2.features.cache import CacheSplit
    from egot2.methods import build_model, generalist_layouts
    from egot2.training.joint import generation_outputs
    from egot2.training.runs import load_run
    from egot2.training.stage2 import _loader

    cfg, info, weights = load_run(run)
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    model.eval()
    keys = [s.key for s in generalist_layouts(cfg.model)[task]]
    per_clip: dict[str, dict[str, torch.Tensor]] = {}
    with torch.no_grad():
        for b in _loader(CacheSplit(Path(info["cache"]) / task, "val"), keys, 64, False, 0):
            frames = max(v.shape[1] for v in b["streams"].values())
            out = generation_outputs(model.tokenizers[task], model, b["streams"], b["masks"] or None, frames,
                                     cfg.model.generalist.constrained)
            for i, clip_id in enumerate(b["ids"]):
                per_clip[clip_id] = {k: v[i] for k, v in out.items() if k != "invalid"}
    return per_clip


def cached_streams(run: Path, task: str) -> dict[str, dict[str, torch.Tensor]]:
    """``{clip id: {task.stream: (T, D)}}`` of the run's val cache of ``task`` (what the eval path reads)."""
    from egot2.features.cache import CacheSplit
    from egot2.training.runs import load_run

    split = CacheSplit(Path(load_run(run)[1]["cache"]) / task, "val")
    return {item.clip_id: dict(item.streams) for item in split}


def predicted(predictor: Any, task: str, plan: Any) -> list[tuple[dict[str, Any], dict[str, torch.Tensor]]]:
    """``(answer, streams)`` of every clip of ``task`` in ``plan``, as ``Predictor.answer`` makes them."""
    from egot2.predict.answers import describe

    return [(describe(task, item, predictor.generate(task, streams), predictor.names), streams)
            for item, streams in predictor.streams(task, plan)]


def assert_same_streams(ours: dict[str, torch.Tensor], cached: dict[str, torch.Tensor]) -> None:
    """The streams built from the raw video are the cached ones (the layout's keys, equal numbers)."""
    assert set(ours) <= set(cached), (sorted(ours), sorted(cached))
    for key, value in ours.items():
        assert value.shape == cached[key].shape, key
        torch.testing.assert_close(value, cached[key].to(value.dtype), rtol=0, atol=0, msg=key)
