"""Property: the order of the predictions never changes a metric (hypothesis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egot2.evaluation import evaluate
from evaluation.builders import (
    av_box,
    av_clip,
    av_file,
    av_person,
    av_seg,
    av_track,
    lta_action,
    lta_file,
    oscc_clip,
    oscc_file,
    write_json,
    write_lines,
)

# random data often leaves an AP without positives: that warning is tested elsewhere
pytestmark = pytest.mark.filterwarnings("ignore::egot2.evaluation.EvaluationWarning")

SETTINGS = settings(max_examples=25, deadline=None)
# few distinct values, so that ties (the hard case for order independence) are common
scores = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


def _both_orders(task: str, ann: dict, preds, permutation: list[int], write) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as d:
        a = write_json(Path(d) / "ann.json", ann)
        first = evaluate(task, a, write(Path(d) / "p1", preds))
        second = evaluate(task, a, write(Path(d) / "p2", [preds[i] for i in permutation]))
    return first, second


def _json_list(path: Path, items: list) -> Path:
    return write_json(path, items)


def _json_dict(path: Path, items: list) -> Path:
    return write_json(path, dict(items))


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 240), st.floats(0, 240), st.booleans()), min_size=1,
                max_size=8), st.randoms())
def test_pnr_and_oscc_ignore_order(clips, rnd) -> None:
    ann = oscc_file([oscc_clip(f"u{i}", sc, pnr if sc else None) for i, (sc, pnr, _, _) in enumerate(clips)])
    order = list(range(len(clips)))
    rnd.shuffle(order)
    pnr = [{"unique_id": f"u{i}", "pnr_frame": f} for i, (_, _, f, _) in enumerate(clips)]
    a, b = _both_orders("pnr", ann, pnr, order, _json_list)
    assert a == b
    oscc = [{"unique_id": f"u{i}", "state_change": s} for i, (_, _, _, s) in enumerate(clips)]
    a, b = _both_orders("oscc", ann, oscc, order, _json_list)
    assert a == b


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=22, max_size=26),
       st.data(), st.randoms())
def test_ar_and_lta_ignore_order(labels, data, rnd) -> None:
    ann = lta_file([lta_action("c", i, v, n) for i, (v, n) in enumerate(labels)])
    ar = [(f"c_{i}", {"verb": data.draw(st.integers(0, 3)), "noun": data.draw(st.integers(0, 3))})
          for i in range(len(labels))]
    order = list(range(len(ar)))
    rnd.shuffle(order)
    a, b = _both_orders("ar", ann, ar, order, _json_dict)
    assert a == b
    seq = st.lists(st.lists(st.integers(0, 3), min_size=20, max_size=20), min_size=5, max_size=5)
    lta = [(f"c_{i + 1}", {"verb": data.draw(seq), "noun": data.draw(seq)}) for i in range(len(labels) - 21)]
    order = list(range(len(lta)))
    rnd.shuffle(order)
    a, b = _both_orders("lta", ann, lta, order, _json_dict)
    assert a == b


def _lines(path: Path, lines: list[str]) -> Path:
    return write_lines(path, lines)


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 10), st.sampled_from(["1", "2"])), max_size=4),
       st.data(), st.randoms())
def test_lam_ignores_order(tracks, looking, data, rnd) -> None:
    persons = [av_person(str(p + 1), [av_track(f"t{p}", [av_box(f) for f in range(s, s + n)])])
               for p, (s, n) in enumerate(tracks)]
    clip = av_clip("c", persons, looking=[av_seg(s, s + n, who) for s, n, who in looking])
    rows = []
    for p, (s, n) in enumerate(tracks):
        for f in range(s, s + n, 13):
            rows.append(f"c,{f},10,20,40,60,t{p},1,{data.draw(scores)}")
    order = list(range(len(rows)))
    rnd.shuffle(order)
    a, b = _both_orders("lam", av_file([clip]), rows, order, _lines)
    assert a == b


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(1, 400), st.booleans(), scores), min_size=1,
                max_size=8), st.randoms())
def test_ttm_ignores_order(segments, rnd) -> None:
    talking = [av_seg(s, s + n, "1", "0" if t else None) for s, n, t, _ in segments]
    rows = []
    for idx, (s, n, _, score) in enumerate(segments):
        length = n + 1
        end = s + n if length <= 150 else min(s + n, s + 150 * (length // 150))
        rows.append(f"c,{idx},{s},{end},1,{score}")
    order = list(range(len(rows)))
    rnd.shuffle(order)
    a, b = _both_orders("ttm", av_file([av_clip("c", [av_person("1")], talking=talking)]), rows, order, _lines)
    assert a == b


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 40)), min_size=2, max_size=12, unique_by=lambda t: t[0]),
       st.lists(st.tuples(st.integers(0, 9), st.integers(0, 40), st.integers(0, 30)), max_size=6),
       st.data(), st.randoms())
def test_asd_ignores_order_of_rows(boxes, unlinked, data, rnd) -> None:
    # Every row gets its own score (6-decimal distinct), so the official file order is never consulted.
    p1 = av_person("1", [av_track("t1", [av_box(f, x, 0, 30, 30) for f, x in sorted(boxes)])], voice=[(0, 4)])
    ann = av_file([av_clip("c", [p1])])
    values = data.draw(st.lists(st.integers(0, 10**6), min_size=len(boxes) + len(unlinked),
                                max_size=len(boxes) + len(unlinked), unique=True))
    rows = [f"c,{f},1,{x},0,{x + 30},30,{v / 10**6}" for (f, x), v in zip(sorted(boxes), values)]
    rows += [f"c,{f},-1,{x},{y},{x + 30},{y + 30},{v / 10**6}" for (f, x, y), v in zip(unlinked, values[len(boxes):])]
    order = list(range(len(rows)))
    rnd.shuffle(order)
    header = "clip_uid,frame,person_id,x1,y1,x2,y2,score"
    a, b = _both_orders("asd", ann, rows, order, lambda p, r: write_lines(p, [header, *r]))
    assert a == b
    assert json.loads(json.dumps(a)) == a
