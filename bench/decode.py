"""Clip samplers against raw PyAV: frames/s of each task's dataset item against decoding the same frames.

A tiny synthetic world is generated in a temporary folder (a few seconds). For each task, one timed unit loads a fixed
set of dataset items (annotation -> frame indices -> seek and decode -> RGB -> crops / resize /
normalise; TTM and ASD also read their audio and ASD computes its MFCC), and the other decodes exactly
the same frames with plain PyAV (seek to the keyframe before the first, decode forward, convert the
wanted frames with one reformatter) and, for TTM and ASD, the same audio span (decoded and resampled to
16 kHz mono). Both run in this process, alternating, on one torch thread (the data loader's workers use
one each). Ratio = sampler frames/s / raw frames/s; goal >= 0.7.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import av
import torch
from av.video.reformatter import VideoReformatter

from bench.common import interleaved, medians, result
from egot2.data.datasets import build_dataset
from egot2.data.datasets.base import ClipDataset, ClipItem
from egot2.data.samplers import ar_frame_indices
from egot2.synth import generate_world, load_world_config

GOAL = ">= 0.7"
TASKS = ("oscc", "ar", "lta", "lam", "ttm", "asd")
ITEMS = 12
# the tiny world with enough val items per task (12 OSCC clips, 2 x 5 LTA windows, 3 x 2 ASD face tracks)
WORLD = ["oscc_pnr.clips={train: 1, val: 12, test: 1}", "ar_lta.clips={train: 1, val: 2, test: 1}",
         "ar_lta.actions_per_clip=[26, 26]", "human_human.clips={train: 1, val: 3, test: 1}"]


def frame_numbers(task: str, item: ClipItem) -> list[int]:
    """The video frames a dataset item reads (the same as its ``load``; AR/LTA windows centred)."""
    d, off = item.data, item.video.offset
    if task in ("pnr", "oscc"):
        return list(d["frames"])
    if task == "ar":
        return [off + f for f in ar_frame_indices(d["start"], d["end"])]
    if task == "lta":
        return [off + f for s, e in d["spans"] for f in ar_frame_indices(s, e)]
    if task == "ttm":
        return [off + f for f in range(d["start"], d["end"] + 1)]
    return [off + f for f in d["frames"]]  # lam, asd


def raw_decode(path: Path, numbers: list[int], fps: float = 30.0) -> list[Any]:
    """Plain PyAV: the RGB arrays of frames ``numbers`` of a constant-frame-rate video."""
    wanted = set(numbers)
    first, last = min(numbers), max(numbers)
    out: dict[int, Any] = {}
    reformatter = VideoReformatter()
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        tb = float(vs.time_base)
        if first > 0:
            c.seek(int(first / fps / tb), stream=vs, backward=True)
        for frame in c.decode(vs):
            i = round(frame.pts * tb * fps)
            if i in wanted:
                out[i] = reformatter.reformat(frame, format="rgb24").to_ndarray()
            if i >= last:
                break
    return [out[i] for i in numbers]


def raw_audio(path: Path, start_s: float, end_s: float) -> Any:
    """Plain PyAV: the samples of ``[start_s, end_s)`` resampled to 16 kHz mono (no alignment bookkeeping)."""
    import numpy as np

    chunks = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        if start_s > 0.2:
            c.seek(int((start_s - 0.2) / float(stream.time_base)), stream=stream, backward=True)
        for frame in c.decode(stream):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            if frame.time is not None and frame.time > end_s:
                break
    return np.concatenate(chunks)


def _bench_task(ds: ClipDataset, task: str, repeats: int, quick: bool) -> dict[str, Any]:
    items = ds.items[:ITEMS]
    numbers = [frame_numbers(task, it) for it in items]
    frames = sum(len(n) for n in numbers)

    def sampler() -> None:
        for it in items:
            ds.load(it)

    def raw() -> None:
        for it, n in zip(items, numbers):
            raw_decode(it.video.path, n)
            if it.audio:
                raw_audio(it.video.path, min(n) / 30.0, (max(n) + 1) / 30.0)

    times = medians(interleaved({"sampler": sampler, "raw": raw}, repeats=repeats))
    fps = {"sampler frames/s": frames / times["sampler"], "raw PyAV frames/s": frames / times["raw"]}
    what = "frames and audio" if items[0].audio else "frames"
    return result(f"decode.{task}", f"{task} dataset items vs raw PyAV decoding of the same {what} (frames/s)",
                  fps["sampler frames/s"] / fps["raw PyAV frames/s"], fps, goal=GOAL, quick=quick, items=len(items),
                  frames=frames)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """One record per task sampler (see the module docstring)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory(prefix="egot2-bench-decode-") as tmp:
            root = Path(tmp) / "world"
            generate_world(load_world_config("tiny", overrides=WORLD), root, workers=1)
            records = []
            for task in TASKS:
                ds = build_dataset(task, root, "val")
                records.append(_bench_task(ds, task, repeats=3 if quick else 15, quick=quick))
            return records
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    for record in run():
        print(f"{record['name']:12s} ratio {record['ratio']:.2f}  "
              + "  ".join(f"{k} {v:,.0f}" for k, v in record["medians"].items()))
