"""The answers of ``egot2 predict`` as tables for the terminal (rich)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

LTA_SHOWN = 5  # future actions shown per row (the JSON holds all 20)


def _name(c: Mapping[str, Any]) -> str:
    return c["name"] if c.get("name") is not None else f"#{c['id']}"


def _window(a: Mapping[str, Any]) -> str:
    return f"{a['start_s']:.2f}-{a['end_s']:.2f} s"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _runs(frames: list[int], flags: list[bool]) -> str:
    """Speaking spans of a track as time ranges (``1.00-2.33 s``)."""
    spans, start = [], None
    for i, (f, on) in enumerate(zip(frames, flags)):
        if on and start is None:
            start = f
        if start is not None and (not on or i == len(frames) - 1):
            stop = f + 1 if on else frames[i - 1] + 1
            spans.append(f"{start / 30:.2f}-{stop / 30:.2f} s")
            start = None
    return ", ".join(spans) or "-"


COLUMNS: dict[str, tuple[list[str], Callable[[Mapping[str, Any]], list[str]]]] = {
    "pnr": (["window", "keyframe"], lambda a: [_window(a), f"{a['keyframe_s']:.2f} s (frame {a['keyframe_frame']})"]),
    "oscc": (["window", "state change"], lambda a: [_window(a), _yes(a["state_change"])]),
    "ar": (["segment", "verb", "noun"], lambda a: [_window(a), _name(a["verb"]), _name(a["noun"])]),
    "lta": (["observed", "next actions"], lambda a: [_window(a), ", ".join(
        f"{_name(x['verb'])} {_name(x['noun'])}" for x in a["actions"][:LTA_SHOWN])
        + (f" ... (+{len(a['actions']) - LTA_SHOWN})" if len(a["actions"]) > LTA_SHOWN else "")]),
    "lam": (["track", "time", "looking at me"], lambda a: [a["track_id"], f"{a['time_s']:.2f} s",
                                                            _yes(a["looking_at_me"])]),
    "ttm": (["track", "segment", "talking to me"], lambda a: [a["track_id"], _window(a), _yes(a["talking_to_me"])]),
    "asd": (["track", "frames", "speaking", "speaking spans"], lambda a: [
        a["track_id"], _window(a), f"{sum(a['speaking'])}/{len(a['speaking'])}", _runs(a["frames"], a["speaking"])]),
}
TITLES = {"pnr": "PNR keyframe", "oscc": "OSCC state change", "ar": "AR action", "lta": "LTA next 20 actions",
          "lam": "LAM looking at me", "ttm": "TTM talking to me", "asd": "ASD speaking"}


def print_report(result: Mapping[str, Any], console: Console | None = None) -> None:
    """One table per answered task, then one line per skipped task."""
    console = console or Console()
    r = result["range"]
    console.print(f"{result['video']}: {r['start_s']:.2f}-{r['end_s']:.2f} s of {result['duration_s']:.2f} s")
    for task, answers in result["answers"].items():
        header, row = COLUMNS[task]
        table = Table(title=f"{TITLES.get(task, task)} ({len(answers)})", title_justify="left")
        for h in header:
            table.add_column(h)
        for a in answers:
            table.add_row(*[str(x) for x in row(a)])
        console.print(table)
    for task, reason in result["skipped"].items():
        console.print(f"{task}: skipped: {reason}")
