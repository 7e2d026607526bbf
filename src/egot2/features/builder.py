"""Turning one clip of the primary task into the token streams of every TS model (paper Eq. 1).

The primary's own model reads the clip exactly as in stage I (the task's dataset item). Every other
model reads frames resampled to its fps, in the windows the planner places (video-only primaries get
the video pathway only); per-frame social models of the primary's cluster read face crops of the same
frames. Cross-cluster models (paper Appendix A.3) go through the planner too: a human-object model on
a social clip reads the clip's frames like any auxiliary model, and a social model on a human-object
clip reads whole frames resized to its input size (there are no face boxes), video pathway only.

Two steps, so that they can run in different places: :meth:`StreamBuilder.inputs` does the CPU work
(decoding each clip once for every model, resampling, windows, face crops, transforms) and returns
every model's input batch (:class:`ClipInputs`); :meth:`StreamBuilder.tokens` runs the models and
assembles the streams. :meth:`StreamBuilder.build` does both without gradients; extraction and frozen
online training use it, so cached and online streams are the same numbers. Training with unfrozen TS
models runs :meth:`~StreamBuilder.inputs` in the data loader and :meth:`~StreamBuilder.tokens` in the
training step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from egot2.backbones.base import TSModel
from egot2.data.audio import SAMPLE_RATE, mfcc_rows
from egot2.data.collate import collate
from egot2.data.datasets.base import ClipDataset, ClipItem
from egot2.data.media import MEDIA, Media, SharedMedia
from egot2.data.samplers import slow_indices
from egot2.data.transforms import FrameTransform, task_transform
from egot2.data.video import RATE
from egot2.errors import UserInputError
from egot2.features.windows import ModelPlan, plan_model, stride_count
from egot2.tasks import get_task
from egot2.tasks.copies import source_task
from egot2.translator.layout import InputStream

HOI = ("pnr", "oscc", "ar", "lta")
SOCIAL = ("lam", "ttm", "asd")
LAM_WINDOW = 7
WHOLE_CHUNK = 32  # frames decoded at a time for a social model reading whole frames


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


@dataclass
class ModelInput:
    """One TS model's input batch for one clip, and how its tokens become streams.

    Args:
        task: the model's task.
        batch: the model's input: one row (a window the planner placed; inputs of one model and span
            are concatenated in time, in order), or one row per LAM window over a face track.
        span: the primary's observed clip the input covers (LTA observes two; 0 otherwise).
        frames: empty: the rows' tokens are concatenated in time, ``(W, T, D) -> (W * T, D)``; else per
            row the clip frames it covers, and each frame takes the token of the first row covering it
            (LAM's 7-frame windows over a face track).
    """

    task: str
    batch: dict[str, Tensor]
    span: int = 0
    frames: tuple[tuple[int, ...], ...] = ()


@dataclass
class ClipInputs:
    """Everything the TS models read for one clip of the primary task.

    Args:
        key: the clip's id.
        sample: the primary dataset's sample (its labels among it).
        models: the model inputs, the primary's own first.
    """

    key: str
    sample: dict[str, Any]
    models: list[ModelInput] = field(default_factory=list)


def _tensors(batch: Mapping[str, Any]) -> dict[str, Tensor]:
    return {k: v for k, v in batch.items() if isinstance(v, Tensor)}


def _signature(m: ModelInput) -> tuple[Any, ...]:
    """Inputs with the same signature can run as one batch."""
    return (m.task, *sorted((k, tuple(v.shape[1:]), v.dtype) for k, v in m.batch.items()))


def run_models(inputs: Sequence[ModelInput], models: Mapping[str, nn.Module], group: bool = False
               ) -> list[dict[str, Tensor]]:
    """Every input's tokens ``{stream: (rows, T, D)}``, one model call per input; with ``group``, inputs of
    one model with equal shapes run as one batch (rows concatenated, outputs split back: fewer calls, and
    BatchNorm statistics over the whole batch when training; the numbers differ from separate calls in
    the last float bits)."""
    groups: dict[Any, list[int]] = {}
    for i, m in enumerate(inputs):
        groups.setdefault(_signature(m) if group else i, []).append(i)
    out: list[dict[str, Tensor]] = [{} for _ in inputs]
    for idx in groups.values():
        task = inputs[idx[0]].task
        if len(idx) == 1:
            out[idx[0]] = models[task].tokens(inputs[idx[0]].batch)
            continue
        rows = [next(iter(inputs[i].batch.values())).shape[0] for i in idx]
        batch = {k: torch.cat([inputs[i].batch[k] for i in idx]) for k in inputs[idx[0]].batch}
        tokens = models[task].tokens(batch)
        parts = {name: v.split(rows) for name, v in tokens.items()}
        for j, i in enumerate(idx):
            out[i] = {name: p[j] for name, p in parts.items()}
    return out


def _per_frame(tokens: Tensor, frames: tuple[tuple[int, ...], ...]) -> Tensor:
    """(W, 7, D) window tokens -> (n, D): each frame gets the token of the first window covering it."""
    per_frame = tokens.new_empty(1 + max(max(w) for w in frames), tokens.shape[-1])
    for wi in reversed(range(len(frames))):
        per_frame[torch.tensor(frames[wi])] = tokens[wi]
    return per_frame


class StreamBuilder:
    """Token streams of every TS model for clips of one primary task.

    Args:
        primary: the primary task.
        models: ``{task: TS model}`` (eval mode; the primary's own model included).
        layout: the streams to produce (precomputed feature streams, which files provide, are left out).
        profile: the data profile (``ego4d`` or ``synth``), which sets every model's frame transform.
        windows: sliding windows per shorter-span auxiliary model (default 1, centred).
        strides: instead, slide these models with this stride in seconds (as many windows on every clip:
            :func:`~egot2.features.windows.stride_count`).
    """

    def __init__(self, primary: str, models: Mapping[str, TSModel], layout: Sequence[InputStream], profile: str,
                 windows: Mapping[str, int] | None = None, strides: Mapping[str, float] | None = None) -> None:
        self.primary, self.spec = primary, get_task(primary)
        self.models, self.profile = dict(models), profile
        self.layout = [s for s in layout if not s.precomputed]  # precomputed features come from files
        self.windows, self.strides = dict(windows or {}), dict(strides or {})
        self.tasks = list(dict.fromkeys(s.task for s in self.layout))
        missing = [t for t in self.tasks if t not in self.models]
        if missing:
            raise UserInputError(f"no TS model given for {missing} (pass each with --ts)", field="--ts")
        self.aux = [t for t in self.tasks if t != primary]
        social = self.spec.cluster == "human-human"
        self.faces = [t for t in self.aux if social and get_task(t).cluster == "human-human"]
        self.planned = [t for t in self.aux if t not in self.faces]
        for t in self.planned:
            spec = get_task(t)
            audio = [s.key for s in self.layout if s.task == t and
                     any(x.name == s.stream and "audio" in x.modalities for x in spec.streams)]
            if audio:
                raise UserInputError(f"streams {audio} need audio, which a {primary!r} clip read by a model of "
                                     "the other cluster does not provide", field="aux")

    def wanted(self, task: str) -> set[str]:
        """The stream names of ``task`` in the layout."""
        return {s.stream for s in self.layout if s.task == task}

    @torch.no_grad()
    def build(self, dataset: ClipDataset, index: int, info: Mapping[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """``({"task.stream": (T, D)}, the dataset sample)`` for item ``index`` of the primary's dataset."""
        return self.finish(self.inputs(dataset, index, info))

    @torch.no_grad()
    def finish(self, clip: ClipInputs) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The streams of one clip's inputs (no gradients) and its sample."""
        return self.tokens([clip])[0], clip.sample

    def tokens(self, clips: Sequence[ClipInputs], models: Mapping[str, nn.Module] | None = None,
               group: bool = False) -> list[dict[str, Tensor]]:
        """Per clip ``{"task.stream": (T, D)}`` in layout order, running ``models`` (default: the builder's;
        gradients flow when enabled); ``group``: batch equal-shaped inputs of a model (:func:`run_models`)."""
        flat = [m for c in clips for m in c.models]
        outs = iter(run_models(flat, self.models if models is None else models, group))
        return [self._assemble(c, [next(outs) for _ in c.models]) for c in clips]

    def _assemble(self, clip: ClipInputs, outs: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        parts: dict[int, dict[str, list[Tensor]]] = {}
        for m, out in zip(clip.models, outs, strict=True):
            for name, v in out.items():
                v = _per_frame(v, m.frames) if m.frames else v.reshape(-1, v.shape[-1])  # (rows * T, D)
                parts.setdefault(m.span, {}).setdefault(f"{m.task}.{name}", []).append(v)
        spans = {i: {k: torch.cat(v) for k, v in p.items()} for i, p in parts.items()}  # windows in time
        streams = dict(spans[0])
        if self.spec.input_clips > 1:  # one pooled token per observed clip and auxiliary model
            for t in self.aux:
                rows = [torch.cat([v.mean(0) for k, v in spans[i].items() if k.startswith(f"{t}.")])
                        for i in sorted(spans)]
                streams[f"{t}.clip"] = torch.stack(rows)  # (clips, sum of the model's stream dims)
        return {s.key: streams[s.key] for s in self.layout}

    # -- inputs ---------------------------------------------------------------------------------------
    def inputs(self, dataset: ClipDataset, index: int, info: Mapping[str, Any]) -> ClipInputs:
        """Every model's input for item ``index`` of the primary's dataset; the clip is decoded once for all
        of them (no model runs)."""
        item = dataset.items[index]
        media = SharedMedia(item.video.path)
        if self.spec.cluster == "human-human":
            frames, boxes = _faces(self.primary, item)
            off = item.video.offset
            f0, f1 = min(frames), max(frames)
            spans = [(off + f0, off + f1 + 1)]
            if self.faces:
                media.expect(off + f for f in frames)
        else:
            spans = _spans(self.primary, item, info)
        plans = [self._plans(start, end) for start, end in spans]
        for (start, end), plan in zip(spans, plans, strict=True):
            media.expect(_needed(plan, start, end))
        sample = dataset.load(item, media)
        clip = ClipInputs(item.key, sample, [ModelInput(self.primary, _tensors(collate([sample])))])
        memo: dict[tuple[Any, ...], Tensor] = {}
        for i, ((start, end), plan) in enumerate(zip(spans, plans, strict=True)):
            clip.models += self._planned_inputs(item, media, start, end, plan, i, memo)
        if self.faces:
            clip.models += self._face_inputs(item, media, frames, boxes, self._own_crops(dataset, sample, frames))
        return clip

    def _plans(self, start: int, end: int) -> dict[str, ModelPlan]:
        clip_s = (end - start) / RATE
        plans = {}
        for t in self.planned:
            model, stride = get_task(t), self.strides.get(t)
            count = stride_count(self.spec, model, stride) if stride and model.window_s is not None else None
            plans[t] = plan_model(self.spec, model, clip_s, windows=self.windows.get(t, 1), stride_s=stride,
                                  count=count)
        return plans

    def _planned_inputs(self, item: ClipItem, media: SharedMedia, start: int, end: int, plans: dict[str, ModelPlan],
                        span: int, memo: dict[tuple[Any, ...], Tensor]) -> list[ModelInput]:
        """The models the planner places on ``[start, end)``, one input per window."""
        out = []
        for t, plan in plans.items():
            family, tf = source_task(t), task_transform(source_task(t), self.profile)
            idx = tuple(min(start + f, end - 1) for w in plan.frames for f in w)
            n = len(plan.frames)
            if family in HOI:
                x = _transformed(memo, tf, media, item, idx, "cthw", n)  # (W, 3, T, S, S)
                batch = {"video": x} if family in ("pnr", "oscc") else \
                    {"slow": x[:, :, slow_indices(x.shape[2])], "fast": x}
            else:  # a social model on a human-object clip: whole frames, video pathway
                x = _whole_frames(memo, tf, item, idx)  # (W * T, C, S, S)
                x = x.view(n, -1, *x.shape[1:])  # (W, T, C, S, S)
                batch = {"video": x[:, :, 0] if tf.grey else x}
            out += [ModelInput(t, {k: v[w:w + 1] for k, v in batch.items()}, span) for w in range(n)]
        return out

    def _own_crops(self, dataset: ClipDataset, sample: Mapping[str, Any], frames: list[int]
                   ) -> dict[FrameTransform, Tensor]:
        """The face crops the primary's sample already holds: LAM and TTM items' ``video`` is
        ``transform.faces`` of the same frames and boxes (T, 3, S, S); ASD's comes from the luma plane."""
        tf = getattr(dataset, "transform", None)
        video = sample.get("video")
        if source_task(self.primary) in ("lam", "ttm") and isinstance(tf, FrameTransform) and \
                isinstance(video, Tensor) and video.dim() == 4 and video.shape[0] == len(frames):
            return {tf: video}
        return {}

    def _face_inputs(self, item: ClipItem, media: SharedMedia, frames: list[int], boxes: np.ndarray,
                     crops_of: dict[FrameTransform, Tensor]) -> list[ModelInput]:
        """The primary cluster's social models on the face crops of the clip's frames (``crops_of``: crops
        already made, by transform)."""
        off, f0, f1 = item.video.offset, min(frames), max(frames)
        raw = media.frames(item.video.path, [off + f for f in frames], clip_id=item.key)
        audio = None
        if "audio" in self.spec.modalities:
            audio = media.audio(item.video.path, (off + f0) / RATE, (off + f1 + 1) / RATE, sample_rate=SAMPLE_RATE,
                                clip_id=item.key, task=self.primary)
        out = []
        for t in self.faces:
            family, tf = source_task(t), task_transform(source_task(t), self.profile)
            if tf not in crops_of:
                crops_of[tf] = tf.faces(raw, boxes)  # (T, C, S, S)
            crops = crops_of[tf]
            if family == "lam":
                wins = _lam_windows(len(frames))
                video = crops[torch.as_tensor(wins)]  # (W, 7, C, S, S): one gather
                out.append(ModelInput(t, {"video": video}, frames=tuple(tuple(w) for w in wins)))
                continue
            batch: dict[str, Tensor] = {"video": crops[None] if family == "ttm" else crops[:, 0][None]}
            if audio is not None and family == "ttm":
                batch["audio"] = torch.from_numpy(audio)[None]
            elif audio is not None and family == "asd":
                mfcc = mfcc_rows(audio, f1 - f0 + 1)
                rows = (4 * (np.asarray(frames) - f0)[:, None] + np.arange(4)).reshape(-1)  # 4 MFCC rows per frame
                batch["audio"] = torch.from_numpy(mfcc[rows])[None]
            out.append(ModelInput(t, batch))
        return out


def _needed(plans: Mapping[str, ModelPlan], start: int, end: int) -> set[int]:
    """The frames the human-object models read (decoded with the primary's; the social models' whole
    frames of a human-object clip, every frame at 30 fps, are read in chunks instead)."""
    return {min(start + f, end - 1) for t, p in plans.items() if source_task(t) in HOI for w in p.frames for f in w}


def _transformed(memo: dict[tuple[Any, ...], Tensor], tf: FrameTransform, media: Media, item: ClipItem,
                 idx: tuple[int, ...], layout: str, clips: int) -> Tensor:
    """``tf`` applied to frames ``idx`` (split into ``clips`` windows), computed once per clip."""
    key = (tf, idx, layout, clips)
    if key not in memo:
        raw = media.frames(item.video.path, list(idx), clip_id=item.key)  # (len(idx), H, W, 3)
        x = tf.frames(raw, layout=layout, clips=clips)
        memo[key] = x[None] if clips == 1 and layout == "cthw" else x
    return memo[key]


def _whole_frames(memo: dict[tuple[Any, ...], Tensor], tf: FrameTransform, item: ClipItem, idx: tuple[int, ...]
                  ) -> Tensor:
    """(len(idx), C, S, S): whole frames resized by ``tf``, decoded and transformed ``WHOLE_CHUNK`` at a time
    (a clip's every frame at full resolution would not fit in memory), computed once per clip."""
    key = (tf, idx, "whole")
    if key not in memo:
        parts = [_transformed({}, tf, MEDIA, item, idx[i:i + WHOLE_CHUNK], "tchw", 1)
                 for i in range(0, len(idx), WHOLE_CHUNK)]
        memo[key] = torch.cat(parts)
    return memo[key]

