"""Prediction files from a model's outputs over a cache split, in the formats ``egot2 evaluate`` reads.

The formats are those of ``docs/metrics.md`` (the Ego4D challenge submission format where one exists):

* PNR: JSON list of ``{"unique_id", "pnr_frame"}``, ``pnr_frame = (E - S) / 16 * argmax`` (relative to
  ``parent_start_frame``); annotated clips the cache does not hold (the negatives of a labelled PNR split,
  which PNR training leaves out) get ``"pnr_frame": null``, which the metric ignores.
* OSCC: JSON list of ``{"unique_id", "state_change"}`` (argmax of the two logits; a tie is False).
* AR: JSON object ``{"<clip_uid>_<action_idx>": {"verb", "noun"}}`` (top-1 class ids).
* LTA: JSON object ``{key: {"verb": 5 x 20, "noun": 5 x 20}}`` (the argmax sequence, then samples;
  :func:`egot2.training.scoring.lta_candidates` with the same per-batch seeds as the validation score).
* LAM: ``pred.csv`` rows ``clip_uid,frame,x1,y1,x2,y2,track_id,1,score`` (no header).
* TTM: ``pred.csv`` rows ``clip_uid,idx,start_frame,end_frame,1,score`` (no header).
* ASD: CSV with the header ``clip_uid,frame,person_id,x1,y1,x2,y2,score``, one row per face frame.

Scores are the softmax probability of the positive class, written with ``repr`` so the file holds the
exact value the cached score used. Everything each row needs beyond the outputs comes from the cached
per-clip ``info`` (:mod:`egot2.training.clip_info`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from egot2.errors import UserInputError
from egot2.metrics import keyframe_index_from_logits, pnr_frame_from_index
from egot2.training.scoring import lta_candidates
from egot2.utils.atomic import atomic_open

#: File suffix of each task's prediction file.
SUFFIX = {"pnr": "json", "oscc": "json", "ar": "json", "lta": "json", "lam": "csv", "ttm": "csv", "asd": "csv"}
#: Info fields each task's rows need (written into caches by ``egot2 extract``).
NEEDED = {
    "pnr": ("unique_id", "parent_start_frame", "parent_end_frame"),
    "oscc": ("unique_id",),
    "ar": ("clip_uid", "action_idx"),
    "lta": (),
    "lam": ("clip_uid", "frame", "track_id", "box"),
    "ttm": ("clip_uid", "idx", "eval_start", "eval_end"),
    "asd": ("clip_uid", "person_id", "frames", "boxes"),
}
ASD_HEADER = ("clip_uid", "frame", "person_id", "x1", "y1", "x2", "y2", "score")
#: ``person_id`` of an ASD row not linked to an annotated person (a repeated face frame).
UNLINKED = -1

Outputs = Sequence[Mapping[str, Tensor]]


def predictions_path(run: str | Path, task: str, split: str) -> Path:
    """The default prediction file of a run: ``RUN/predictions_<split>.<json|csv>``."""
    return Path(run) / f"predictions_{split}.{SUFFIX[task]}"


def find_annotations(task: str, split: str, data: str | Path | None) -> Path | None:
    """The annotation file of ``task``'s ``split`` in the data folder ``data``, or None when there is no
    folder or it lacks the file."""
    if not data or not Path(data).is_dir():
        return None
    from egot2.data.layout import resolve_root

    try:
        file = resolve_root(data).annotation_file(task, split)
    except UserInputError:
        return None
    return file if file.is_file() else None


def annotated_ids(task: str, annotations: Path | None, split: str) -> list[str]:
    """PNR: every ``unique_id`` of the annotation file (its predictions must cover them all); else []."""
    if task != "pnr" or annotations is None:
        return []
    from egot2.data.annotations import load_oscc_pnr

    return [c.unique_id for c in load_oscc_pnr(annotations, require_labels=split != "test")]


def check_infos(task: str, infos: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> None:
    """Refuse clips whose cached info lacks a field the prediction file needs (a cache written by hand or
    by an older egot2), naming the first such clip."""
    if task not in NEEDED:
        raise UserInputError(f"no prediction file format for task {task!r}; valid: {', '.join(NEEDED)}",
                             field="task")
    for info, cid in zip(infos, ids, strict=True):
        missing = [f for f in NEEDED[task] if f not in info]
        if missing:
            raise UserInputError(f"clip {cid!r} has no {', '.join(missing)} in its cached info, which the {task} "
                                 "prediction file needs; re-extract the cache with `egot2 extract`", field="info")


def _positive_scores(logits: Tensor) -> np.ndarray:
    """Softmax probability of class 1: (B, 2) -> (B,), (B, T, 2) -> (B, T)."""
    return logits.detach().float().softmax(-1)[..., 1].cpu().numpy()


def _num(value: Any) -> str:
    """A number cell: integers as integers, floats by ``repr`` (exact round trip)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return repr(float(value))


def _pnr(outputs: Outputs, infos: Sequence[Mapping[str, Any]], cover: Sequence[str]) -> list[dict[str, Any]]:
    logits = torch.cat([o["logits"].detach().float().cpu() for o in outputs]).numpy()  # (N, 16)
    index = keyframe_index_from_logits(logits)
    s = np.array([i["parent_start_frame"] for i in infos], dtype=np.float64)
    e = np.array([i["parent_end_frame"] for i in infos], dtype=np.float64)
    frames = pnr_frame_from_index(index, s, e)
    out = [{"unique_id": i["unique_id"], "pnr_frame": float(f)} for i, f in zip(infos, frames, strict=True)]
    have = {i["unique_id"] for i in infos}
    out += [{"unique_id": uid, "pnr_frame": None} for uid in cover if uid not in have]
    return out


def _oscc(outputs: Outputs, infos: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    logits = torch.cat([o["logits"].detach().float().cpu() for o in outputs])  # (N, 2)
    change = logits.argmax(-1).numpy().astype(bool)
    return [{"unique_id": i["unique_id"], "state_change": bool(c)} for i, c in zip(infos, change, strict=True)]


def _ar(outputs: Outputs, infos: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    verb = torch.cat([o["verb"].detach().cpu() for o in outputs]).argmax(-1).tolist()
    noun = torch.cat([o["noun"].detach().cpu() for o in outputs]).argmax(-1).tolist()
    return {f"{i['clip_uid']}_{i['action_idx']}": {"verb": v, "noun": n}
            for i, v, n in zip(infos, verb, noun, strict=True)}


def _lta(outputs: Outputs, ids: Sequence[str]) -> dict[str, dict[str, list[list[int]]]]:
    cands = [lta_candidates(o, seed=i) for i, o in enumerate(outputs)]  # the seeds of the validation score
    verb = torch.cat([c["verb"] for c in cands]).tolist()  # (N, K, Z)
    noun = torch.cat([c["noun"] for c in cands]).tolist()
    return {cid: {"verb": v, "noun": n} for cid, v, n in zip(ids, verb, noun, strict=True)}


def _lam(outputs: Outputs, infos: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    scores = np.concatenate([_positive_scores(o["logits"]) for o in outputs])
    return [[str(i["clip_uid"]), _num(i["frame"]), *(_num(v) for v in i["box"]), str(i["track_id"]), "1", _num(p)]
            for i, p in zip(infos, scores, strict=True)]


def _ttm(outputs: Outputs, infos: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    scores = np.concatenate([_positive_scores(o["logits"]) for o in outputs])
    return [[str(i["clip_uid"]), _num(i["idx"]), _num(i["eval_start"]), _num(i["eval_end"]), "1", _num(p)]
            for i, p in zip(infos, scores, strict=True)]


def _person(info: Mapping[str, Any]) -> int:
    try:
        return int(str(info["person_id"]).replace("'", ""))
    except ValueError:
        raise UserInputError(f"clip {info.get('clip_uid')!r}: person_id {info['person_id']!r} is not a number, "
                             "which the ASD prediction file needs", field="persons[].person_id") from None


def _asd(outputs: Outputs, infos: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> list[list[str]]:
    per_clip = [p for o in outputs for p in _positive_scores(o["logits"])]  # each (T_max,)
    rows, seen = [], set()
    for info, cid, probs in zip(infos, ids, per_clip, strict=True):
        frames, boxes, person = info["frames"], info["boxes"], _person(info)
        if len(probs) < len(frames):
            raise UserInputError(f"clip {cid!r}: the model gave {len(probs)} frame scores for {len(frames)} face "
                                 "frames", field="frames")
        for t, (frame, box) in enumerate(zip(frames, boxes, strict=True)):
            key = (info["clip_uid"], int(frame), person)
            linked = person if key not in seen else UNLINKED  # one linked row per face frame
            seen.add(key)
            rows.append([str(info["clip_uid"]), _num(int(frame)), str(linked), *(_num(v) for v in box),
                         _num(probs[t])])
    return rows


def prediction_content(
    task: str,
    outputs: Outputs,
    infos: Sequence[Mapping[str, Any]],
    ids: Sequence[str],
    cover: Sequence[str] = (),
) -> Any:
    """The prediction file's content: a JSON-able object (PNR, OSCC, AR, LTA) or CSV rows (LAM, TTM, ASD).

    Args:
        task: the primary task.
        outputs: the model's outputs per batch (``predict_split``), in the order of ``infos``.
        infos: each clip's cached info.
        ids: each clip's cache id.
        cover: PNR only: every ``unique_id`` of the annotation file; those the cache lacks get ``null``.
    """
    check_infos(task, infos, ids)
    if task == "pnr":
        return _pnr(outputs, infos, cover)
    if task == "oscc":
        return _oscc(outputs, infos)
    if task == "ar":
        return _ar(outputs, infos)
    if task == "lta":
        return _lta(outputs, ids)
    if task == "lam":
        return _lam(outputs, infos)
    if task == "ttm":
        return _ttm(outputs, infos)
    return _asd(outputs, infos, ids)


def write_predictions(
    task: str,
    outputs: Outputs,
    infos: Sequence[Mapping[str, Any]],
    ids: Sequence[str],
    path: str | Path,
    cover: Sequence[str] = (),
) -> Path:
    """Write ``task``'s prediction file to ``path`` atomically (see the module docstring for the formats);
    returns ``path``. Arguments as :func:`prediction_content`."""
    path = Path(path)
    content = prediction_content(task, outputs, infos, ids, cover)
    with atomic_open(path, "w") as fh:
        if SUFFIX[task] == "json":
            fh.write(json.dumps(content) + "\n")
        else:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerows([ASD_HEADER, *content] if task == "asd" else content)
    return path
