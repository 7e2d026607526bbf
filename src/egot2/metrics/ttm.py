"""The evaluated TTM (talking to me) segments, derived as the official pipeline does.

``get_ttm_result`` -> ``make_dataset`` (val) -> ``PostProcessor``. Score them with
:func:`egot2.metrics.voc_ap.two_class_map`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from egot2.data.annotations import AvClip
from egot2.errors import UserInputError

#: Segments longer than this many frames are cut into pieces of this length (the rest is dropped).
TTM_MAX_FRAMES = 150


@dataclass(frozen=True)
class TtmRow:
    """One evaluated talking segment.

    Args:
        clip_uid, idx: identify the segment (``idx`` = position among the clip's segments with a person).
        start_frame, end_frame: the evaluated range (``end_frame`` is the truncated end').
        label: 1 if the speech is addressed to someone (``target`` not null), else 0.
        person: the speaker's person number.
    """

    clip_uid: str
    idx: int
    start_frame: int
    end_frame: int
    label: int
    person: int


def ttm_person_number(person: str) -> int:
    """The official ``int(person.replace("'", ""))``; raises ValueError for a non-number."""
    return int(person.replace("'", ""))


def ttm_end_frame(start_frame: int, end_frame: int, max_frames: int = TTM_MAX_FRAMES) -> int:
    """The end after the official split-and-merge: ``min(end, start + 150 * floor(L / 150))`` for L > 150.

    200 frames give ``[s, s + 150]``, 400 frames ``[s, s + 300]``; L <= 150 keeps ``end``.
    """
    length = end_frame - start_frame + 1
    if length <= max_frames:
        return end_frame
    return min(end_frame, start_frame + max_frames * (length // max_frames))


def ttm_rows(clips: Iterable[AvClip]) -> list[TtmRow]:
    """All evaluated TTM segments of ``clips``, in annotation order.

    Per clip: drop the ``social_segments_talking`` entries whose person is null and number the rest
    0, 1, ... (``idx``); skip segments of one frame or less and segments of person 0; truncate long
    segments with :func:`ttm_end_frame`; label 1 where ``target`` is not null (any value).

    Raises:
        UserInputError: a segment's person is not a number (the official ``int()`` would crash).
    """
    rows: list[TtmRow] = []
    for clip in clips:
        talking = [s for s in clip.social_segments_talking if s.person is not None]
        for idx, seg in enumerate(talking):
            try:
                person = ttm_person_number(seg.person)
            except ValueError:
                raise UserInputError(
                    f"clip_uid {clip.clip_uid!r}: talking segment {idx} (counting those with a person) has "
                    f"person {seg.person!r}, expected a person number", field="social_segments_talking[].person"
                ) from None
            if seg.end_frame - seg.start_frame + 1 <= 1 or person == 0:
                continue
            rows.append(TtmRow(clip.clip_uid, idx, seg.start_frame, ttm_end_frame(seg.start_frame, seg.end_frame),
                               int(seg.target is not None), person))
    return rows
