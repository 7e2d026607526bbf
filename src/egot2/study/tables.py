"""The paper's Tables 2, 3 and 5 in the same layout, filled with the study's numbers; the Δp summary."""

from __future__ import annotations

from typing import Any

from egot2.tasks import get_task

METRICS = {"pnr": ["keyframe_err_s"], "oscc": ["acc"], "ar": ["verb_top1", "noun_top1"],
           "lta": ["ed20_verb", "ed20_noun"], "lam": ["map"], "ttm": ["map"], "asd": ["map", "acc"]}
LOWER = {"keyframe_err_s", "ed20_verb", "ed20_noun"}
NAMES = {"ts": "TS model", "finetune": "Finetuning", "late-fusion": "LF (All Tasks)", "egot2-s": "EgoT2-s (All Tasks)",
         "egot2-g": "EgoT2-g", "multitask": "Multi-task (hard sharing)"}


def _find(rows: list[dict[str, Any]], method: str, primary: str, aux: str | None = None) -> dict[str, Any] | None:
    for r in rows:
        if r["method"] == method and r["primary"] == primary and (aux is None or r["aux"] == [aux]):
            return r
    return None


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if metric in LOWER else f"{100 * value:.2f}"


def _cell(row: dict[str, Any] | None, primary: str) -> list[str]:
    if row is None:
        return ["N/A"] + ["N/A"] * len(METRICS[primary])
    params = f"{row['trainable_params'] / 1e6:.3g} ({row['total_params'] / 1e6:.3g})"
    return [params] + [_fmt(row["metrics"].get(m), m) for m in METRICS[primary]]


def _table(rows: list[dict[str, Any]], primaries: list[str], aux_tasks: list[str], title: str) -> str:
    header = ["method"]
    for p in primaries:
        header += [f"{p.upper()} params 1e6 trainable (all)"] + [f"{p.upper()} {m}" for m in METRICS[p]]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    methods = [("ts", None), ("finetune", None)] + [("transfer", a) for a in aux_tasks] + [("late-fusion", None),
                                                                                           ("egot2-s", None)]
    for method, aux in methods:
        label = f"Transfer ({aux.upper()})" if method == "transfer" else NAMES[method]
        cells = [label]
        for p in primaries:
            cells += _cell(_find(rows, method, p, aux) if method == "transfer" else _find(rows, method, p), p)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables_markdown(rows: list[dict[str, Any]]) -> str:
    """Tables 2, 3 and 5 (accuracies and mAPs in percent, errors in seconds or ED, as in the paper)."""
    t2 = _table(rows, ["pnr", "oscc", "ar", "lta"], ["pnr", "oscc", "ar"],
                "Table 2: EgoT2-s, human-object primaries (val)")
    t3 = _table(rows, ["ttm", "asd"], ["lam", "ttm", "asd"], "Table 3: EgoT2-s, human-human primaries (val)")
    lines = ["### Table 5: task-general translation (val)", "", "| task | metric | TS | EgoT2-g | Multi-task |",
             "|---|---|---|---|---|"]
    for task in ("lam", "ttm", "asd", "pnr", "oscc", "ar", "lta"):
        for m in METRICS[task]:
            vals = [_find(rows, method, task) for method in ("ts", "egot2-g", "multitask")]
            lines.append(f"| {task.upper()} | {m} | " + " | ".join(
                _fmt(v["metrics"].get(m), m) if v else "n/a" for v in vals) + " |")
    note = ("Accuracies and mAPs in percent; PNR keyframe error in seconds and LTA ED@20 (lower is better). "
            "Parameters in millions: trainable (all, frozen TS models included).")
    return "\n\n".join([t2, t3, "\n".join(lines), note]) + "\n"


def delta_p(rows: list[dict[str, Any]], method: str) -> float | None:
    """Average relative improvement over TS across tasks (multi-task libraries' Δp), in percent:
    mean over tasks of the mean over their metrics of ±(M - M_TS) / M_TS (minus when lower is better)."""
    per_task = []
    for r in rows:
        if r["method"] != method:
            continue
        ts = _find(rows, "ts", r["primary"])
        if ts is None:
            continue
        terms = []
        for m in METRICS.get(r["primary"], []):
            a, b = r["metrics"].get(m), ts["metrics"].get(m)
            if a is None or b in (None, 0):
                continue
            sign = -1.0 if m in LOWER else 1.0
            terms.append(sign * (a - b) / abs(b))
        if terms:
            per_task.append(sum(terms) / len(terms))
    return 100 * sum(per_task) / len(per_task) if per_task else None


def main_metric(task: str) -> str:
    """The headline metric of ``task`` in the tables."""
    return get_task(task).metric
