"""Human-human datasets of ``av_<split>.json``: LAM, TTM and ASD, face crops from ``tracking_paths``.

Items (``S`` = the transform's size):

* LAM: ``video`` (7, 3, S, S) crops of frames t-3..t+3 of one face track; ``label`` 0/1 (looking at
  the camera wearer at t); ``key`` = ``<clip_uid>:<frame>:<track_id>`` and ``box`` (x1, y1, x2, y2) as
  the LAM metric derives them (:func:`egot2.metrics.lam.lam_rows`, stride 13 by default).
* TTM: ``video`` (T, 3, S, S) crops of the person over a talking segment (T <= 150; black where the
  person has no box), ``audio`` (T * 16000 / 30,) at 16 kHz; ``label`` 0/1; ``key`` = ``<clip_uid>:<idx>``
  as :func:`egot2.metrics.ttm.ttm_rows` numbers segments (a long segment gives several pieces that
  share the key).
* ASD: ``video`` (T, S, S) grey crops of a face-track chunk (T <= 300), ``audio`` (4T, 13) MFCC;
  ``label`` (T,) 0/1 speaking; ``frames`` (T,); ``key`` = ``<clip_uid>:<track_id>:<chunk>``, chunks as
  :func:`egot2.metrics.asd_frames.asd_face_frames` cuts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egot2.data.annotations import AvClip, TrackBox, load_av
from egot2.data.audio import SAMPLE_RATE, mfcc_rows
from egot2.data.datasets.base import ClipDataset, ClipItem
from egot2.data.layout import DataRoot, VideoRef, resolve_root
from egot2.data.media import MEDIA, Media
from egot2.data.samplers import chunk_positions, ttm_pieces, window_around
from egot2.data.transforms import FrameTransform, profile_for_root, task_transform
from egot2.data.video import RATE
from egot2.metrics.asd_frames import asd_tracks


def _setup(root: str | Path, task: str, split: str, transform: FrameTransform | None,
           profile: str | None) -> tuple[DataRoot, FrameTransform, list[AvClip], bool]:
    data = resolve_root(root)
    labelled = split != "test"
    clips = load_av(data.annotation_file(task, split), require_labels=labelled)
    return data, transform or task_transform(task, profile or profile_for_root(data.root)), clips, labelled


def _ref(data: DataRoot, clip: AvClip) -> VideoRef:
    return data.clip_video(clip.clip_uid, clip.video_uid, clip.video_start_frame)


def _cleaned(track: Iterable[TrackBox], person_id: str) -> dict[int, tuple[float, float, float, float]]:
    """frame -> (x1, y1, x2, y2) of a track, cleaned and interpolated as the LAM metric does."""
    from egot2.metrics.lam import lam_track_boxes

    return {f: (x1, y1, x2, y2) for f, x1, y1, x2, y2 in lam_track_boxes(tuple(track), person_id)}


class LamDataset(ClipDataset):
    """LAM rows: a 7-frame window of face crops around every ``stride``-th box of every track.

    Args:
        root: data folder.
        split: ``train``, ``val`` or ``test``.
        stride: keep every ``stride``-th box of a track (13 = the official evaluation rows).
        transform, profile, skip_bad: as the other datasets.
    """

    def __init__(self, root: str | Path, split: str, *, stride: int = 13, transform: FrameTransform | None = None,
                 profile: str | None = None, skip_bad: bool = False) -> None:
        from egot2.metrics.lam import lam_rows

        data, self.transform, clips, self.labelled = _setup(root, "lam", split, transform, profile)
        tracks: dict[tuple[str, str], dict[int, tuple[float, float, float, float]]] = {}
        for clip in clips:
            for person in clip.persons[1:]:
                for path in person.tracking_paths:
                    tracks.setdefault((clip.clip_uid, path.track_id), _cleaned(path.track, person.person_id))
        refs = {c.clip_uid: _ref(data, c) for c in clips}
        items = []
        for row in lam_rows(clips, stride=stride):
            boxes = tracks[(row.clip_uid, row.track_id)]
            first, last = min(boxes), max(boxes)
            window = window_around(row.frame, first, last)
            d = {"frames": window, "boxes": [boxes[f] for f in window], "clip_uid": row.clip_uid, "frame": row.frame,
                 "track_id": row.track_id, "box": (row.x1, row.y1, row.x2, row.y2)}
            if self.labelled:
                d["label"] = row.label
            items.append(ClipItem(row.key, refs[row.clip_uid], max(window), "tracking_paths[].track[].frame", data=d))
        super().__init__(items, task="lam", skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        d = item.data
        frames = media.frames(item.video.path, [item.video.offset + f for f in d["frames"]], clip_id=item.key)
        out: dict[str, Any] = {"video": self.transform.faces(frames, np.array(d["boxes"])), "key": item.key,
                               "clip_uid": d["clip_uid"], "frame": d["frame"], "track_id": d["track_id"],
                               "box": torch.tensor(d["box"], dtype=torch.float64)}
        if self.labelled:
            out["label"] = torch.tensor(d["label"])
        return out


class TtmDataset(ClipDataset):
    """TTM talking segments (pieces of at most 150 frames; < 15 frames dropped in training).

    Args:
        root: data folder.
        split: ``train``, ``val`` or ``test``.
        num_frames: sample this many frames evenly over each piece (None: every frame).
        transform, profile, skip_bad: as the other datasets.
    """

    def __init__(self, root: str | Path, split: str, *, num_frames: int | None = None,
                 transform: FrameTransform | None = None, profile: str | None = None, skip_bad: bool = False) -> None:
        from egot2.metrics.ttm import ttm_rows

        data, self.transform, clips, self.labelled = _setup(root, "ttm", split, transform, profile)
        self.num_frames = num_frames
        faces: dict[tuple[str, int], dict[int, tuple[float, float, float, float]]] = {}
        for clip in clips:
            for person in clip.persons:
                try:
                    number = int(person.person_id.replace("'", ""))
                except ValueError:
                    continue
                boxes = faces.setdefault((clip.clip_uid, number), {})
                for path in person.tracking_paths:
                    boxes.update(_cleaned(path.track, person.person_id))
        refs = {c.clip_uid: _ref(data, c) for c in clips}
        items = []
        for row in ttm_rows(clips):
            key = f"{row.clip_uid}:{row.idx}"
            boxes = faces.get((row.clip_uid, row.person), {})
            for piece, (s, e) in enumerate(ttm_pieces(row.start_frame, row.end_frame, train=split == "train")):
                d = {"start": s, "end": e, "boxes": boxes, "clip_uid": row.clip_uid, "idx": row.idx, "piece": piece,
                     "person": row.person, "eval_start": row.start_frame, "eval_end": row.end_frame}
                if self.labelled:
                    d["label"] = row.label
                items.append(ClipItem(key, refs[row.clip_uid], e, "social_segments_talking[].end_frame", audio=True,
                                      data=d))
        super().__init__(items, task="ttm", skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        d = item.data
        span = list(range(d["start"], d["end"] + 1))
        if self.num_frames is not None:
            span = [span[int(i)] for i in np.linspace(0, len(span) - 1, self.num_frames).round()]
        off = item.video.offset
        frames = media.frames(item.video.path, [off + f for f in span], clip_id=item.key)
        nan = (np.nan,) * 4
        boxes = np.array([d["boxes"].get(f, nan) for f in span], dtype=np.float64)
        audio = media.audio(item.video.path, (off + d["start"]) / RATE, (off + d["end"] + 1) / RATE,
                           clip_id=item.key, task="ttm")
        out: dict[str, Any] = {"video": self.transform.faces(frames, boxes), "audio": torch.from_numpy(audio),
                               "key": item.key, "clip_uid": d["clip_uid"], "idx": d["idx"], "piece": d["piece"],
                               "start_frame": d["eval_start"], "end_frame": d["eval_end"]}
        if self.labelled:
            out["label"] = torch.tensor(d["label"])
        return out


class AsdDataset(ClipDataset):
    """ASD face-track chunks of up to 300 boxes with 4 MFCC rows per frame.

    Args:
        root: data folder.
        split: ``train``, ``val`` or ``test``.
        transform, profile, skip_bad: as the other datasets.
    """

    def __init__(self, root: str | Path, split: str, *, transform: FrameTransform | None = None,
                 profile: str | None = None, skip_bad: bool = False) -> None:
        data, self.transform, clips, self.labelled = _setup(root, "asd", split, transform, profile)
        items = []
        for clip in clips:
            ref = _ref(data, clip)
            for person_id, path, speaking in asd_tracks(clip):
                boxes = path.track
                for c, positions in enumerate(chunk_positions(boxes[0].frame, boxes[-1].frame, len(boxes))):
                    part = [boxes[i] for i in positions]
                    d: dict[str, Any] = {"frames": [b.frame for b in part], "clip_uid": clip.clip_uid,
                                         "person_id": person_id, "track_id": path.track_id,
                                         "boxes": [(b.x, b.y, b.x + b.width, b.y + b.height) for b in part]}
                    if self.labelled:
                        d["label"] = [int(b.frame in speaking) for b in part]
                    items.append(ClipItem(f"{clip.clip_uid}:{path.track_id}:{c}", ref, max(d["frames"]),
                                          "tracking_paths[].track[].frame", audio=True, data=d))
        super().__init__(items, task="asd", skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        d = item.data
        off, frames = item.video.offset, d["frames"]
        grey = "gray" if self.transform.grey else "rgb24"  # the decoder's luma plane: no colour conversion
        boxes = np.array(d["boxes"], dtype=np.float64)  # (T, 4) x1 y1 x2 y2
        x0, y0 = (max(int(np.floor(v)) - 1, 0) for v in boxes[:, :2].min(0))
        x1, y1 = (int(np.ceil(v)) + 1 for v in boxes[:, 2:].max(0))
        pixels = media.frames(item.video.path, [off + f for f in frames], clip_id=item.key, pixels=grey,
                             crop=(x0, y0, x1, y1))  # only the track's region of each frame
        video = self.transform.faces(pixels, boxes - [x0, y0, x0, y0])[:, 0]  # (T, S, S)
        f0, f1 = min(frames), max(frames)
        audio = media.audio(item.video.path, (off + f0) / RATE, (off + f1 + 1) / RATE, sample_rate=SAMPLE_RATE,
                           clip_id=item.key, task="asd")
        mfcc = mfcc_rows(audio, f1 - f0 + 1)  # (4 * span, 13)
        rows = np.concatenate([np.arange(4 * (f - f0), 4 * (f - f0) + 4) for f in frames])
        out: dict[str, Any] = {"video": video, "audio": torch.from_numpy(mfcc[rows]), "key": item.key,
                               "clip_uid": d["clip_uid"], "person_id": d["person_id"], "track_id": d["track_id"],
                               "frames": torch.tensor(frames)}
        if self.labelled:
            out["label"] = torch.tensor(d["label"])
        return out
