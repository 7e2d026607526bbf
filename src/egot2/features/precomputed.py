"""Ego4D's released precomputed features as a token source (REFERENCE section 5).

One ``{video_uid}.pt`` per canonical video: a tensor (num_windows, D), window i over frames
``[16 i, 16 i + 32)`` of the 30 fps video (plus a final window moved back to end at the last frame;
:func:`egot2.features.windows.precomputed_feature_windows`). A clip's tokens are the rows of every
window that overlaps its frame range, in time order, (T, D); a clip of several spans (LTA's observed
actions) gets each span's windows in turn.

``egot2 extract --precomputed NAME=DIR`` adds one stream ``NAME.features`` per clip to a cache; a
translator reads it when its config names it (``model.precomputed: {NAME: D}``, checked against the cache
by :func:`check_cached_sources`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from egot2.errors import UserInputError
from egot2.features.windows import precomputed_feature_windows
from egot2.translator.layout import PRECOMPUTED_STREAM, precomputed_streams

STREAM = PRECOMPUTED_STREAM
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class VideoSpan:
    """Frames ``[start, end)`` of the canonical video ``video_uid`` (30 fps)."""

    video_uid: str
    start: int
    end: int


def covering_windows(num_frames: int, start: int, end: int) -> list[int]:
    """Indices of the feature windows of a ``num_frames``-frame video that overlap frames ``[start, end)``
    (an end past the video's last frame is cut there; a start outside the video is an error)."""
    if not 0 <= start < min(end, num_frames):
        raise UserInputError(f"frames [{start}, {end}) are not inside a video of {num_frames} frames",
                             field="frames")
    return [i for i, (a, b) in enumerate(precomputed_feature_windows(num_frames)) if a < end and b > start]


def load_video_features(path: str | Path, num_frames: int, dim: int | None = None) -> Tensor:
    """Read one ``{video_uid}.pt`` and check it against the video's frame count.

    Args:
        path: the file (a tensor saved with ``torch.save``; loaded with ``weights_only=True``).
        num_frames: the video's frames at 30 fps.
        dim: the feature width every file of the folder must have (None: any).

    Returns:
        (num_windows, D) float32.

    Raises:
        UserInputError: a missing or unreadable file, not a 2-D tensor, another width than ``dim``, or a
            window count that is not the one ``num_frames`` gives.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError("no precomputed features for this video (expected {video_uid}.pt)", file=path)
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and weights-only errors have no common type
        raise UserInputError(f"not a readable torch tensor file ({type(exc).__name__}: {exc})", file=path) from None
    if not isinstance(value, Tensor) or value.ndim != 2 or not value.is_floating_point():
        got = f"a {value.ndim}-D {value.dtype} tensor" if isinstance(value, Tensor) else type(value).__name__
        raise UserInputError(f"expected a float tensor (num_windows, D), got {got}", file=path)
    if dim is not None and value.shape[1] != dim:
        raise UserInputError(f"features of width {value.shape[1]}, the other videos' are {dim}", file=path)
    expected = len(precomputed_feature_windows(num_frames))
    if value.shape[0] != expected:
        raise UserInputError(f"{value.shape[0]} windows, but a video of {num_frames} frames has {expected} windows of "
                             "32 frames at stride 16 (is this the video's file, at 30 fps?)", file=path)
    return value.float()


class PrecomputedFeatures:
    """A folder of ``{video_uid}.pt`` files, read as clip tokens.

    Args:
        folder: the folder.
        frame_count: ``video_uid -> frames at 30 fps`` (checks each file's window count).
        keep: how many videos' features stay in memory (clips come video by video).
    """

    def __init__(self, folder: str | Path, frame_count: Callable[[str], int], keep: int = 4) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserInputError("precomputed feature folder not found", file=self.folder, field="--precomputed")
        self.frame_count, self.keep = frame_count, keep
        self.dim: int | None = None
        self._loaded: OrderedDict[str, tuple[Tensor, int]] = OrderedDict()

    def video(self, video_uid: str) -> tuple[Tensor, int]:
        """(features (W, D), frame count) of one video."""
        if video_uid in self._loaded:
            self._loaded.move_to_end(video_uid)
            return self._loaded[video_uid]
        n = self.frame_count(video_uid)
        feats = load_video_features(self.folder / f"{video_uid}.pt", n, self.dim)
        self.dim = int(feats.shape[1])
        self._loaded[video_uid] = (feats, n)
        while len(self._loaded) > self.keep:
            self._loaded.popitem(last=False)
        return feats, n

    def tokens(self, spans: Sequence[VideoSpan]) -> Tensor:
        """(T, D): the rows of the windows overlapping each span, span after span."""
        parts = []
        for span in spans:
            feats, n = self.video(span.video_uid)
            try:
                rows = covering_windows(n, span.start, span.end)
            except UserInputError as exc:
                raise UserInputError(f"video {span.video_uid!r}: {exc.detail}",
                                     file=self.folder / f"{span.video_uid}.pt") from None
            parts.append(feats[rows])  # (windows, D)
        return torch.cat(parts)


def check_cached_sources(precomputed: Mapping[str, int], cached: Mapping[str, int], file: str | Path) -> None:
    """Every precomputed source a config reads (``{NAME: D}``) is a stream ``NAME.features`` of width D
    among a cache's streams ``cached`` (its ``meta.json``, ``file``)."""
    precomputed_streams(precomputed)  # names and widths first
    for name, dim in precomputed.items():
        key, field = f"{name}.{STREAM}", f"model.precomputed.{name}"
        if key not in cached:
            raise UserInputError(f"the cache has no precomputed stream {key!r} (it holds {sorted(cached)}); add it "
                                 f"with `egot2 extract ... --precomputed {name}=DIR`", file=file, field=field)
        if cached[key] != dim:
            raise UserInputError(f"the config reads {key} as {dim}-dim features but the cache's are "
                                 f"{cached[key]}-dim", file=file, field=field)


def parse_sources(items: Sequence[str]) -> dict[str, Path]:
    """``["NAME=DIR", ...]`` -> ``{NAME: DIR}``; NAME becomes the stream ``NAME.features``."""
    out: dict[str, Path] = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not folder or not _NAME.match(name):
            raise UserInputError(f"expected NAME=DIR with NAME of letters, digits, - or _, got {item!r}",
                                 field="--precomputed")
        if name in out:
            raise UserInputError(f"precomputed source {name!r} given twice", field="--precomputed")
        out[name] = Path(folder)
    return out


def _parents(task: str, data: Path, split: str) -> dict[str, tuple[str, int | None]]:
    """``clip_uid -> (video_uid, the clip's first frame in it)`` from the split's annotation file."""
    from egot2.data.annotations import load_av, load_lta
    from egot2.data.layout import resolve_root

    file = resolve_root(data).annotation_file(task, split)
    if task in ("ar", "lta"):
        return {a.clip_uid: (a.video_uid, a.clip_parent_start_frame) for a in load_lta(file, require_labels=False)}
    return {c.clip_uid: (c.video_uid, c.video_start_frame) for c in load_av(file, require_labels=False)}


def clip_spans(task: str, dataset: Any, data: str | Path, split: str, infos: Mapping[str, Mapping[str, Any]]
               ) -> dict[str, list[VideoSpan]]:
    """Every item's frame spans in its canonical video, by item key.

    PNR/OSCC: ``parent_start_frame..parent_end_frame`` (inclusive); AR: the action; LTA: each observed
    action; LAM/TTM/ASD: the item's face frames (LAM's 7-frame window, TTM's piece, ASD's chunk),
    shifted by the clip's ``video_start_frame``.
    """
    if task in ("pnr", "oscc"):
        from egot2.data.annotations import load_oscc_pnr
        from egot2.data.layout import resolve_root

        file = resolve_root(data).annotation_file(task, split)
        videos = {c.unique_id: c.video_uid for c in load_oscc_pnr(file, require_labels=False)}
        return {it.key: [VideoSpan(videos[it.key], int(infos[it.key]["parent_start_frame"]),
                                   int(infos[it.key]["parent_end_frame"]) + 1)] for it in dataset.items}
    parents = _parents(task, Path(data), split)
    out: dict[str, list[VideoSpan]] = {}
    for it in dataset.items:
        d = it.data
        video_uid, offset = parents[d["clip_uid"]]
        if offset is None:
            raise UserInputError(f"clip {d['clip_uid']!r} does not say where it starts in video {video_uid!r}, which "
                                 "precomputed features need", field="clip_parent_start_frame / video_start_frame")
        if task == "ar":
            local = [(d["start"], d["end"])]
        elif task == "lta":
            local = [tuple(s) for s in d["spans"]]
        elif task == "ttm":
            local = [(d["start"], d["end"] + 1)]
        else:
            local = [(min(d["frames"]), max(d["frames"]) + 1)]
        out.setdefault(it.key, [VideoSpan(video_uid, offset + s, offset + max(e, s + 1)) for s, e in local])
    return out


def canonical_frame_count(data: str | Path) -> Callable[[str], int]:
    """``video_uid -> frames`` of ``full_scale/<video_uid>.mp4`` in the data folder (probed once each)."""
    from egot2.data.layout import resolve_root
    from egot2.data.video import probe_video

    root = resolve_root(data)
    counts: dict[str, int] = {}

    def count(video_uid: str) -> int:
        if video_uid not in counts:
            counts[video_uid] = probe_video(root.canonical(video_uid)).num_frames()
        return counts[video_uid]

    return count


class WithPrecomputed:
    """A stream builder that adds ``NAME.features`` from precomputed feature folders to each clip.

    Args:
        builder: the TS models' stream builder.
        sources: ``{NAME: folder}``.
        frame_count: ``video_uid -> frames``.
    """

    def __init__(self, builder: Any, sources: Mapping[str, Path], frame_count: Callable[[str], int]) -> None:
        self.builder = builder
        self.sources = {name: PrecomputedFeatures(folder, frame_count) for name, folder in sources.items()}
        self.spans: dict[str, list[VideoSpan]] = {}

    def add_spans(self, spans: Mapping[str, list[VideoSpan]]) -> None:
        """Register the frame spans of a split's items (:func:`clip_spans`)."""
        self.spans.update(spans)

    def build(self, dataset: Any, index: int, info: Mapping[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The builder's streams and sample, plus one ``NAME.features`` (T, D) per source."""
        return self.finish(self.inputs(dataset, index, info))

    def inputs(self, dataset: Any, index: int, info: Mapping[str, Any]) -> Any:
        """The builder's model inputs of one clip (:meth:`egot2.features.builder.StreamBuilder.inputs`)."""
        return self.builder.inputs(dataset, index, info)

    def finish(self, clip: Any) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The builder's streams of ``clip`` and its sample, plus one ``NAME.features`` (T, D) per source."""
        streams, sample = self.builder.finish(clip)
        spans = self.spans[clip.key]
        for name, source in self.sources.items():
            streams[f"{name}.{STREAM}"] = source.tokens(spans)
        return streams, sample
