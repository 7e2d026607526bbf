"""The action grammar of the human-object world: two Markov chains (verbs, nouns) per hidden scenario.

Within a scenario the verb chain moves to the next verb of the scenario's cycle with probability
``determinism`` and otherwise to a uniformly drawn verb of the scenario; the noun chain does the same
over the scenario's nouns, independently of the verbs. Both transition matrices are doubly stochastic
over the scenario's set, so the stationary distribution is uniform over it and a clip started from it
stays stationary. Because every default scenario has the same share of state-changing verbs, the
state change is independent of the scenario and therefore of the noun (the negative-transfer case).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egot2.synth.config import WorldConfig


@dataclass(frozen=True)
class Grammar:
    """The grammar's matrices, built from a :class:`WorldConfig`.

    Args:
        verbs: verb names (index = verb_label).
        nouns: noun names (index = noun_label).
        changes: (V,) the change each verb causes (``"none"`` for none).
        verb_T: (S, V, V) verb transition matrix per scenario.
        noun_T: (S, N, N) noun transition matrix per scenario.
        verb_pi: (S, V) stationary verb distribution per scenario.
        noun_pi: (S, N) stationary noun distribution per scenario.
    """

    verbs: tuple[str, ...]
    nouns: tuple[str, ...]
    changes: tuple[str, ...]
    verb_T: np.ndarray
    noun_T: np.ndarray
    verb_pi: np.ndarray
    noun_pi: np.ndarray

    @property
    def num_scenarios(self) -> int:
        """Number of hidden scenarios."""
        return self.verb_T.shape[0]

    @property
    def can_change(self) -> np.ndarray:
        """(V,) bool: whether each verb can change an object's state."""
        return np.array([c != "none" for c in self.changes])

    def sample(self, rng: np.random.Generator, scenario: int, length: int) -> list[tuple[int, int]]:
        """``length`` consecutive (verb, noun) actions of ``scenario``, started from the stationary law."""
        v = int(rng.choice(len(self.verbs), p=self.verb_pi[scenario]))
        n = int(rng.choice(len(self.nouns), p=self.noun_pi[scenario]))
        out = [(v, n)]
        for _ in range(length - 1):
            v = int(rng.choice(len(self.verbs), p=self.verb_T[scenario, v]))
            n = int(rng.choice(len(self.nouns), p=self.noun_T[scenario, n]))
            out.append((v, n))
        return out


def _chain(members: list[int], size: int, determinism: float) -> tuple[np.ndarray, np.ndarray]:
    """Transition matrix (size, size) and stationary law (size,) of one scenario's cycle."""
    m = len(members)
    T = np.zeros((size, size))
    for i, a in enumerate(members):
        T[a, members] += (1.0 - determinism) / m
        T[a, members[(i + 1) % m]] += determinism
    outside = [a for a in range(size) if a not in members]
    for a in outside:  # never visited; rows kept stochastic
        T[a, members] = 1.0 / m
    pi = np.zeros(size)
    pi[members] = 1.0 / m
    return T, pi


def build_grammar(cfg: WorldConfig) -> Grammar:
    """The grammar of ``cfg.taxonomy`` with ``cfg.ar_lta.determinism``."""
    tax = cfg.taxonomy
    verbs = tuple(v.name for v in tax.verbs)
    nouns = tuple(n.name for n in tax.nouns)
    vt, npi, nt, vpi = [], [], [], []
    for s in tax.scenarios:
        T, pi = _chain([verbs.index(v) for v in s.verbs], len(verbs), cfg.ar_lta.determinism)
        vt.append(T)
        vpi.append(pi)
        T, pi = _chain([nouns.index(n) for n in s.nouns], len(nouns), cfg.ar_lta.determinism)
        nt.append(T)
        npi.append(pi)
    return Grammar(verbs, nouns, tuple(v.change for v in tax.verbs), np.stack(vt), np.stack(nt), np.stack(vpi),
                   np.stack(npi))


def change_probability(cfg: WorldConfig) -> np.ndarray:
    """(V,) probability that an action with each verb changes the object's state (both HOI families)."""
    op = cfg.oscc_pnr
    return np.array([op.p_change_given_change_verb if v.change != "none" else op.p_change_given_other_verb
                     for v in cfg.taxonomy.verbs])


def oscc_verb_distribution(cfg: WorldConfig) -> np.ndarray:
    """(V,) the law of an OSCC clip's verb: a state-changing verb w.p. ``p_change_verb``, uniform within kind."""
    can = np.array([v.change != "none" for v in cfg.taxonomy.verbs])
    p = np.where(can, cfg.oscc_pnr.p_change_verb / max(can.sum(), 1),
                 (1 - cfg.oscc_pnr.p_change_verb) / max((~can).sum(), 1))
    return p / p.sum()
