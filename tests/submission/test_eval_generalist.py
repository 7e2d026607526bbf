"""``egot2 eval`` on EgoT2-g runs: one Ego4D prediction file per task, each scoring with ``egot2 evaluate``
exactly as the run's in-memory (generation) metrics, for both clusters, on val and on the unlabelled test
split."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from egot2.cli import main
from egot2.config import load_config
from egot2.data.annotations import load_lta, load_oscc_pnr
from egot2.data.layout import resolve_root
from egot2.errors import UserInputError
from egot2.evaluation import evaluate
from egot2.evaluation.readers import read_csv_rows
from egot2.evaluation.submission import ASD_HEADER
from egot2.features.cache import CacheSplit
from egot2.features.extract import extract
from egot2.generalist import EgoT2G
from egot2.methods import build_model
from egot2.metrics.lta_windows import lta_windows
from egot2.training.joint import evaluate_generalist, resolve_generalist
from egot2.training.runs import load_run, save_run
from egot2.training.stage2 import evaluate_run

CLUSTERS = {"human-object": ("pnr", "oscc", "ar", "lta"), "human-human": ("lam", "ttm", "asd")}
SMALL = ["model.translator.dim=16", "model.translator.heads=2", "model.translator.layers=1", "model.translator.ffn=16",
         "model.translator.positions=task-sinusoidal", "model.generalist.decoder_layers=1"]
#: The metrics whose definitions coincide in the cached (training) score and the official file score.
SAME = {"pnr": ["keyframe_err_s"], "oscc": ["acc"], "ar": ["verb_top1", "noun_top1"], "lta": ["ed20_verb", "ed20_noun"],
        "lam": ["map", "acc"], "ttm": ["map", "acc"], "asd": ["acc"]}
CSV_COLUMNS = {"lam": 9, "ttm": 6}


@pytest.fixture(scope="module")
def make_run(tiny_world: Path, ts_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
             ) -> Callable[[str], Path]:
    """Per cluster: every task's cache (paper-rule auxiliary streams, val and test) and a random EgoT2-g run
    whose weights are spread out so that its answers differ from clip to clip."""
    made: dict[str, Path] = {}

    def get(cluster: str) -> Path:
        if cluster not in made:
            root = tmp_path_factory.mktemp(cluster)
            tasks = CLUSTERS[cluster]
            for task in tasks:
                extract(task, tiny_world, [ts_runs[t] for t in tasks], root / "caches" / task, splits=["val", "test"],
                        progress=False)
            cfg = load_config([], ["model.method=egot2-g", f"model.generalist.cluster={cluster}", *SMALL,
                                   f"model.generalist.max_len={302 if cluster == 'human-human' else 64}"])
            cfg = resolve_generalist(cfg, root / "caches")
            torch.manual_seed(5)
            model = build_model(cfg.model)
            assert isinstance(model, EgoT2G)
            with torch.no_grad():
                for p in model.parameters():
                    if p.ndim > 1:
                        p.normal_(0.0, 1.0)
            save_run(root / "run", model, cfg, {"cache": str(root / "caches"), "vocabulary": model.vocab.to_json()})
            made[cluster] = root / "run"
        return made[cluster]

    return get


def _model(run: Path) -> tuple[EgoT2G, object]:
    cfg, _, weights = load_run(run)
    model = build_model(cfg.model)
    model.load_state_dict(weights)
    assert isinstance(model, EgoT2G)
    return model.eval(), cfg


@pytest.mark.parametrize("cluster", list(CLUSTERS))
def test_every_task_file_scores_like_the_generation(cluster: str, make_run: Callable[[str], Path]) -> None:
    run = make_run(cluster)
    results = evaluate_run(run, "val")
    assert isinstance(results, list) and [r["task"] for r in results] == list(CLUSTERS[cluster])
    model, cfg = _model(run)
    in_memory = evaluate_generalist(model, cfg, Path(json.loads((run / "run.json").read_text())["cache"]), "val")
    for r in results:
        task = r["task"]
        path = run / f"predictions_{task}_val.{'csv' if task in ('lam', 'ttm', 'asd') else 'json'}"
        assert r["predictions"] == str(path) and path.is_file() and r["scored_by"] == "evaluate"
        official = evaluate(task, r["annotations"], path)["metrics"]  # the file alone, as `egot2 evaluate` reads it
        assert {k: v for k, v in r["metrics"].items() if k != "invalid_rate"} == official
        assert {k: official[k] for k in SAME[task]} == pytest.approx({k: in_memory[task][k] for k in SAME[task]},
                                                                     abs=1e-12)
        assert r["metrics"]["invalid_rate"] == in_memory[task]["invalid_rate"] == 0.0


def test_the_files_hold_the_generated_answers(make_run: Callable[[str], Path]) -> None:
    """Each clip's entry is what the model generates for that clip alone: ids and outputs are not mixed up,
    and the scores come from the generation's own step distributions."""
    run = make_run("human-object")
    evaluate_run(run, "val")
    model, _ = _model(run)
    cache = Path(json.loads((run / "run.json").read_text())["cache"])
    ar = json.loads((run / "predictions_ar_val.json").read_text())
    oscc = {e["unique_id"]: e["state_change"] for e in json.loads((run / "predictions_oscc_val.json").read_text())}
    lta = json.loads((run / "predictions_lta_val.json").read_text())
    split = CacheSplit(cache / "ar", "val")
    answers = set()
    for item in split:
        streams = {k: v.unsqueeze(0) for k, v in item.streams.items()}
        verb = int(model.generate(streams, "ar_verb").labels["verb"][0])
        noun = int(model.generate(streams, "ar_noun").labels["noun"][0])
        assert ar[f"{item.info['clip_uid']}_{item.info['action_idx']}"] == {"verb": verb, "noun": noun}
        answers.add((verb, noun))
    assert len(answers) > 1  # the check means something: answers differ between clips
    for item in CacheSplit(cache / "oscc", "val"):
        gen = model.generate({k: v.unsqueeze(0) for k, v in item.streams.items()}, "oscc")
        assert oscc[item.info["unique_id"]] is bool(gen.labels["label"][0])
    for item in CacheSplit(cache / "lta", "val"):
        gen = model.generate({k: v.unsqueeze(0) for k, v in item.streams.items()}, "lta")
        entry = lta[item.clip_id]
        assert entry["verb"][0] == gen.labels["verb"][0].tolist() and entry["noun"][0] == gen.labels["noun"][0].tolist()
        assert len(entry["verb"]) == len(entry["noun"]) == 5 and all(len(c) == 20 for c in entry["verb"])


def test_lam_scores_are_the_generated_step_probabilities(make_run: Callable[[str], Path]) -> None:
    run = make_run("human-human")
    evaluate_run(run, "val")
    model, _ = _model(run)
    cache = Path(json.loads((run / "run.json").read_text())["cache"])
    rows = {(r.cells[0], r.cells[1], r.cells[6]): float(r.cells[8])
            for r in read_csv_rows(run / "predictions_lam_val.csv", [str(i) for i in range(9)], header=False)}
    items = list(CacheSplit(cache / "lam", "val"))
    for item in items[:5]:
        gen = model.generate({k: v.unsqueeze(0) for k, v in item.streams.items()}, "lam")
        tok = model.tokenizers["lam"]
        expected = gen.logits[0, 0, tok.values].softmax(-1)[1].item()  # P(true) among the valid tokens
        key = (item.info["clip_uid"], str(item.info["frame"]), str(item.info["track_id"]))
        assert rows[key] == pytest.approx(expected, abs=1e-6)
    assert len({round(v, 6) for v in rows.values()}) > 1


@pytest.mark.parametrize("cluster", list(CLUSTERS))
def test_test_split_writes_every_file_without_metrics(cluster: str, make_run: Callable[[str], Path],
                                                      tiny_world: Path, tmp_path: Path, capsys) -> None:
    run = make_run(cluster)
    out = tmp_path / "submission"
    assert main(["eval", str(run), "--split", "test", "--predictions", str(out), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    root = resolve_root(tiny_world)
    for r in results:
        task = r["task"]
        path = out / f"predictions_{task}_test.{'csv' if task in ('lam', 'ttm', 'asd') else 'json'}"
        assert r == {"task": task, "split": "test", "metrics": {}, "predictions": str(path), "scored_by": None}
        ann = root.annotation_file(task, "test")
        if task in ("pnr", "oscc"):
            entries = json.loads(path.read_text())
            field = "pnr_frame" if task == "pnr" else "state_change"
            assert {e["unique_id"] for e in entries} == {c.unique_id for c in load_oscc_pnr(ann, require_labels=False)}
            assert all(set(e) == {"unique_id", field} for e in entries)
        elif task == "ar":
            keys = {a.key for a in load_lta(ann, require_labels=False)}
            assert set(json.loads(path.read_text())) == keys
        elif task == "lta":
            entries = json.loads(path.read_text())
            assert set(entries) == {w.key for w in lta_windows(load_lta(ann, require_labels=False))}
            assert all(len(v["verb"]) == 5 and len(v["noun"][0]) == 20 for v in entries.values())
        else:
            columns = ASD_HEADER if task == "asd" else [str(i) for i in range(CSV_COLUMNS[task])]
            rows = read_csv_rows(path, columns, header=task == "asd")
            assert len(rows) > 0 and all(0.0 <= r.number(len(columns) - 1) <= 1.0 for r in rows)


def test_predictions_must_be_a_folder(make_run: Callable[[str], Path], tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("[]")
    with pytest.raises(UserInputError, match="one prediction file per task"):
        evaluate_run(make_run("human-human"), "val", predictions=tmp_path / "p.json")
