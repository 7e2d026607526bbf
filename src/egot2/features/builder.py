"""Turning one clip of the primary task into the token streams of every TS model (paper Eq. 1).

The primary's own model reads the clip exactly as in stage I (the task's dataset item). Every other
model reads frames resampled to its fps, in the windows the planner places (video-only primaries get
the video pathway only), and per-frame social models read face crops of the same frames. Used by the
feature extraction and by online training alike, so cached and online streams are the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from egot2.backbones.base import TSModel
from egot2.data.audio import SAMPLE_RATE, mfcc_rows, read_audio
from egot2.data.collate import collate
from egot2.data.datasets.base import ClipDataset, ClipItem
from egot2.data.samplers import slow_indices
from egot2.data.transforms import task_transform
from egot2.data.video import RATE, read_frames
from egot2.errors import UserInputError
from egot2.features.windows import plan_model
from egot2.tasks import get_task
from egot2.translator.layout import InputStream

HOI = ("pnr", "oscc", "ar", "lta")
SOCIAL = ("lam", "ttm", "asd")
LAM_WINDOW = 7


def _spans(task: str, item: ClipItem, info: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The clip's frame spans ``[start, end)`` in its video file (LTA: the observed actions)."""
    off, d = item.video.offset, item.data
    if task in ("pnr", "oscc"):
        return [(int(info["parent_start_frame"]), int(info["parent_end_frame"]))]
    if task == "ar":
        return [(off + d["start"], off + d["end"])]
    return [(off + s, off + e) for s, e in d["spans"]]


def _faces(task: str, item: ClipItem) -> tuple[list[int], np.ndarray]:
    """Clip-relative frames of a social item and one face box (x1, y1, x2, y2; NaN if none) per frame."""
    d = item.data
    if task == "ttm":
        frames = list(range(d["start"], d["end"] + 1))
        nan = (np.nan,) * 4
        return frames, np.array([d["boxes"].get(f, nan) for f in frames], dtype=np.float64)
    return list(d["frames"]), np.array(d["boxes"], dtype=np.float64)


def _lam_windows(n: int) -> list[list[int]]:
    """Positions of 7-frame LAM windows covering ``n`` frames (stride 7, the last one end-aligned;
    fewer than 7 frames repeat the last)."""
    if n <= LAM_WINDOW:
        return [[min(i, n - 1) for i in range(LAM_WINDOW)]]
    starts = list(range(0, n - LAM_WINDOW + 1, LAM_WINDOW))
    if starts[-1] + LAM_WINDOW < n:
        starts.append(n - LAM_WINDOW)
    return [list(range(s, s + LAM_WINDOW)) for s in starts]


class StreamBuilder:
    """Token streams of every TS model for clips of one primary task.

    Args:
        primary: the primary task.
        models: ``{task: TS model}`` (eval mode; the primary's own model included).
        layout: the streams to produce.
        profile: the data profile (``ego4d`` or ``synth``), which sets every model's frame transform.
        windows: sliding windows per shorter-span auxiliary model (default 1, centred).
    """

    def __init__(self, primary: str, models: Mapping[str, TSModel], layout: Sequence[InputStream], profile: str,
                 windows: Mapping[str, int] | None = None) -> None:
        self.primary, self.spec = primary, get_task(primary)
        self.models, self.layout, self.profile = dict(models), list(layout), profile
        self.windows = dict(windows or {})
        self.tasks = list(dict.fromkeys(s.task for s in self.layout))
        missing = [t for t in self.tasks if t not in self.models]
        if missing:
            raise UserInputError(f"no TS model given for {missing} (pass each with --ts)", field="--ts")
        cross = [t for t in self.tasks if (t in SOCIAL) != (primary in SOCIAL) and t != primary]
        if cross:
            raise UserInputError(f"cross-cluster streams {cross} for primary {primary!r} are not supported by "
                                 "the extractor", field="aux")

    def wanted(self, task: str) -> set[str]:
        return {s.stream for s in self.layout if s.task == task}

    @torch.no_grad()
    def build(self, dataset: ClipDataset, index: int, info: Mapping[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """``({"task.stream": (T, D)}, the dataset sample)`` for item ``index`` of the primary's dataset."""
        item = dataset.items[index]
        sample = dataset.load(item)
        own = self.models[self.primary].tokens(collate([sample]))
        streams = {f"{self.primary}.{k}": v[0] for k, v in own.items() if k in self.wanted(self.primary)}
        aux = [t for t in self.tasks if t != self.primary]
        if aux:
            build = self._hoi if self.primary in HOI else self._social
            streams.update(build(item, info, aux))
        return {s.key: streams[s.key] for s in self.layout}, sample

    # -- human-object ---------------------------------------------------------------------------------
    def _hoi(self, item: ClipItem, info: Mapping[str, Any], aux: list[str]) -> dict[str, Tensor]:
        per_span: list[dict[str, Tensor]] = []
        for start, end in _spans(self.primary, item, info):
            plans = {t: plan_model(self.spec, get_task(t), (end - start) / RATE, windows=self.windows.get(t, 1))
                     for t in aux}
            needed = sorted({min(start + f, end - 1) for p in plans.values() for w in p.frames for f in w})
            raw = read_frames(item.video.path, needed, clip_id=item.key)
            at = {f: i for i, f in enumerate(needed)}
            out: dict[str, Tensor] = {}
            for t, plan in plans.items():
                tf = task_transform(t, self.profile)
                chunks: list[dict[str, Tensor]] = []
                for window in plan.frames:
                    frames = raw[[at[min(start + f, end - 1)] for f in window]]
                    x = tf.frames(frames, layout="cthw")  # (3, T, S, S)
                    batch = {"video": x[None]} if t in ("pnr", "oscc") else \
                        {"slow": x[:, slow_indices(x.shape[1])][None], "fast": x[None]}
                    chunks.append(self.models[t].tokens(batch))
                for name in chunks[0]:
                    out[f"{t}.{name}"] = torch.cat([c[name][0] for c in chunks], dim=0)  # windows in time
            per_span.append(out)
        if self.spec.input_clips > 1:  # one pooled token per observed clip and model
            pooled = {}
            for t in aux:
                rows = [torch.cat([v.mean(0) for k, v in span.items() if k.startswith(f"{t}.")]) for span in per_span]
                pooled[f"{t}.clip"] = torch.stack(rows)  # (clips, sum of the model's stream dims)
            return pooled
        return {k: v for k, v in per_span[0].items() if k.split(".")[1] in self.wanted(k.split(".")[0])}

    # -- human-human ----------------------------------------------------------------------------------
    def _social(self, item: ClipItem, info: Mapping[str, Any], aux: list[str]) -> dict[str, Tensor]:
        frames, boxes = _faces(self.primary, item)
        off = item.video.offset
        raw = read_frames(item.video.path, [off + f for f in frames], clip_id=item.key)
        f0, f1 = min(frames), max(frames)
        audio = None
        if "audio" in self.spec.modalities:
            audio = read_audio(item.video.path, (off + f0) / RATE, (off + f1 + 1) / RATE, sample_rate=SAMPLE_RATE,
                               clip_id=item.key, task=self.primary)
        out: dict[str, Tensor] = {}
        for t in aux:
            tf = task_transform(t, self.profile)
            crops = tf.faces(raw, boxes)  # (T, C, S, S)
            if t == "lam":
                wins = _lam_windows(len(frames))
                tokens = self.models[t].tokens({"video": torch.stack([crops[w] for w in wins])})["frames"]
                per_frame = torch.empty(len(frames), tokens.shape[-1])
                for wi in reversed(range(len(wins))):  # the first window covering a frame wins
                    per_frame[torch.tensor(wins[wi])] = tokens[wi]
                out["lam.frames"] = per_frame
            elif t == "ttm":
                batch: dict[str, Tensor] = {"video": crops[None]}
                if audio is not None:
                    batch["audio"] = torch.from_numpy(audio)[None]
                out.update({f"ttm.{k}": v[0] for k, v in self.models[t].tokens(batch).items()})
            elif t == "asd":
                batch = {"video": crops[:, 0][None]}
                if audio is not None:
                    mfcc = mfcc_rows(audio, f1 - f0 + 1)
                    rows = np.concatenate([np.arange(4 * (f - f0), 4 * (f - f0) + 4) for f in frames])
                    batch["audio"] = torch.from_numpy(mfcc[rows])[None]
                out.update({f"asd.{k}": v[0] for k, v in self.models[t].tokens(batch).items()})
        return {k: v for k, v in out.items() if k.split(".")[1] in self.wanted(k.split(".")[0])}
