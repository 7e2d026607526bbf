"""Turning generated label tokens of one clip into a JSON-able answer (times, class names, booleans).

Times are on the 30 fps timeline: ``*_frame`` are frame numbers, ``*_s`` seconds (frame / 30); spans are
``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor

from egot2.data.datasets import ClipItem
from egot2.data.video import RATE

Names = Mapping[str, list[str]]


def seconds(frame: int) -> float:
    """``frame / 30`` rounded to milliseconds."""
    return round(frame / RATE, 3)


def _span(start: int, end: int) -> dict[str, Any]:
    return {"start_frame": start, "end_frame": end, "start_s": seconds(start), "end_s": seconds(end)}


def _class(index: int, names: list[str]) -> dict[str, Any]:
    return {"id": index, "name": names[index] if index < len(names) else None}


def _pnr(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    frames = item.data["frames"]
    index = int(labels["label"])
    return {**_span(*item.data["span"]), "keyframe": index, "keyframe_frame": frames[index],
            "keyframe_s": seconds(frames[index])}


def _oscc(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    return {**_span(*item.data["span"]), "state_change": bool(int(labels["label"]))}


def _ar(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    d = item.data
    return {**_span(d["start"], d["end"]), "verb": _class(int(labels["verb"]), names["verbs"]),
            "noun": _class(int(labels["noun"]), names["nouns"])}


def _lta(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    (a0, a1), (b0, b1) = item.data["spans"]
    actions = [{"verb": _class(int(v), names["verbs"]), "noun": _class(int(n), names["nouns"])}
               for v, n in zip(labels["verb"].tolist(), labels["noun"].tolist())]
    return {**_span(a0, b1), "observed": [[a0, a1], [b0, b1]], "actions": actions}


def _lam(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    d = item.data
    return {"track_id": d["track_id"], "frame": d["frame"], "time_s": seconds(d["frame"]),
            "box": [round(float(x), 2) for x in d["box"]], "looking_at_me": bool(int(labels["label"]))}


def _ttm(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    d = item.data
    return {"track_id": d["person"], **_span(d["start"], d["end"] + 1), "talking_to_me": bool(int(labels["label"]))}


def _asd(item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    frames = list(item.data["frames"])
    speaking = [bool(int(x)) for x in labels["label"][: len(frames)].tolist()]
    return {"track_id": item.data["track_id"], **_span(frames[0], frames[-1] + 1), "frames": frames,
            "speaking": speaking}


DESCRIBE: dict[str, Callable[[ClipItem, Mapping[str, Tensor], Names], dict[str, Any]]] = {
    "pnr": _pnr, "oscc": _oscc, "ar": _ar, "lta": _lta, "lam": _lam, "ttm": _ttm, "asd": _asd,
}


def describe(task: str, item: ClipItem, labels: Mapping[str, Tensor], names: Names) -> dict[str, Any]:
    """The answer to one clip of ``task`` from its decoded labels (one clip's, no batch dimension)."""
    return DESCRIBE[task](item, labels, names)
