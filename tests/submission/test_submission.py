"""Prediction files from model outputs: each format scores with ``egot2 evaluate`` exactly as the cached
validation score does (where the two definitions coincide)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from egot2.data.annotations import load_av, load_lta
from egot2.data.layout import resolve_root
from egot2.evaluation import evaluate
from egot2.evaluation.submission import UNLINKED, prediction_content, write_predictions
from egot2.metrics import lam_rows
from egot2.tasks import get_task
from egot2.training.scoring import score
from evaluation.builders import oscc_clip, oscc_file, write_json


def test_pnr_relative_frames_and_unpredicted_negatives(tmp_path: Path) -> None:
    ann = write_json(tmp_path / "ann.json", oscc_file([oscc_clip("u1", True, 120, start=0, end=240),
                                                       oscc_clip("u2", False)]))
    logits = torch.zeros(1, 16)
    logits[0, 7] = 1.0
    infos = [{"unique_id": "u1", "parent_start_frame": 0, "parent_end_frame": 240}]
    path = write_predictions("pnr", [{"logits": logits}], infos, ["u1"], tmp_path / "p.json", cover=["u1", "u2"])
    assert json.loads(path.read_text()) == [{"unique_id": "u1", "pnr_frame": 240 / 16 * 7},
                                            {"unique_id": "u2", "pnr_frame": None}]
    # |105 - 120| frames at (241 / 8) fps
    assert evaluate("pnr", ann, path)["metrics"]["keyframe_err_s"] == pytest.approx(15 * 8 / 241, abs=1e-12)


def test_oscc_tie_is_no_state_change() -> None:
    out = prediction_content("oscc", [{"logits": torch.tensor([[0.0, 0.0], [0.0, 1.0]])}],
                             [{"unique_id": "a"}, {"unique_id": "b"}], ["a", "b"])
    assert out == [{"unique_id": "a", "state_change": False}, {"unique_id": "b", "state_change": True}]


def test_lam_rows_score_like_the_cache(tiny_world: Path, tmp_path: Path) -> None:
    ann = resolve_root(tiny_world).annotation_file("lam", "val")
    rows = lam_rows(load_av(ann))
    infos = [{"clip_uid": r.clip_uid, "frame": r.frame, "track_id": r.track_id, "box": [r.x1, r.y1, r.x2, r.y2]}
             for r in rows]
    g = torch.Generator().manual_seed(0)
    outputs = [{"logits": torch.randn(len(rows), 2, generator=g)}]
    path = write_predictions("lam", outputs, infos, [r.key for r in rows], tmp_path / "lam.csv")
    official = evaluate("lam", ann, path)["metrics"]  # boxes must match the derived ones to 1e-9
    cached = score(get_task("lam"), outputs, [{"label": torch.tensor([r.label for r in rows])}])
    assert official == pytest.approx(cached, abs=1e-12) and set(official) == {"map", "acc"}


def test_ar_keys_and_top1_like_the_cache(tiny_world: Path, tmp_path: Path) -> None:
    ann = resolve_root(tiny_world).annotation_file("ar", "val")
    actions = load_lta(ann)
    spec = get_task("ar").output
    g = torch.Generator().manual_seed(0)
    n = len(actions)
    outputs = [{"verb": torch.randn(n, spec.num_verbs, generator=g), "noun": torch.randn(n, spec.num_nouns, generator=g)}]
    outputs[0]["verb"][torch.arange(n), torch.tensor([a.verb_label for a in actions])] += 2.5  # some hits
    infos = [{"clip_uid": a.clip_uid, "action_idx": a.action_idx} for a in actions]
    path = write_predictions("ar", outputs, infos, [a.key for a in actions], tmp_path / "ar.json")
    assert set(json.loads(path.read_text())) == {a.key for a in actions}
    labels = [{"verb": torch.tensor([a.verb_label for a in actions]), "noun": torch.tensor([a.noun_label for a in actions])}]
    assert evaluate("ar", ann, path)["metrics"] == pytest.approx(score(get_task("ar"), outputs, labels), abs=1e-12)


def test_asd_one_linked_row_per_face_frame(tmp_path: Path) -> None:
    info = {"clip_uid": "c", "person_id": "2", "frames": [5, 6], "boxes": [[1.5, 2, 3, 4], [1, 2, 3, 4]]}
    logits = torch.tensor([[[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]] * 2)  # (2 chunks, T_max 3, 2)
    path = write_predictions("asd", [{"logits": logits}], [info, info], ["a", "b"], tmp_path / "asd.csv")
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["clip_uid", "frame", "person_id", "x1", "y1", "x2", "y2", "score"]
    assert [r[:4] for r in rows[1:]] == [["c", "5", "2", "1.5"], ["c", "6", "2", "1"], ["c", "5", str(UNLINKED), "1.5"],
                                         ["c", "6", str(UNLINKED), "1"]]
    assert float(rows[1][-1]) == pytest.approx(torch.tensor([0.0, 1.0]).softmax(0)[1].item())


def test_missing_info_fields_are_named() -> None:
    from egot2.errors import UserInputError

    with pytest.raises(UserInputError, match="eval_start, eval_end"):
        prediction_content("ttm", [{"logits": torch.zeros(1, 2)}], [{"clip_uid": "c", "idx": 0}], ["c:0"])
