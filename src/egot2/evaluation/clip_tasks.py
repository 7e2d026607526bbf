"""Evaluation of the clip-level hands-and-objects tasks from JSON predictions: PNR, OSCC, AR, LTA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from egot2.data.annotations import (
    NUM_NOUNS_V1,
    NUM_VERBS_V1,
    LtaTaxonomy,
    load_lta,
    load_oscc_pnr,
    read_json,
)
from egot2.data.annotations.fields import Fields
from egot2.errors import UserInputError
from egot2.evaluation.checks import check_coverage, index_unique
from egot2.metrics import aued, edit_distance_at_z, oscc_accuracy, pnr_keyframe_error, top1_accuracy
from egot2.metrics.lta_windows import NUM_CANDIDATES, NUM_FUTURE_ACTIONS, lta_windows

Result = tuple[dict[str, float], dict[str, int]]


def _entry_list(path: Path, id_key: str, value_key: str) -> list[tuple[str, str, Fields]]:
    """``[(id, where, fields)]`` of a JSON list of ``{id_key: str, value_key: ...}`` objects."""
    data = read_json(path, what="predictions file")
    if not isinstance(data, list):
        raise UserInputError(f"expected a JSON list of {{\"{id_key}\", \"{value_key}\"}} objects", file=path)
    out = []
    for i, raw in enumerate(data):
        f = Fields(raw, file=path, record=f"entry {i}")
        key = f.text(id_key)
        f = f.with_record(f"entry {i} ({id_key} {key!r})")
        if not f.has(value_key):
            raise f.error(value_key, "missing field")
        out.append((key, f"entry {i}", f))
    return out


def _entry_map(path: Path, value_desc: str) -> list[tuple[str, str, Fields]]:
    """``[(key, where, fields)]`` of a JSON object mapping keys to objects."""
    data = read_json(path, what="predictions file", reject_duplicate_keys=True)
    if not isinstance(data, dict):
        raise UserInputError(f"expected a JSON object mapping item keys to {value_desc}", file=path)
    return [(key, f"key {key!r}", Fields(raw, file=path, record=f"key {key!r}")) for key, raw in data.items()]


def evaluate_pnr(annotations: Path, predictions: Path, *, allow_extra: bool, **_: Any) -> Result:
    """PNR keyframe error in seconds over clips with a state change (see ``docs/metrics.md``)."""
    clips = load_oscc_pnr(annotations)
    given = index_unique(_entry_list(predictions, "unique_id", "pnr_frame"), path=predictions)
    check_coverage([c.unique_id for c in clips], given, path=predictions, allow_extra=allow_extra, what="clip")
    positives = [c for c in clips if c.state_change]
    preds = []
    for clip in clips:  # any number (or null) is accepted for a negative clip, but not another type
        value = given[clip.unique_id].number("pnr_frame", required=False)
        if clip.state_change:
            if value is None:
                raise given[clip.unique_id].error("pnr_frame", "must be a number for a clip with a state change")
            preds.append(value)
    err = pnr_keyframe_error(
        preds, [c.parent_start_frame for c in positives], [c.parent_end_frame for c in positives],
        [c.parent_start_sec for c in positives], [c.parent_end_sec for c in positives],
        [c.parent_pnr_frame for c in positives], [True] * len(positives),
    )
    return {"keyframe_err_s": err}, {"num_clips": len(clips), "num_scored_clips": len(positives)}


def evaluate_oscc(annotations: Path, predictions: Path, *, allow_extra: bool, **_: Any) -> Result:
    """OSCC accuracy over all clips."""
    clips = load_oscc_pnr(annotations)
    given = index_unique(_entry_list(predictions, "unique_id", "state_change"), path=predictions)
    check_coverage([c.unique_id for c in clips], given, path=predictions, allow_extra=allow_extra, what="clip")
    pred = [given[c.unique_id].boolean("state_change") for c in clips]
    acc = oscc_accuracy(pred, [c.state_change for c in clips])
    return {"acc": acc}, {"num_clips": len(clips), "num_positive": sum(bool(c.state_change) for c in clips)}


def _class_id(f: Fields, key: str, num_classes: int) -> int:
    value = f.integer(key)
    if not 0 <= value < num_classes:
        raise f.error(key, f"class id {value} is outside 0..{num_classes - 1}")
    return value


def _sizes(taxonomy: LtaTaxonomy | None) -> tuple[int, int]:
    return (taxonomy.num_verbs, taxonomy.num_nouns) if taxonomy else (NUM_VERBS_V1, NUM_NOUNS_V1)


def evaluate_ar(annotations: Path, predictions: Path, *, allow_extra: bool,
                taxonomy: LtaTaxonomy | None = None, **_: Any) -> Result:
    """AR verb and noun top-1 accuracy, one item per annotated action."""
    num_verbs, num_nouns = _sizes(taxonomy)
    actions = load_lta(annotations, taxonomy=taxonomy)
    given = index_unique(_entry_map(predictions, '{"verb": int, "noun": int}'), path=predictions)
    check_coverage([a.key for a in actions], given, path=predictions, allow_extra=allow_extra, what="action")
    verbs = [_class_id(given[a.key], "verb", num_verbs) for a in actions]
    nouns = [_class_id(given[a.key], "noun", num_nouns) for a in actions]
    return ({"verb_top1": top1_accuracy(verbs, [a.verb_label for a in actions]),
             "noun_top1": top1_accuracy(nouns, [a.noun_label for a in actions])},
            {"num_items": len(actions)})


def _candidates(f: Fields, head: str, num_classes: int) -> list[list[int]]:
    """The K x Z class ids of one head, checked for shape, type and range."""
    value = f.array(head)
    if len(value) != NUM_CANDIDATES:
        raise f.error(head, f"expected K = {NUM_CANDIDATES} candidate sequences, got {len(value)}")
    for k, seq in enumerate(value):
        if not isinstance(seq, list) or len(seq) != NUM_FUTURE_ACTIONS:
            got = f"{len(seq)} steps" if isinstance(seq, list) else repr(seq)
            raise f.error(f"{head}[{k}]", f"expected Z = {NUM_FUTURE_ACTIONS} class ids, got {got}")
        for z, c in enumerate(seq):
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < num_classes:
                raise f.error(f"{head}[{k}][{z}]", f"expected a class id in 0..{num_classes - 1}, got {c!r}")
    return value


def evaluate_lta(annotations: Path, predictions: Path, *, allow_extra: bool,
                 taxonomy: LtaTaxonomy | None = None, **_: Any) -> Result:
    """LTA ED@20 and AUED, verb and noun, over the windows of 2 input and 20 future actions."""
    num_verbs, num_nouns = _sizes(taxonomy)
    actions = load_lta(annotations, taxonomy=taxonomy)
    windows = lta_windows(actions)
    given = index_unique(_entry_map(predictions, '{"verb": [[20 ints] x 5], "noun": [[20 ints] x 5]}'),
                         path=predictions)
    check_coverage([w.key for w in windows], given, path=predictions, allow_extra=allow_extra, what="window")
    counts = {"num_clips": len({a.clip_uid for a in actions}), "num_windows": len(windows)}
    if not windows:
        nan = float("nan")
        return {"ed20_verb": nan, "ed20_noun": nan, "aued_verb": nan, "aued_noun": nan}, counts
    verb_preds = np.array([_candidates(given[w.key], "verb", num_verbs) for w in windows])  # (N, K, Z)
    noun_preds = np.array([_candidates(given[w.key], "noun", num_nouns) for w in windows])  # (N, K, Z)
    verb_gt = np.array([w.future_verbs for w in windows])  # (N, Z)
    noun_gt = np.array([w.future_nouns for w in windows])  # (N, Z)
    metrics = {
        "ed20_verb": edit_distance_at_z(verb_preds, verb_gt),
        "ed20_noun": edit_distance_at_z(noun_preds, noun_gt),
        "aued_verb": aued(verb_preds, verb_gt),
        "aued_noun": aued(noun_preds, noun_gt),
    }
    return metrics, counts
