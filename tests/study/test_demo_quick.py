"""`egot2 demo --quick` end to end through the command line (issue 8): every output file, the
results.json schema with the issue's metric names, and a second run that reuses every stage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from egot2.cli import main

METRICS = {"pnr": {"keyframe_err_s"}, "oscc": {"acc"}, "ar": {"verb_top1", "noun_top1"},
           "lta": {"ed20_verb", "ed20_noun"}, "lam": {"map"}, "ttm": {"map"}, "asd": {"map", "acc"}}
METHODS = {"ts", "finetune", "transfer", "late-fusion", "egot2-s", "egot2-g", "multitask"}


@pytest.mark.slow
def test_demo_quick_outputs_and_warm_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--seed", "0"]) == 0
    for name in ("results.json", "tables.md", "relations.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "relations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (out / "attention").glob("egot2s_*.png")) == sorted(
        f"egot2s_{t}.png" for t in ("pnr", "oscc", "ar", "lta", "ttm", "asd"))
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Spearman" in html  # self-contained, with the relations

    res = json.loads((out / "results.json").read_text())
    assert res["seed"] == 0 and res["world"]["name"] == "quick"
    assert {r["method"] for r in res["rows"]} == METHODS
    for row in res["rows"]:
        names = METRICS[row["primary"]]
        assert names <= set(row["metrics"]), row
        for m in names:
            v = row["metrics"][m]
            if row["method"] == "ts" or not math.isnan(v):
                assert m in ("keyframe_err_s", "ed20_verb", "ed20_noun") or 0.0 <= v <= 1.0, (row, m)
        if row["method"] == "transfer":
            assert len(row["aux"]) == 1 and row["aux"][0] != row["primary"]
    assert {r["primary"] for r in res["rows"] if r["method"] == "egot2-g"} == set(METRICS)
    assert {r["primary"] for r in res["rows"] if r["method"] == "multitask"} == {"pnr", "oscc", "lam", "ttm"}
    rel = res["relations"]
    assert rel["tasks"] == ["pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"]
    assert len(rel["matrix"]) == 7 and all(len(r) == 7 for r in rel["matrix"])
    assert set(rel["egot2_s"]) == {"pnr", "oscc", "ar", "lta", "ttm", "asd"}
    assert res["timings_s"]["total"] > 0 and "stage1/ar" in res["timings_s"]

    capsys.readouterr()
    assert main(["demo", "--quick", "--out", str(out), "--seed", "0"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert set(again["reused_stages"]) == set(res["timings_s"]) - {"total"}  # every stage reused
    assert again["rows"] == res["rows"]
