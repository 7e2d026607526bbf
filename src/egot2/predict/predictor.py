"""``egot2 predict``: every task of one or more EgoT2-g runs answered on one raw video, annotation-free.

The video is cut into each task's clips (:mod:`egot2.predict.clips`); the frozen TS models turn every
clip into token streams with the same :class:`~egot2.features.builder.StreamBuilder` that extraction
uses; the translator answers each task's prompts by greedy generation (as ``egot2 eval`` does on the
cache) and the label tokens are decoded into times, class names and booleans
(:mod:`egot2.predict.answers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from egot2.backbones.zoo import LoadedTS
from egot2.data.datasets import ClipDataset, ClipItem
from egot2.data.samplers import ASD_CHUNK
from egot2.data.video import RATE, probe_video
from egot2.errors import UserInputError
from egot2.features.builder import StreamBuilder
from egot2.metrics.lam import LAM_STRIDE
from egot2.predict.answers import describe
from egot2.predict.clips import Plan, clip_frames, memory_dataset, plan_video, task_items
from egot2.predict.run import GeneralistRun, load_generalist, resolve_ts, run_profile, taxonomy_names
from egot2.predict.tracks import read_tracks
from egot2.tasks import task_names
from egot2.translator.layout import InputStream

SUPPORTED = ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd")
SOCIAL = ("lam", "ttm", "asd")


class Predictor:
    """The runs' translators with the TS models that feed them, answering clips of raw video.

    Args:
        runs: loaded EgoT2-g runs (no task answered by two of them).
        ts: ``{task: TS model}`` for every stream the runs read.
        profile: the frame profile the features were extracted in.
        names: ``{"verbs": [...], "nouns": [...]}`` class names (may be empty).
    """

    def __init__(self, runs: Sequence[GeneralistRun], ts: Mapping[str, LoadedTS], profile: str,
                 names: dict[str, list[str]]) -> None:
        self.runs, self.profile, self.names = list(runs), profile, names
        self.owner: dict[str, GeneralistRun] = {}
        for r in self.runs:
            for t in r.tasks:
                if t in self.owner:
                    raise UserInputError(f"task {t!r} is answered by two runs ({self.owner[t].path} and {r.path})",
                                         field="--run")
                self.owner[t] = r
        models = {t: m.model for t, m in ts.items()}
        self.builders = {t: StreamBuilder(t, models, r.layouts[t], profile, r.windows(t), r.strides(t)) for t, r in self.owner.items()
                         if t in SUPPORTED and not _precomputed(r.layouts[t])}

    @classmethod
    def load(cls, runs: Sequence[str | Path], ts: Sequence[str | Path] = (), profile: str | None = None,
             taxonomy: str | Path | None = None) -> Predictor:
        """Load the runs, their TS models (checked against the caches' hashes), profile and class names."""
        loaded = [load_generalist(r) for r in runs]
        return cls(loaded, resolve_ts(loaded, ts), run_profile(loaded, profile), taxonomy_names(loaded, taxonomy))

    @property
    def tasks(self) -> list[str]:
        """Every task the runs answer, in registry order."""
        return [t for t in task_names() if t in self.owner]

    def asd_chunk(self) -> int:
        """Frames per ASD clip: 300, or fewer when the decoder's ``max_len`` cannot hold them (unless the
        translator answers per-frame tasks in frame windows)."""
        run = self.owner.get("asd")
        if run is None or getattr(run.cfg.model.translator, "frame_window", 0) > 0:
            return ASD_CHUNK
        return min(ASD_CHUNK, run.cfg.model.generalist.max_len - 2)

    def clips(self, task: str, plan: Plan) -> tuple[ClipDataset, list[dict[str, Any]]]:
        """The clips of ``task`` in ``plan`` as a dataset, and the per-clip info the stream builder reads."""
        items, infos = task_items(task, plan, self.asd_chunk())
        return memory_dataset(task, items, self.profile), infos

    @torch.no_grad()
    def streams(self, task: str, plan: Plan) -> Iterator[tuple[ClipItem, dict[str, Tensor]]]:
        """Every clip of ``task`` in ``plan`` with its token streams ``{task.stream: (T, D)}``, as
        ``egot2 extract`` would cache them."""
        dataset, infos = self.clips(task, plan)
        for i, item in enumerate(dataset.items):
            yield item, self.builders[task].build(dataset, i, infos[i])[0]

    @torch.no_grad()
    def generate(self, task: str, streams: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Decoded labels of one clip (every prompt of the task), from its streams."""
        run = self.owner[task]
        per_frame = {s.key for s in run.layouts[task] if s.tokens is None and not getattr(s, "precomputed", False)}
        batch = {k: v[None].float() for k, v in streams.items()}  # (1, T, D)
        frames = max((v.shape[1] for k, v in batch.items() if k in per_frame), default=1)
        labels: dict[str, Tensor] = {}
        for head in run.model.tokenizers[task].heads:
            gen = run.model.generate(batch, head, None, frames=frames, constrained=run.cfg.model.generalist.constrained)
            labels.update({k: v[0] for k, v in gen.labels.items()})
        return labels

    def answer(self, task: str, plan: Plan) -> list[dict[str, Any]]:
        """The answers to every clip of ``task`` in ``plan`` (one clip at a time)."""
        return [describe(task, item, self.generate(task, streams), self.names)
                for item, streams in self.streams(task, plan)]


def _precomputed(layout: Sequence[InputStream]) -> list[str]:
    """The layout's precomputed feature streams (Ego4D's per-video features: a raw video has none)."""
    return [s.key for s in layout if getattr(s, "precomputed", False)]


def skip_reason(predictor: Predictor, task: str, plan: Plan, has_audio: bool) -> str | None:
    """Why ``task`` cannot be answered on ``plan``'s video (None: it can)."""
    if task not in SUPPORTED:
        return f"predict does not know how to cut clips for task {task!r}"
    if task not in predictor.builders:
        return (f"the run reads precomputed features {_precomputed(predictor.owner[task].layouts[task])}, which a "
                "raw video does not have")
    if task in SOCIAL:
        if plan.tracks is None:
            return "no face tracks: pass --tracks FILE (CSV frame,x1,y1,x2,y2[,track_id])"
        if not plan.tracks:
            return "no face box of the tracks file lies in the range"
        if task != "lam" and not has_audio:
            return f"the video has no audio stream; {task} needs 16 kHz audio"
        return None
    need = clip_frames(task)
    if (plan.clips if task in ("pnr", "oscc") else plan.observed if task == "lta" else plan.actions):
        return None
    return (f"needs at least {need / RATE:.2f} s of video per clip, the range has "
            f"{(plan.end - plan.first) / RATE:.2f} s")


def frame_range(num_frames: int, start_s: float | None, end_s: float | None, video: Path) -> tuple[int, int]:
    """``[first, end)`` frames of ``--start``/``--end`` seconds (default: the whole video)."""
    first = 0 if start_s is None else int(round(start_s * RATE))
    end = num_frames if end_s is None else min(int(round(end_s * RATE)), num_frames)
    if first < 0 or first >= num_frames:
        raise UserInputError(f"--start {start_s} s lies outside the video (0 to {num_frames / RATE:.2f} s)",
                             file=video, field="--start")
    if end <= first:
        raise UserInputError(f"--end {end_s} s is not after --start ({first / RATE:.2f} s)", file=video,
                             field="--end")
    return first, end


def predict_video(video: str | Path, runs: Sequence[str | Path], *, tracks: str | Path | None = None,
                  ts: Sequence[str | Path] = (), start_s: float | None = None, end_s: float | None = None,
                  profile: str | None = None, taxonomy: str | Path | None = None, lam_stride: int = LAM_STRIDE,
                  log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Answer every task of ``runs`` on ``video``; returns the JSON document ``egot2 predict`` writes.

    ``{"video", "frames", "duration_s", "range", "runs", "tracks", "profile", "answers": {task: [...]},
    "skipped": {task: reason}}``. Inputs are checked before any model runs: the video (exists, opens),
    the range, the tracks file, then the runs and their TS models.
    """
    video = Path(video)
    info = probe_video(video)
    num_frames = info.num_frames()
    first, end = frame_range(num_frames, start_s, end_s, video)
    if lam_stride < 1:
        raise UserInputError(f"must be >= 1, got {lam_stride}", field="--lam-stride")
    face_tracks = read_tracks(tracks, num_frames) if tracks is not None else None
    predictor = Predictor.load(runs, ts, profile, taxonomy)
    plan = plan_video(video, first, end, face_tracks, lam_stride)
    answers: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, str] = {}
    for task in predictor.tasks:
        reason = skip_reason(predictor, task, plan, info.has_audio)
        if reason is not None:
            skipped[task] = reason
            continue
        if log is not None:
            log(f"{task}: answering")
        answers[task] = predictor.answer(task, plan)
    return {"video": str(video), "frames": num_frames, "duration_s": round(num_frames / RATE, 3),
            "range": {"start_frame": first, "end_frame": end, "start_s": round(first / RATE, 3),
                      "end_s": round(end / RATE, 3)},
            "runs": [str(r) for r in runs], "tracks": None if tracks is None else str(tracks),
            "profile": predictor.profile, "answers": answers, "skipped": skipped}
