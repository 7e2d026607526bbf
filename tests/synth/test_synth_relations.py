"""The action grammar and the relation ground truth derived from the config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from egot2.synth.config import load_world_config
from egot2.synth.grammar import build_grammar, change_probability, oscc_verb_distribution
from egot2.synth.relations import TASKS, mutual_information, nmi, relations_ground_truth


@pytest.fixture(scope="module")
def gt() -> dict:
    return relations_ground_truth(load_world_config())


def test_grammar_matrices_are_stochastic_with_uniform_stationary_law() -> None:
    g = build_grammar(load_world_config())
    for T, pi in ((g.verb_T, g.verb_pi), (g.noun_T, g.noun_pi)):
        assert np.allclose(T.sum(-1), 1)
        for s in range(g.num_scenarios):
            assert np.allclose(pi[s] @ T[s], pi[s])
            support = pi[s] > 0
            assert np.allclose(pi[s][support], 1 / support.sum())


def test_fully_deterministic_grammar_follows_the_cycle() -> None:
    cfg = load_world_config(overrides=["ar_lta.determinism=1.0"])
    g = build_grammar(cfg)
    cycle = [g.verbs.index(v) for v in cfg.taxonomy.scenarios[0].verbs]
    seq = [v for v, _ in g.sample(np.random.default_rng(0), 0, 12)]
    start = cycle.index(seq[0])
    assert seq == [cycle[(start + i) % len(cycle)] for i in range(12)]


def test_information_helpers() -> None:
    assert mutual_information(np.outer([0.3, 0.7], [0.5, 0.5])) == pytest.approx(0.0, abs=1e-12)
    assert nmi(np.eye(4) / 4) == pytest.approx(1.0)
    assert nmi(np.array([[0.5, 0.0], [0.0, 0.5]])) == pytest.approx(1.0)


def test_ar_to_oscc_matches_a_hand_computation(gt: dict) -> None:
    # default: state-changing verb w.p. 0.5; change w.p. 0.9 for those, 0.05 for the others
    h = lambda p: -p * math.log2(p) - (1 - p) * math.log2(1 - p)  # noqa: E731
    p_sc = 0.5 * 0.9 + 0.5 * 0.05
    expected = (h(p_sc) - 0.5 * h(0.9) - 0.5 * h(0.05)) / h(p_sc)
    assert gt["matrix"]["oscc"]["ar"] == pytest.approx(expected, abs=1e-4)
    cfg = load_world_config()
    assert np.allclose(oscc_verb_distribution(cfg).sum(), 1) and change_probability(cfg).max() == 0.9


def test_planted_relations(gt: dict) -> None:
    m = gt["matrix"]
    assert m["oscc"]["pnr"] == 1.0  # pnr's latent contains the state change
    assert m["oscc"]["ar"] > 0.5  # state change depends on the verb
    pairs = {(p["aux"], p["primary"]): p for p in gt["pairs"]}
    assert pairs[("oscc", "ar")]["per_label"] == {"verb": pytest.approx(m["ar"]["oscc"] * 2), "noun": 0.0}
    assert pairs[("pnr", "ar")]["per_label"]["noun"] == 0.0  # negative transfer: nothing for nouns
    assert m["lta"]["ar"] > 10 * m["lta"]["oscc"] > 0  # LTA depends on the current action
    assert m["ttm"]["lam"] > 0.1 and m["ttm"]["asd"] > 0.1
    assert gt["joint"]["ttm"]["value"] > m["ttm"]["lam"] + m["ttm"]["asd"]  # speaking AND looking
    assert all(v == 0.0 for v in m["pnr"].values() if v is not None)


def test_admissibility_follows_the_task_rules(gt: dict) -> None:
    pairs = {(p["aux"], p["primary"]): p for p in gt["pairs"]}
    assert len(pairs) == len(TASKS) * (len(TASKS) - 1)
    assert not any(p["admissible"] for (a, _), p in pairs.items() if a == "lta")  # never auxiliary
    assert not any(p["admissible"] for (_, q), p in pairs.items() if q == "lam")  # never primary
    assert not pairs[("ar", "ttm")]["admissible"] and pairs[("ar", "ttm")]["value"] == 0.0  # other cluster
    assert pairs[("lam", "ttm")]["admissible"] and pairs[("ar", "oscc")]["admissible"]
    assert all(p["value"] is None or 0.0 <= p["value"] <= 1.0 for p in pairs.values())


def test_relations_follow_the_config() -> None:
    flat = relations_ground_truth(load_world_config(
        overrides=["oscc_pnr.p_change_given_change_verb=0.3", "oscc_pnr.p_change_given_other_verb=0.3"]))
    assert flat["matrix"]["oscc"]["ar"] == pytest.approx(0.0, abs=1e-9)
    loose = relations_ground_truth(load_world_config(overrides=["ar_lta.determinism=0.0"]))
    tight = relations_ground_truth(load_world_config(overrides=["ar_lta.determinism=0.95"]))
    assert tight["matrix"]["lta"]["ar"] > loose["matrix"]["lta"]["ar"]
    noisy = relations_ground_truth(load_world_config(overrides=["ttm.label_noise=0.3"]))
    assert noisy["matrix"]["ttm"]["lam"] < relations_ground_truth(load_world_config())["matrix"]["ttm"]["lam"]


def test_relations_are_deterministic() -> None:
    cfg = load_world_config("quick")
    assert relations_ground_truth(cfg) == relations_ground_truth(cfg)
