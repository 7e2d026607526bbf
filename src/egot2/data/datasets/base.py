"""The dataset machinery every task shares: video checks, ``skip_bad`` and its report.

A dataset is a list of small item descriptors (:class:`ClipItem`) plus a ``load`` that decodes one.
At construction every distinct video is probed once and every item checked against it (the file
exists and opens, has audio when the task needs it, and covers the item's last frame). A bad item
raises a :class:`~egot2.errors.UserInputError`, or with ``skip_bad=True`` is dropped and recorded in
:attr:`ClipDataset.skipped`; an item that still fails to decode later is recorded the same way and
returned as a ``{"skipped": key, "reason": ...}`` marker that :func:`egot2.data.collate.collate`
moves into ``batch["skipped"]``. Nothing is skipped silently: the dataset logs each skip, and
:meth:`ClipDataset.skip_report` lists them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from torch.utils.data import Dataset

from egot2.data.audio import AUDIO_TOLERANCE_S
from egot2.data.layout import VideoRef
from egot2.data.media import MEDIA, Media
from egot2.data.video import RATE, check_frames, probe_video
from egot2.errors import UserInputError

log = logging.getLogger("egot2.data")


@dataclass(frozen=True)
class Skipped:
    """One skipped item: its key, why, and the file at fault."""

    key: str
    reason: str
    file: str | None = None


@dataclass
class ClipItem:
    """What one sample needs from a video.

    Args:
        key: the item's id (joins with predictions).
        video: the file and the clip's offset in it.
        last_frame: the last clip frame the item reads (checked against the video's length).
        field: the annotation field that sets ``last_frame`` (named in errors).
        audio: whether the item reads audio.
        data: task-specific fields (frames, labels, boxes ...).
    """

    key: str
    video: VideoRef
    last_frame: int
    field: str
    audio: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class ClipDataset(Dataset):
    """Base class of the task datasets.

    Args:
        items: the item descriptors.
        task: the task name (named in errors).
        skip_bad: drop (and report) unreadable items instead of raising.
        check_videos: probe every video at construction (missing, truncated, too short, no audio).
    """

    task: str = ""

    def __init__(self, items: list[ClipItem], *, task: str, skip_bad: bool = False, check_videos: bool = True) -> None:
        self.task = task
        self.skip_bad = skip_bad
        self.skipped: list[Skipped] = []
        self.items = self._checked(items) if check_videos else list(items)

    def _problem(self, item: ClipItem) -> UserInputError | None:
        try:
            info = probe_video(item.video.path, clip_id=item.key)
            if item.audio:
                if not info.has_audio:
                    raise UserInputError(f"clip {item.key!r}: the video has no audio stream; {self.task} needs "
                                         "16 kHz audio", file=item.video.path)
                need = (item.video.offset + item.last_frame + 1) / RATE
                if info.audio_duration_s is not None and info.audio_duration_s + AUDIO_TOLERANCE_S < need:
                    raise UserInputError(f"clip {item.key!r}: needs audio until {need:.2f} s but the audio ends at "
                                         f"{info.audio_duration_s:.2f} s", file=item.video.path, field=item.field)
            check_frames(info, item.video.offset + item.last_frame, clip_id=item.key, field=item.field)
        except UserInputError as exc:
            return exc
        return None

    def _checked(self, items: list[ClipItem]) -> list[ClipItem]:
        kept = []
        for item in items:
            exc = self._problem(item)
            if exc is None:
                kept.append(item)
            elif self.skip_bad:
                self._skip(item.key, exc)
            else:
                raise exc
        return kept

    def _skip(self, key: str, exc: UserInputError) -> None:
        self.skipped.append(Skipped(key, exc.detail, exc.file))
        log.warning("%s: skipped %s: %s", self.task, key, exc)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        try:
            return self.load(item)
        except UserInputError as exc:
            if not self.skip_bad:
                raise
            self._skip(item.key, exc)
            return {"skipped": item.key, "reason": str(exc)}

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:  # pragma: no cover - abstract
        """Decode one item into its sample dict, reading frames and audio through ``media``."""
        raise NotImplementedError

    def skip_report(self) -> str:
        """Every skipped item with its reason, one per line ("" when none)."""
        if not self.skipped:
            return ""
        lines = [f"{self.task}: skipped {len(self.skipped)} item(s):"]
        lines += [f"  {s.key}: {s.reason}" + (f" [{s.file}]" if s.file else "") for s in self.skipped]
        return "\n".join(lines)
