"""The study's building blocks: content-addressed stages, Spearman, Δp, tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from egot2.study.relations import compare_with_ground_truth, spearman
from egot2.study.stages import Stages, content_key
from egot2.study.tables import delta_p, tables_markdown


def test_stage_reused_with_same_key_and_rerun_with_another(tmp_path: Path) -> None:
    calls: list[bool] = []

    def work(resume: bool) -> dict:
        calls.append(resume)
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "a" / "out.txt").write_text("x")
        return {"n": len(calls)}

    stages = Stages(tmp_path, log=lambda _: None)
    assert stages.run("a", tmp_path / "a", content_key(1), work) == {"n": 1}
    assert Stages(tmp_path, log=lambda _: None).run("a", tmp_path / "a", content_key(1), work) == {"n": 1}
    assert calls == [False]  # reused: not run again
    stages = Stages(tmp_path, log=lambda _: None)
    stages.run("a", tmp_path / "a", content_key(2), work)
    assert calls == [False, False] and stages.reused == []


def test_interrupted_stage_resumes(tmp_path: Path) -> None:
    def crash(resume: bool) -> dict:
        (tmp_path / "b").mkdir(exist_ok=True)
        (tmp_path / "b" / "partial").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Stages(tmp_path, log=lambda _: None).run("b", tmp_path / "b", "k", crash)
    seen: list[bool] = []

    def finish(resume: bool) -> dict:
        seen.append(resume)
        assert (tmp_path / "b" / "partial").exists()  # the partial work is kept for the resume
        return {}

    Stages(tmp_path, log=lambda _: None).run("b", tmp_path / "b", "k", finish)
    assert seen == [True]


def test_spearman_hand_computed() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks a: 1, 2.5, 2.5, 4; b: 1, 2, 3, 4 -> r = 0.9486832980505138 (cov 4.5 / sqrt(4.5 * 5))
    assert spearman([0, 1, 1, 2], [1, 2, 3, 4]) == pytest.approx(4.5 / (4.5 * 5) ** 0.5)


def test_ground_truth_comparison_skips_undefined_pairs() -> None:
    learned = {"ttm": {"ttm": 0.5, "lam": 0.3, "asd": 0.2}, "asd": {"asd": 0.6, "ttm": 0.3, "lam": 0.1}}
    truth = {"matrix": {"ttm": {"lam": 0.16, "asd": 0.16}, "asd": {"ttm": 0.35, "lam": None}}}
    out = compare_with_ground_truth(learned, truth)
    assert out["pairs"] == [["lam", "ttm"], ["asd", "ttm"], ["ttm", "asd"]]


def _rows() -> list[dict]:
    def row(method: str, primary: str, metrics: dict) -> dict:
        return {"method": method, "primary": primary, "aux": [], "trainable_params": 1_000_000,
                "total_params": 2_000_000, "metrics": metrics}

    return [row("ts", "oscc", {"acc": 0.5}), row("egot2-s", "oscc", {"acc": 0.6}),
            row("ts", "pnr", {"keyframe_err_s": 1.0}), row("egot2-s", "pnr", {"keyframe_err_s": 0.8})]


def test_delta_p_signs() -> None:
    # OSCC: +(0.6 - 0.5) / 0.5 = +20 %; PNR (lower is better): -(0.8 - 1.0) / 1.0 = +20 %
    assert delta_p(_rows(), "egot2-s") == pytest.approx(20.0)


def test_tables_layout() -> None:
    md = tables_markdown(_rows())
    assert "Table 2" in md and "Table 3" in md and "Table 5" in md
    assert "| EgoT2-s (All Tasks) | 1 (2) | 0.800 | 1 (2) | 60.00 | N/A |" in md
