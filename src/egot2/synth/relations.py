"""``relations_ground_truth.json``: how informative each task's latent is for every other task's labels.

For an ordered pair (aux -> primary) the value is the normalised mutual information
``I(Z_aux; Y_primary) / H(Y_primary)`` in [0, 1] over the primary task's own samples: the fraction of
the uncertainty of the primary's label that the auxiliary task's latent variable removes. Latents
(what each task's label is a noise-free function of, on the primary's samples):

* pnr: (state change, contact time); oscc: state change; ar: the (verb, noun) of the action(s) seen
  (both observed actions for an LTA sample); lam: looking at the wearer; asd: speaking;
  ttm: speaking to the wearer (before label noise). lta is never auxiliary (its span is the longest).

Human-object values are exact (computed from the grammar's matrices); human-human values are plug-in
estimates over ``SOCIAL_MC_CLIPS`` clips planned with a fixed seed, so both depend on the config alone.
Pairs across clusters are 0: the two worlds are drawn independently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from egot2.synth.config import WorldConfig
from egot2.synth.grammar import build_grammar, change_probability, oscc_verb_distribution
from egot2.synth.hoi_plan import OSCC_CLIP_FRAMES
from egot2.synth.social_plan import WEARER, plan_social

TASKS: tuple[str, ...] = ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd")
HOI, HHI = ("pnr", "oscc", "ar", "lta"), ("lam", "ttm", "asd")
SOCIAL_MC_CLIPS = 300
SOCIAL_MC_SEED = 20230618
LTA_STEPS = 20


def entropy(p: np.ndarray) -> float:
    """Shannon entropy in bits of a distribution (any shape)."""
    p = np.asarray(p, float).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def mutual_information(joint: np.ndarray) -> float:
    """I(X; Y) in bits of a joint table (X, Y); X may be flattened from several axes."""
    joint = np.asarray(joint, float)
    joint = joint / joint.sum()
    return max(entropy(joint.sum(1)) + entropy(joint.sum(0)) - entropy(joint), 0.0)


def nmi(joint: np.ndarray) -> float:
    """I(Z; Y) / H(Y) for a joint table (Z, Y); 0 when Y is constant."""
    h = entropy(np.asarray(joint, float).sum(0) / np.asarray(joint, float).sum())
    return mutual_information(joint) / h if h > 1e-12 else 0.0


def _counts(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Contingency table of integer codes z (N,) and y (N,)."""
    nz, ny = int(z.max()) + 1, int(y.max()) + 1
    return np.bincount(z * ny + y, minlength=nz * ny).reshape(nz, ny).astype(float)


def _hoi(cfg: WorldConfig) -> dict[str, dict[str, Any]]:
    """{primary: {aux: (value, per_label)}} for the human-object cluster (exact)."""
    g = build_grammar(cfg)
    pc = change_probability(cfg)
    sc = np.stack([1 - pc, pc], 1)  # (V, 2) P(sc | verb)
    out: dict[str, dict[str, Any]] = {"oscc": {}, "pnr": {}, "ar": {}, "lta": {}}
    # OSCC clips: verb ~ oscc law, noun independent, sc | verb.
    joint_v_sc = oscc_verb_distribution(cfg)[:, None] * sc  # (V, 2)
    h_sc = entropy(joint_v_sc.sum(0))
    out["oscc"]["ar"] = (nmi(joint_v_sc), {"state_change": nmi(joint_v_sc)})
    out["oscc"]["pnr"] = (1.0 if h_sc > 0 else 0.0, {"state_change": 1.0 if h_sc > 0 else 0.0})
    # PNR: the keyframe index of positives is set by a contact time drawn independently of everything.
    for aux in ("oscc", "ar"):
        out["pnr"][aux] = (0.0, {"keyframe": 0.0})
    # AR: actions of LTA clips, stationary mixture over scenarios.
    S = g.num_scenarios
    ps = np.full(S, 1.0 / S)
    pv, pn = g.verb_pi, g.noun_pi  # (S, V), (S, N)
    j_verb = np.einsum("s,sv,vc->vc", ps, pv, sc)  # P(v, sc)
    j_noun = np.einsum("s,sn,sv,vc->nc", ps, pn, pv, sc)  # P(n, sc)
    per = {"verb": nmi(j_verb.T), "noun": nmi(j_noun.T)}
    for aux in ("oscc", "pnr"):
        out["ar"][aux] = (float(np.mean(list(per.values()))), dict(per))
    # LTA: mean over the 20 future steps and over verb / noun.
    Tv, Tn = g.verb_T, g.noun_T
    ar_vals, sc_vals = {"verb": [], "noun": []}, {"verb": [], "noun": []}
    for k in range(1, LTA_STEPS + 1):
        for head, (Ty, piy, Tx, pix) in {"verb": (Tv, pv, Tn, pn), "noun": (Tn, pn, Tv, pv)}.items():
            Tk = np.stack([np.linalg.matrix_power(Ty[s], k) for s in range(S)])
            a = np.einsum("s,sa,sab,sby->saby", ps, piy, Ty, Tk)  # (S, Y1, Y2, Y)
            b = np.einsum("sa,sab->sab", pix, Tx)  # (S, X1, X2)
            joint = np.einsum("sijy,skl->ijkly", a, b)
            ar_vals[head].append(nmi(joint.reshape(-1, joint.shape[-1])))
            # state changes of the two observed actions: functions of the verbs, plus noise
            jv = np.einsum("s,sa,sab,ac,bd->scdab", ps, pv, Tv, sc, sc)  # (S, 2, 2, V1, V2)
            if head == "verb":
                j = np.einsum("scdab,sby->cdy", jv, Tk)
            else:
                j = np.einsum("scdab,sy->cdy", jv, pn)
            sc_vals[head].append(nmi(j.reshape(4, -1)))
    per_ar = {h: float(np.mean(v)) for h, v in ar_vals.items()}
    per_sc = {h: float(np.mean(v)) for h, v in sc_vals.items()}
    out["lta"]["ar"] = (float(np.mean(list(per_ar.values()))), per_ar)
    for aux in ("oscc", "pnr"):
        out["lta"][aux] = (float(np.mean(list(per_sc.values()))), per_sc)
    return out


def _social(cfg: WorldConfig) -> dict[str, dict[str, Any]]:
    """{primary: {aux: (value, per_label)}} for the human-human cluster (Monte Carlo, fixed seed)."""
    rng = np.random.default_rng(SOCIAL_MC_SEED)
    plans = plan_social(cfg, "val", SOCIAL_MC_CLIPS, rng)
    look, speak, ttm = [], [], []
    seg_y, seg_look, seg_speak = [], [], []
    for plan in plans:
        for p in plan.partners:
            talk_to_me = np.zeros(plan.num_frames, bool)
            for u in plan.utterances:
                if u.speaker == p.person_id and u.addressee == WEARER:
                    talk_to_me[u.start:u.end + 1] = True
            look.append(p.looking)
            speak.append(plan.speaking(p.person_id))
            ttm.append(talk_to_me)
        looking = {p.person_id: p.looking for p in plan.partners}
        for s in plan.talking:  # "val" plans: every clip is annotated
            seg_y.append(s.target is not None)
            seg_look.append(looking[s.person][s.start:s.end + 1].mean() > 0.5)
            seg_speak.append(s.speaking)
    L, A, T = (np.concatenate(x).astype(int) for x in (look, speak, ttm))
    y, sl, sa = (np.array(x, int) for x in (seg_y, seg_look, seg_speak))
    both = sl * 2 + sa
    return {
        "lam": {"asd": (nmi(_counts(A, L)), {"looking": nmi(_counts(A, L))}),
                "ttm": (nmi(_counts(T, L)), {"looking": nmi(_counts(T, L))})},
        "asd": {"lam": (nmi(_counts(L, A)), {"speaking": nmi(_counts(L, A))}),
                "ttm": (nmi(_counts(T, A)), {"speaking": nmi(_counts(T, A))}),
                "_joint": nmi(_counts(L * 2 + T, A))},
        "ttm": {"lam": (nmi(_counts(sl, y)), {"talking_to_me": nmi(_counts(sl, y))}),
                "asd": (nmi(_counts(sa, y)), {"talking_to_me": nmi(_counts(sa, y))}),
                "_joint": nmi(_counts(both, y))},
    }


def _admissible(aux: str, primary: str) -> bool:
    from egot2.tasks import get_task

    a, p = get_task(aux), get_task(primary)
    return aux != primary and a.cluster == p.cluster and p.can_be_primary and a.fits_in(p)


def relations_ground_truth(cfg: WorldConfig) -> dict[str, Any]:
    """The content of ``relations_ground_truth.json`` for ``cfg`` (see the module docstring)."""
    values = {**_hoi(cfg), **_social(cfg)}
    matrix: dict[str, dict[str, float | None]] = {}
    pairs = []
    for primary in TASKS:
        matrix[primary] = {}
        for aux in TASKS:
            if aux == primary:
                continue
            same = (primary in HOI) == (aux in HOI)
            if aux == "lta":
                value, per = None, {}
            elif not same:
                value, per = 0.0, {}
            else:
                value, per = values[primary].get(aux, (None, {}))
            rounded = None if value is None else round(float(value), 4)
            matrix[primary][aux] = rounded
            pairs.append({"aux": aux, "primary": primary, "value": rounded,
                          "per_label": {k: round(float(v), 4) for k, v in per.items()},
                          "admissible": _admissible(aux, primary)})
    joint = {
        "pnr": 0.0,
        "oscc": matrix["oscc"]["pnr"],  # pnr's latent contains oscc's; ar adds nothing beyond it
        "ar": matrix["ar"]["oscc"],  # pnr's latent adds only timing, independent of the action
        "lta": matrix["lta"]["ar"],  # state changes are noisy functions of the observed verbs
        "ttm": round(float(values["ttm"]["_joint"]), 4),
        "asd": round(float(values["asd"]["_joint"]), 4),
    }
    return {
        "measure": "normalised mutual information I(Z_aux; Y_primary) / H(Y_primary) on the primary "
                   "task's own samples, in [0, 1]; null where the aux latent is undefined (lta is never "
                   "auxiliary); see docs/synthetic.md",
        "tasks": list(TASKS),
        "matrix": matrix,
        "pairs": pairs,
        "joint": {k: {"aux": [a for a in TASKS if matrix[k].get(a) is not None and _admissible(a, k)],
                      "value": v} for k, v in joint.items()},
        "social_mc_clips": SOCIAL_MC_CLIPS,
        "oscc_clip_frames": OSCC_CLIP_FRAMES,
    }
