"""The benchmark helpers: FLOP counting against hand computations, goals, and the runner's records.

No timing is asserted: these run tiny inputs and fake benchmark modules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from egot2.config import TranslatorConfig
from egot2.tasks import get_task
from egot2.translator import EgoT2S, EncoderLayer, InputStream

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` lives at the repository root, beside `src`
    sys.path.insert(0, str(ROOT))

from bench.translator_flops import Flops, build_step, count_flops  # noqa: E402

from bench import __main__ as runner  # noqa: E402
from bench import common  # noqa: E402

# -- FLOP counting ----------------------------------------------------------------------------------


def test_linear_flops_by_hand() -> None:
    lin = nn.Linear(4, 8)
    x = torch.randn(2, 3, 4)
    # 6 rows x 4 x 8 multiply-adds = 192 -> 384 FLOPs; the input needs no grad: backward = weight grad only
    assert count_flops(lin, lambda: lin(x)) == Flops(384, 384)
    x.requires_grad_(True)
    assert count_flops(lin, lambda: lin(x)) == Flops(384, 768)


def test_encoder_layer_flops_by_hand() -> None:
    layer = EncoderLayer(dim=8, heads=2, ffn=16, dropout=0.0)
    x = torch.randn(2, 5, 8, requires_grad=True)  # B=2, N=5, D=8
    qkv = 2 * 10 * 8 * 24  # 10 tokens, D -> 3D
    scores = 2 * (2 * 2 * 5 * 5 * 8)  # Q K^T and A V: 2 * B * N * N * D each
    out = 2 * 10 * 8 * 8
    ffn = 2 * (2 * 10 * 8 * 16)
    fwd = qkv + scores + out + ffn
    assert fwd == 11840
    assert count_flops(layer, lambda: layer(x)) == Flops(fwd, 2 * fwd)


def test_attention_called_with_keywords_is_counted() -> None:
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(1, 4, 8)
    by_position = count_flops(mha, lambda: mha(x, x, x, need_weights=False))
    assert count_flops(mha, lambda: mha(query=x, key=x, value=x, need_weights=False)) == by_position
    assert by_position.forward == 4 * 2 * 4 * 8 * 8 + 2 * 2 * 4 * 4 * 8


def test_tiny_egot2s_flops_by_hand() -> None:
    layout = [InputStream("oscc", "tokens", 3, 4), InputStream("pnr", "tokens", 2, 6)]
    cfg = TranslatorConfig(dim=8, layers=1, heads=2, ffn=16, dropout=0.0)
    model = EgoT2S(get_task("oscc"), layout, cfg)
    streams = {"oscc.tokens": torch.randn(2, 3, 4), "pnr.tokens": torch.randn(2, 2, 6)}
    proj = 2 * 3 * 4 * 8 + 2 * 2 * 6 * 8  # per clip: P_k over its tokens
    n = 5
    layer = 2 * n * 8 * 24 + 2 * 2 * n * n * 8 + 2 * n * 8 * 8 + 2 * 2 * n * 8 * 16
    head = 2 * 8 * 2  # pooled LayerNorm -> Linear(8, 2)
    got = count_flops(model, lambda: model(streams))
    assert got.forward == 2 * (proj + layer + head)
    # projections: weight gradient only (the frozen streams need none); everything after: both
    assert got.backward == 2 * (proj + 2 * layer + 2 * head)
    assert got.training == got.forward + got.backward


def test_paper_ttm_count_matches_the_documented_formula() -> None:
    step = build_step("ttm", batch=1, frames=30)
    d, f, n = 128, 2048, 90  # D, FFN, tokens: LAM + TTM + ASD, 30 frames each
    proj = 3 * 2 * 30 * 256 * d
    layer = 8 * n * d * d + 4 * n * n * d + 4 * n * d * f
    head = 2 * d * 2
    flops = step.flops()
    assert flops.forward == proj + layer + head
    assert flops.backward == proj + 2 * (layer + head)


def test_hooks_are_removed_after_counting() -> None:
    lin = nn.Linear(3, 3)
    count_flops(lin, lambda: lin(torch.randn(1, 3)))
    assert not lin._forward_hooks


# -- timing, goals, records ------------------------------------------------------------------------


def test_interleaved_times_each_function_and_rotates_the_order() -> None:
    calls: list[str] = []
    fns = {k: (lambda k=k: calls.append(k)) for k in "abc"}
    times = common.interleaved(fns, repeats=3, warmup=1)
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert calls[3:] == list("abc" "bca" "cab")
    assert set(common.medians(times)) == {"a", "b", "c"}


def test_torch_threads_restores_the_count() -> None:
    before = torch.get_num_threads()
    with common.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert common.thread_counts()[0] == before and common.thread_counts()[-1] == 1


@pytest.mark.parametrize(
    ("ratio", "goal", "met"),
    [(0.3, ">= 0.25", True), (0.2, ">= 0.25", False), (3.0, ">= 3x", True), (0.5, "< 1", True), (1.0, None, None)],
)
def test_goal_met(ratio: float, goal: str | None, met: bool | None) -> None:
    assert common.goal_met(ratio, goal) is met


def test_goal_must_be_a_comparison() -> None:
    with pytest.raises(ValueError, match="goal"):
        common.goal_met(1.0, "fast")


def test_result_has_the_record_keys_and_quick_runs_judge_nothing() -> None:
    r = common.result("x", "a / b", 0.1, {"a s": 1.0}, goal=">= 0.25", flops={"forward": 1})
    assert list(r)[:7] == list(common.RECORD_KEYS)
    assert r["met"] is False and r["flops"] == {"forward": 1}
    assert set(r["machine"]) >= {"cpu", "cores", "torch", "threads"}
    assert common.result("x", "a / b", 0.1, {}, goal=">= 0.25", quick=True)["met"] is None


def test_normalise_fills_what_a_smaller_format_leaves_out() -> None:
    r = common.normalise({"name": "decode", "compared": "a / b", "ratio": 2, "medians": {"a": 1.0}}, "decode")
    assert r["goal"] is None and r["met"] is None and r["ratio"] == 2.0
    assert set(r["machine"]) >= {"cpu", "cores", "torch", "threads"}
    r = common.normalise({"ratio": 4.0, "goal": ">= 3", "extra": 1}, "mod")
    assert r["name"] == "mod" and r["met"] is True and r["extra"] == 1 and r["medians"] == {}


# -- the runner --------------------------------------------------------------------------------------

HOST = {"cpu": "test", "cores": 1, "torch": "0", "threads": 1}


def test_run_module_calls_run_with_or_without_quick() -> None:
    seen = {}

    def with_quick(quick: bool = False) -> list[dict]:
        seen["quick"] = quick
        return [{"name": "a", "compared": "x / y", "ratio": 1.0, "medians": {}}]

    out = runner.run_module("mod", SimpleNamespace(run=with_quick), quick=True, host=HOST)
    assert seen == {"quick": True}
    assert out[0]["module"] == "mod" and out[0]["machine"] == HOST
    no_arg = SimpleNamespace(run=lambda: [{"name": "b", "compared": "x / y", "ratio": 2.0, "medians": {}}])
    assert runner.run_module("mod", no_arg, quick=True, host=HOST)[0]["name"] == "b"


@pytest.mark.parametrize("run", [lambda: 1 / 0, lambda: "not a list", lambda: []])
def test_a_broken_benchmark_becomes_a_failed_record(run) -> None:
    (r,) = runner.run_module("broken", SimpleNamespace(run=run), host=HOST)
    assert r["name"] == "broken" and r["error"] and r["ratio"] is None and r["met"] is None
    assert list(r)[:7] == list(common.RECORD_KEYS)


def test_run_benchmarks_goes_on_after_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ok = SimpleNamespace(run=lambda quick=False: [{"name": "ok", "compared": "x / y", "ratio": 1.0, "medians": {}}])
    monkeypatch.setitem(sys.modules, "bench.fake_ok", ok)
    monkeypatch.setitem(sys.modules, "bench.fake_helpers", SimpleNamespace())  # no run(): not a benchmark
    out = runner.run_benchmarks(["fake_missing_module", "fake_helpers", "fake_ok"])
    assert [r["name"] for r in out] == ["fake_missing_module", "ok"]
    assert "ModuleNotFoundError" in out[0]["error"]


def test_discover_lists_the_benchmarks_only() -> None:
    names = runner.discover()
    assert {"translator_flops", "generalist"} <= set(names)
    assert not {"common", "__init__", "__main__"} & set(names)


def test_main_writes_records_and_keeps_other_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "results.json"
    out.write_text(json.dumps([{"name": "old", "module": "generalist"}, {"name": "stale", "module": "translator_flops"}]))

    def fake_run(names, quick=False, log=None):
        assert list(names) == ["translator_flops"] and quick
        return [{**common.failed("translator_flops", RuntimeError("boom"), HOST), "module": "translator_flops"}]

    monkeypatch.setattr(runner, "run_benchmarks", fake_run)
    assert runner.main(["translator-flops", "--quick", "--output", str(out)]) == 1
    records = json.loads(out.read_text())
    assert [r["name"] for r in records] == ["old", "translator_flops"]
    assert records[1]["error"] == "RuntimeError: boom"
    assert runner.main(["nope", "--output", str(out)]) == 2
