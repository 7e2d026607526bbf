"""The study pipeline end to end on the tiny world with a smoke schedule: outputs and their schema, a
second run reuses every stage, an interrupted run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.study import pipeline
from egot2.study.schedule import SMOKE

METHODS = {"ts", "finetune", "transfer", "late-fusion", "egot2-s", "egot2-g", "multitask"}


@pytest.mark.slow
def test_study_outputs_reuse_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "study"
    import egot2.training.joint as joint

    original = joint.train_generalist

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003 - killed in the middle of the study
        raise KeyboardInterrupt

    monkeypatch.setattr(joint, "train_generalist", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_study(out, schedule=SMOKE, progress=False, log=lambda _: None, workers=2)
    finished = {p.name.removesuffix(".stage.json").replace("__", "/") for p in (out / ".stages").glob("*.stage.json")}
    assert {"world", "stage1/ar", "cache/asd"} <= finished  # the generalists' dependencies were done
    monkeypatch.setattr(joint, "train_generalist", original)
    results = pipeline.run_study(out, schedule=SMOKE, progress=False, log=lambda _: None, workers=2)
    assert set(results["reused_stages"]) == finished  # every finished stage reused, nothing else
    assert "egot2-g/human-human" not in results["reused_stages"]  # resumed where it stopped

    for name in ("results.json", "tables.md", "relations.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert list((out / "attention").glob("egot2s_*.png"))
    saved = json.loads((out / "results.json").read_text())
    assert set(saved) >= {"seed", "world", "rows", "relations", "timings_s", "claims"}
    assert len(saved["claims"]) == 6 and all(isinstance(c["holds"], bool) and c["evidence"] for c in saved["claims"])
    assert "The paper's claims on this world" in (out / "report.html").read_text()
    assert {r["method"] for r in saved["rows"]} == METHODS
    for row in saved["rows"]:
        assert set(row) >= {"method", "primary", "aux", "trainable_params", "total_params", "metrics"}
        assert isinstance(row["trainable_params"], int) and row["total_params"] >= row["trainable_params"]
    transfer = {(r["primary"], tuple(r["aux"])) for r in saved["rows"] if r["method"] == "transfer"}
    assert ("ttm", ("lam",)) in transfer and ("pnr", ("ar",)) in transfer
    rel = saved["relations"]
    assert rel["tasks"] == ["pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"] and len(rel["matrix"]) == 7
    ttm_row = rel["matrix"][5]
    assert abs(sum(v for v in ttm_row if v is not None) - 1.0) < 1e-4  # a prompt's attention sums to 1

    again = pipeline.run_study(out, schedule=SMOKE, progress=False, log=lambda _: None)
    assert "stage1/oscc" in again["reused_stages"] and "egot2-g/human-human" in again["reused_stages"]
    assert again["rows"] == saved["rows"]

    # one stage at a time computes the very same numbers (every stage runs with one torch thread)
    alone = pipeline.run_study(tmp_path / "alone", schedule=SMOKE, progress=False, log=lambda _: None, workers=1)
    assert alone["rows"] == saved["rows"]
