"""Records of the Ego4D ``fho_lta_{train,val,test_unannotated}.json`` files and the LTA taxonomy.

The same files serve action recognition (AR, one item per entry) and long-term anticipation (LTA,
windows of consecutive actions of one clip).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from egot2.data.annotations.fields import Fields, top_level
from egot2.data.annotations.jsonio import read_json
from egot2.errors import UserInputError

#: Class counts of the Ego4D v1 taxonomy (the one EgoT2 was trained and evaluated on).
NUM_VERBS_V1 = 115
NUM_NOUNS_V1 = 478


@dataclass(frozen=True, slots=True)
class LtaTaxonomy:
    """Class names of ``fho_lta_taxonomy.json``; the list index is the label.

    Args:
        verbs: verb class names.
        nouns: noun class names.
    """

    verbs: tuple[str, ...]
    nouns: tuple[str, ...]

    @property
    def num_verbs(self) -> int:
        """Number of verb classes."""
        return len(self.verbs)

    @property
    def num_nouns(self) -> int:
        """Number of noun classes."""
        return len(self.nouns)


@dataclass(frozen=True, slots=True)
class LtaAction:
    """One annotated action of a 5-minute clip.

    Args:
        clip_uid: the clip; with ``action_idx`` it forms the item key ``f"{clip_uid}_{action_idx}"``.
        video_uid: the parent video.
        action_idx: position of the action in its clip (gaps allowed).
        action_clip_start_sec, action_clip_end_sec: the action window in seconds of the clip.
        action_clip_start_frame, action_clip_end_frame: the same window in frames (30 fps).
        verb_label, noun_label: class ids (None in test files).
        verb, noun: class names (None in test files).
        clip_id: numeric clip id (informational).
        clip_parent_start_sec, clip_parent_end_sec, clip_parent_start_frame, clip_parent_end_frame:
            the clip's window in the parent video (informational).
    """

    clip_uid: str
    video_uid: str
    action_idx: int
    action_clip_start_sec: float
    action_clip_end_sec: float
    action_clip_start_frame: int
    action_clip_end_frame: int
    verb_label: int | None
    noun_label: int | None
    verb: str | None = None
    noun: str | None = None
    clip_id: int | None = None
    clip_parent_start_sec: float | None = None
    clip_parent_end_sec: float | None = None
    clip_parent_start_frame: int | None = None
    clip_parent_end_frame: int | None = None

    @property
    def key(self) -> str:
        """The AR item key ``"<clip_uid>_<action_idx>"``."""
        return f"{self.clip_uid}_{self.action_idx}"


def _label(f: Fields, key: str, num_classes: int, required: bool) -> int | None:
    label = f.integer(key, required=required)
    if label is not None and not 0 <= label < num_classes:
        raise f.error(key, f"label {label} is outside the taxonomy range 0..{num_classes - 1}")
    return label


def _parse_action(fields: Fields, num_verbs: int, num_nouns: int, require_labels: bool) -> LtaAction:
    clip_uid = fields.text("clip_uid")
    action_idx = fields.integer("action_idx")
    f = fields.with_record(f"{fields.record} (clip_uid {clip_uid!r}, action_idx {action_idx})")
    start_sec, end_sec = f.number("action_clip_start_sec"), f.number("action_clip_end_sec")
    start_frame, end_frame = f.integer("action_clip_start_frame"), f.integer("action_clip_end_frame")
    f.check_order("action_clip_start_sec", start_sec, "action_clip_end_sec", end_sec)
    f.check_order("action_clip_start_frame", start_frame, "action_clip_end_frame", end_frame)
    parent = {k: f.number(k, required=False) for k in ("clip_parent_start_sec", "clip_parent_end_sec")}
    f.check_order("clip_parent_start_sec", parent["clip_parent_start_sec"],
                  "clip_parent_end_sec", parent["clip_parent_end_sec"])
    parent_frames = {k: f.integer(k, required=False)
                     for k in ("clip_parent_start_frame", "clip_parent_end_frame")}
    f.check_order("clip_parent_start_frame", parent_frames["clip_parent_start_frame"],
                  "clip_parent_end_frame", parent_frames["clip_parent_end_frame"])
    return LtaAction(
        clip_uid=clip_uid,
        video_uid=f.text("video_uid"),
        action_idx=action_idx,
        action_clip_start_sec=start_sec,
        action_clip_end_sec=end_sec,
        action_clip_start_frame=start_frame,
        action_clip_end_frame=end_frame,
        verb_label=_label(f, "verb_label", num_verbs, require_labels),
        noun_label=_label(f, "noun_label", num_nouns, require_labels),
        verb=f.text("verb", required=False),
        noun=f.text("noun", required=False),
        clip_id=f.integer("clip_id", required=False),
        **parent,
        **parent_frames,
    )


def load_lta(
    path: str | Path, *, taxonomy: LtaTaxonomy | None = None, require_labels: bool = True
) -> list[LtaAction]:
    """Load and validate an ``fho_lta`` annotation file.

    Args:
        path: the JSON file (``{"version", "split", "description", "clips": [...]}``, one entry per action).
        taxonomy: gives the valid label ranges; without it the Ego4D v1 sizes (115 verbs, 478 nouns).
        require_labels: demand ``verb_label`` and ``noun_label`` (set False for test files).

    Returns:
        The actions in file order.

    Raises:
        UserInputError: malformed JSON, a missing field, a wrong type, an end before its start, a label
            outside the taxonomy, or a repeated (clip_uid, action_idx); the message names the file, the
            entry and the field.
    """
    num_verbs = taxonomy.num_verbs if taxonomy is not None else NUM_VERBS_V1
    num_nouns = taxonomy.num_nouns if taxonomy is not None else NUM_NOUNS_V1
    data = read_json(path, what="annotation file")
    actions: list[LtaAction] = []
    seen: set[tuple[str, int]] = set()
    for i, raw in enumerate(top_level(data, "clips", file=path)):
        fields = Fields(raw, file=path, record=f"clips[{i}]")
        action = _parse_action(fields, num_verbs, num_nouns, require_labels)
        key = (action.clip_uid, action.action_idx)
        if key in seen:
            raise UserInputError(f"clips[{i}]: clip_uid {action.clip_uid!r} has action_idx "
                                 f"{action.action_idx} more than once", file=path, field="action_idx")
        seen.add(key)
        actions.append(action)
    return actions


def load_lta_taxonomy(path: str | Path) -> LtaTaxonomy:
    """Load ``fho_lta_taxonomy.json`` (``{"verbs": [...], "nouns": [...]}``, list index = label).

    Raises:
        UserInputError: malformed JSON, a missing list, an empty list or a non-string class name.
    """
    data = read_json(path, what="taxonomy file")
    lists = {}
    for key in ("verbs", "nouns"):
        names = top_level(data, key, file=path)
        if not names:
            raise UserInputError("the class list is empty", file=path, field=key)
        for i, name in enumerate(names):
            if not isinstance(name, str):
                raise UserInputError(f"expected a class name string, got {name!r}", file=path,
                                     field=f"{key}[{i}]")
        lists[key] = tuple(names)
    return LtaTaxonomy(verbs=lists["verbs"], nouns=lists["nouns"])
