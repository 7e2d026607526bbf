"""Cutting one raw video into the clips each task expects, as dataset items the stream builder reads.

Every task's clips are :class:`~egot2.data.datasets.ClipItem` descriptors of the same form the task's
dataset makes from annotations, loaded by that dataset's own ``load`` (same sampling, decoding and
transforms as training and extraction; only the annotation file is replaced):

* PNR / OSCC: consecutive 8 s windows (the task's ``clip_s``), 16 frames sampled as the Ego4D loader does;
* AR: consecutive action segments of the AR model's window (64 frames, 2.13 s), sampled centred;
* LTA: two consecutive AR segments observed, the 20 actions after the second one predicted;
* LAM: every ``lam_stride``-th frame of each face track, a 7-frame window around it;
* TTM: each face track cut into pieces of at most 150 frames (the TTM loader's pieces);
* ASD: each face track in chunks of up to 300 frames (fewer when the decoder is shorter).

Windows tile the range; when the range is not a multiple of the window, one more window ends at the
range's end (it overlaps the one before), as Ego4D's precomputed features do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egot2.data.datasets import DATASETS, ClipDataset, ClipItem
from egot2.data.layout import VideoRef
from egot2.data.samplers import (
    ASD_CHUNK,
    LAM_HALF_WINDOW,
    chunk_positions,
    pnr_frame_indices,
    ttm_pieces,
    window_around,
)
from egot2.data.transforms import task_transform
from egot2.data.video import RATE
from egot2.metrics.lam import LAM_STRIDE
from egot2.predict.tracks import FaceTrack
from egot2.tasks import get_task

Span = tuple[int, int]


def clip_frames(task: str) -> int:
    """Frames of one clip of ``task`` on the 30 fps grid (PNR/OSCC 240, AR 64, LTA 2 x 64)."""
    if task in ("pnr", "oscc"):
        return round(get_task(task).clip_s * RATE)
    ar = round((get_task("ar").window_s or 0.0) * RATE)
    return ar if task == "ar" else 2 * ar


def tile(first: int, end: int, length: int) -> list[Span]:
    """Consecutive windows ``[s, s + length)`` over ``[first, end)``, plus one ending at ``end`` when a
    remainder is left; none when the range is shorter than one window."""
    if end - first < length:
        return []
    spans = [(s, s + length) for s in range(first, end - length + 1, length)]
    if spans[-1][1] < end:
        spans.append((end - length, end))
    return spans


@dataclass(frozen=True)
class Plan:
    """What to answer in one video.

    Args:
        video: the file.
        first, end: the frame range ``[first, end)`` (30 fps grid).
        clips: PNR/OSCC windows.
        actions: AR segments.
        tracks: face tracks inside the range (None: no tracks file).
        lam_stride: LAM answers every this many frames of a track.
    """

    video: Path
    first: int
    end: int
    clips: list[Span]
    actions: list[Span]
    tracks: list[FaceTrack] | None
    lam_stride: int = LAM_STRIDE

    @property
    def observed(self) -> list[tuple[Span, Span]]:
        """LTA inputs: every two consecutive AR segments."""
        return list(zip(self.actions[:-1], self.actions[1:]))


def plan_video(video: Path, first: int, end: int, tracks: Sequence[FaceTrack] | None,
               lam_stride: int = LAM_STRIDE) -> Plan:
    """The default plan of ``[first, end)``: tiled PNR/OSCC windows and AR segments, the tracks cut to it."""
    kept = None if tracks is None else [t for t in (tr.within(first, end) for tr in tracks) if t is not None]
    return Plan(Path(video), first, end, tile(first, end, clip_frames("pnr")), tile(first, end, clip_frames("ar")),
                kept, lam_stride)


def _hoi_items(task: str, plan: Plan) -> tuple[list[ClipItem], list[dict[str, Any]]]:
    ref, name = VideoRef(plan.video), plan.video.stem
    items, infos = [], []
    if task in ("pnr", "oscc"):
        for s, e in plan.clips:
            frames = pnr_frame_indices(s, e)
            items.append(ClipItem(f"{name}:{s}-{e}", ref, frames[-1], "--end", data={"frames": frames, "span": (s, e)}))
            infos.append({"parent_start_frame": s, "parent_end_frame": e})
    elif task == "ar":
        for k, (s, e) in enumerate(plan.actions):
            items.append(ClipItem(f"{name}:{s}-{e}", ref, e - 1, "--end",
                                  data={"start": s, "end": e, "clip_uid": name, "action_idx": k}))
            infos.append({})
    else:
        for a, b in plan.observed:
            items.append(ClipItem(f"{name}:{a[0]}-{b[1]}", ref, b[1] - 1, "--end",
                                  data={"spans": [a, b], "clip_uid": name}))
            infos.append({})
    return items, infos


def _social_items(task: str, plan: Plan, asd_chunk: int) -> list[ClipItem]:
    ref, name = VideoRef(plan.video), plan.video.stem
    items = []
    for track in plan.tracks or []:
        first, last = track.frames[0], track.frames[-1]
        if task == "lam":
            for f in track.frames[::plan.lam_stride]:
                window = window_around(f, first, last, LAM_HALF_WINDOW)
                d = {"frames": window, "boxes": [track.box(x) for x in window], "clip_uid": name, "frame": f,
                     "track_id": track.track_id, "box": track.box(f)}
                items.append(ClipItem(f"{name}:{f}:{track.track_id}", ref, max(window), "frame", data=d))
        elif task == "ttm":
            boxes = {f: track.box(f) for f in track.frames}
            for piece, (s, e) in enumerate(ttm_pieces(first, last, train=False)):
                d = {"start": s, "end": e, "boxes": boxes, "clip_uid": name, "idx": track.track_id, "piece": piece,
                     "person": track.track_id, "eval_start": s, "eval_end": e}
                items.append(ClipItem(f"{name}:{track.track_id}:{piece}", ref, e, "frame", audio=True, data=d))
        else:
            for c, positions in enumerate(chunk_positions(first, last, len(track.frames), asd_chunk)):
                frames = [track.frames[i] for i in positions]
                d = {"frames": frames, "boxes": [track.box(f) for f in frames], "clip_uid": name,
                     "person_id": track.track_id, "track_id": track.track_id}
                items.append(ClipItem(f"{name}:{track.track_id}:{c}", ref, max(frames), "frame", audio=True, data=d))
    return items


def task_items(task: str, plan: Plan, asd_chunk: int = ASD_CHUNK) -> tuple[list[ClipItem], list[dict[str, Any]]]:
    """The clips of ``task`` in ``plan`` and the per-clip info the stream builder reads."""
    if task in ("pnr", "oscc", "ar", "lta"):
        return _hoi_items(task, plan)
    items = _social_items(task, plan, asd_chunk)
    return items, [{} for _ in items]


def memory_dataset(task: str, items: list[ClipItem], profile: str) -> ClipDataset:
    """A dataset of ``task`` over ``items`` instead of an annotation file: the task's own dataset class,
    unlabelled, reading as extraction does (centred AR/LTA windows, every TTM frame), in ``profile``.
    Every item is checked against the video as the datasets check theirs."""
    cls = DATASETS[task]
    ds = cls.__new__(cls)  # the class's load(), without its annotation-reading constructor
    ds.transform = task_transform(task, profile)
    ds.labelled = False
    ds.temporal = "center"
    ds.num_frames = None
    ClipDataset.__init__(ds, items, task=task)
    return ds
