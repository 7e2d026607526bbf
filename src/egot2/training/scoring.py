"""Validation scores from model outputs, with the official metric functions of :mod:`egot2.metrics`.

Used to pick the best checkpoint during training. ``egot2 eval`` additionally writes the challenge
prediction files and scores them with the file-level evaluator, which is the number to report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from egot2.metrics import (
    asd_frame_accuracy,
    class_ap,
    edit_distance_at_z,
    keyframe_index_from_logits,
    oscc_accuracy,
    pnr_frame_from_index,
    pnr_keyframe_error,
    top1_accuracy,
    two_class_map,
)
from egot2.tasks import OutputKind, TaskSpec
from egot2.tasks.losses import IGNORE_INDEX

LTA_CANDIDATES = 5


def lta_candidates(outputs: Mapping[str, Tensor], k: int = LTA_CANDIDATES, seed: int = 0) -> dict[str, Tensor]:
    """K candidate sequences per clip (B, K, Z): the argmax first, then samples from the softmax."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key in ("verb", "noun"):
        logits = outputs[key].float()  # (B, Z, C)
        best = logits.argmax(-1, keepdim=True)  # (B, Z, 1)
        probs = logits.softmax(-1).reshape(-1, logits.shape[-1])  # (B*Z, C)
        sampled = torch.multinomial(probs, k - 1, replacement=True, generator=g)  # (B*Z, K-1)
        sampled = sampled.view(logits.shape[0], logits.shape[1], k - 1)
        out[key] = torch.cat([best, sampled], dim=-1).permute(0, 2, 1)  # (B, K, Z)
    return out


def _cat(items: Sequence[Mapping[str, Tensor]], key: str) -> Tensor:
    return torch.cat([x[key].detach().float().cpu() if x[key].is_floating_point() else x[key].cpu()
                      for x in items], dim=0)


def score(
    spec: TaskSpec,
    outputs: Sequence[Mapping[str, Tensor]],
    labels: Sequence[Mapping[str, Tensor]],
    infos: Sequence[Mapping[str, Any]] = (),
) -> dict[str, float]:
    """The task's official metrics over every batch of an epoch (per clip, not a mean of batch means).

    PNR needs each clip's ``parent_*`` frames and seconds, its ``parent_pnr_frame`` and ``state_change``
    in ``infos``; without them it reports the keyframe-index accuracy ``keyframe_acc`` instead.
    """
    kind = spec.output.kind
    if kind is OutputKind.KEYFRAME:
        index = keyframe_index_from_logits(_cat(outputs, "logits").numpy())
        gt = _cat(labels, "label").numpy()
        result = {"keyframe_acc": float(np.mean(index == gt))}
        if infos and all("parent_start_frame" in i for i in infos):
            f = {k: np.array([i[k] if i[k] is not None else np.nan for i in infos], dtype=np.float64)
                 for k in ("parent_start_frame", "parent_end_frame", "parent_start_sec", "parent_end_sec",
                           "parent_pnr_frame")}
            sc = np.array([bool(i.get("state_change", True)) for i in infos])
            pred = pnr_frame_from_index(index, f["parent_start_frame"], f["parent_end_frame"])
            result["keyframe_err_s"] = pnr_keyframe_error(pred, f["parent_start_frame"], f["parent_end_frame"],
                                                          f["parent_start_sec"], f["parent_end_sec"],
                                                          f["parent_pnr_frame"], sc)
        return result
    if kind is OutputKind.BINARY:
        logits = _cat(outputs, "logits")
        gt = _cat(labels, "label").numpy().astype(np.int64)
        probs = logits.softmax(-1)[:, 1].numpy()
        result = {"acc": oscc_accuracy(logits.argmax(-1).numpy().astype(bool), gt.astype(bool))}
        if spec.metric == "map":
            result["map"] = two_class_map(probs, gt).map
        return result
    if kind is OutputKind.VERB_NOUN:
        return {f"{k}_top1": top1_accuracy(_cat(outputs, k).argmax(-1).numpy(), _cat(labels, k).numpy())
                for k in ("verb", "noun")}
    if kind is OutputKind.SEQUENCE:
        cands = [lta_candidates(o, seed=i) for i, o in enumerate(outputs)]
        steps = spec.output.steps
        return {f"ed{steps}_{k}": edit_distance_at_z(_cat(cands, k).numpy(), _cat(labels, k).numpy())
                for k in ("verb", "noun")}
    if kind is OutputKind.FRAME_BINARY:
        probs, gts = [], []
        for o, lab in zip(outputs, labels, strict=True):
            p = o["logits"].detach().float().softmax(-1)[..., 1].cpu()  # (B, T)
            y = lab["label"].cpu()
            t = min(p.shape[1], y.shape[1])
            valid = y[:, :t] != IGNORE_INDEX
            probs.append(p[:, :t][valid])
            gts.append(y[:, :t][valid])
        p, y = torch.cat(probs).numpy(), torch.cat(gts).numpy().astype(np.int64)
        return {"map": class_ap(p, y), "acc": asd_frame_accuracy(p, y)}
    raise ValueError(f"no scoring for {kind}")  # pragma: no cover
