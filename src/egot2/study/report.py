"""The study's outputs: results.json, tables.md, relations.png, attention/*.png and report.html."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
from pathlib import Path
from typing import Any

from egot2.study.claims import check_claims
from egot2.study.relations import (
    compare_with_ground_truth,
    generalist_relations,
    translator_ablation,
    translator_relations,
)
from egot2.study.schedule import PRIMARIES
from egot2.study.tables import delta_p, tables_markdown
from egot2.utils.atomic import atomic_path, write_json, write_text

TASKS = ["pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"]


def _plot_matrix(path: Path, tasks: list[str], matrix: list[list[float | None]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    im = ax.imshow(data, cmap="viridis")
    ax.set_xticks(range(len(tasks)), [t.upper() for t in tasks])
    ax.set_yticks(range(len(tasks)), [t.upper() for t in tasks])
    ax.set_xlabel("tokens of task j")
    ax.set_ylabel("prompt / prediction of task i")
    for i in range(len(tasks)):
        for j in range(len(tasks)):
            if not np.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", color="w", fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _plot_tokens(path: Path, example: dict[str, Any], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.4))
    received = example["received"]
    colours = plt.get_cmap("tab10")
    for i, (key, start, end) in enumerate(example["segments"]):
        ax.bar(range(start, end), received[start:end], color=colours(i % 10), label=key)
    ax.set_xlabel("token (streams in order, time within each)")
    ax.set_ylabel("attention received")
    ax.legend(fontsize=7, ncol=4)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def write_outputs(root: Path, world_cfg: Any, seed: int, rows: list[dict[str, Any]], generalist: dict[str, Path],
                  timings: dict[str, float], reused: list[str]) -> dict[str, Any]:
    """Compute relations, write every output file, and return the content of results.json."""
    (root / "attention").mkdir(exist_ok=True)
    learned: dict[str, dict[str, float]] = {}
    for run in generalist.values():
        learned.update(generalist_relations(run, root / "caches"))
    matrix = [[learned.get(i, {}).get(j) for j in TASKS] for i in TASKS]
    egot2s: dict[str, dict[str, float]] = {}
    ablation: dict[str, dict[str, float]] = {}
    for primary in PRIMARIES:
        run = root / "runs" / f"{primary}-egot2-s"
        mass, example = translator_relations(run, root / "caches" / primary)
        egot2s[primary] = mass
        ablation[primary] = translator_ablation(run, root / "caches" / primary)
        if example:
            _plot_tokens(root / "attention" / f"egot2s_{primary}.png", example,
                         f"EgoT2-s ({primary.upper()}): attention each token receives, val clip {example['id']}")
    truth = json.loads((root / "world" / "relations_ground_truth.json").read_text())
    comparison = compare_with_ground_truth(learned, truth)
    relations = {"tasks": TASKS, "matrix": matrix,
                 "egot2_s": {p: [egot2s[p].get(j) for j in TASKS] for p in egot2s},
                 "ground_truth_comparison": comparison,
                 # diagnostics beside the paper's measure: EgoT2-s attention, and the rise of EgoT2-s's val
                 # loss when one auxiliary task's tokens are hidden
                 "egot2_s_comparison": compare_with_ground_truth(egot2s, truth),
                 "egot2_s_ablation": {p: [ablation[p].get(j) for j in TASKS] for p in ablation},
                 "ablation_comparison": compare_with_ground_truth(ablation, truth)}
    _plot_matrix(root / "relations.png", TASKS, matrix, "EgoT2-g: attention of each task's prompt on each task's tokens")
    results = {"seed": seed, "world": dataclasses.asdict(world_cfg), "rows": rows, "relations": relations,
               "timings_s": timings, "reused_stages": reused,
               "delta_p": {m: delta_p(rows, m) for m in ("finetune", "transfer", "late-fusion", "egot2-s", "egot2-g")},
               "claims": check_claims(rows, relations)}
    write_json(root / "results.json", results)
    tables = tables_markdown(rows)
    write_text(root / "tables.md", tables)
    write_text(root / "report.html", _html(root, results, tables, truth))
    return results


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}" style="max-width:100%">'


def _html(root: Path, results: dict[str, Any], tables: str, truth: dict[str, Any]) -> str:
    import markdown_it

    md = markdown_it.MarkdownIt("commonmark").enable("table")
    rel = results["relations"]
    comp = rel["ground_truth_comparison"]
    by_pair = {name: {tuple(pair): v for pair, v in zip(rel[key]["pairs"], rel[key]["learned"], strict=True)}
               for name, key in (("s", "egot2_s_comparison"), ("abl", "ablation_comparison")) if key in rel}

    def cell(name: str, pair: tuple[str, str]) -> str:
        v = by_pair.get(name, {}).get(pair)
        return "n/a" if v is None else f"{v:.3f}"

    planted_rows = "".join(
        f"<tr><td>{a.upper()} &rarr; {p.upper()}</td><td>{pl:.3f}</td><td>{le:.3f}</td><td>{cell('s', (a, p))}</td>"
        f"<td>{cell('abl', (a, p))}</td></tr>"
        for (a, p), pl, le in zip(comp["pairs"], comp["planted"], comp["learned"], strict=True))

    def rho(key: str) -> str:
        r = rel.get(key, {}).get("spearman")
        return "n/a" if r is None else f"{r:.2f}"
    dp = "".join(f"<li>{m}: {'n/a' if v is None else f'{v:+.2f}%'}</li>" for m, v in results["delta_p"].items())
    timing = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1f}</td></tr>" for k, v in results["timings_s"].items())
    images = "".join(f"<h3>{html.escape(p.stem)}</h3>{_img(p)}" for p in sorted((root / "attention").glob("*.png")))
    spearman = comp["spearman"]
    claims = "".join(
        f"<li><b>{'holds' if c['holds'] else 'does not hold'}</b>: {html.escape(c['claim'])}<ul>"
        + "".join(f"<li>{html.escape(e)}</li>" for e in c["evidence"]) + "</ul></li>"
        for c in results.get("claims", []))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>egot2 study</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:2px 6px;font-size:12px}}</style></head><body>
<h1>EgoT2 on the synthetic egocentric world (seed {results['seed']})</h1>
<h2>The paper's claims on this world</h2><p>Each checked on the rows below, whichever way it goes
(<code>egot2.study.claims</code>; the planted relations are in <code>docs/synthetic.md</code>).</p><ul>{claims}</ul>
<h2>Tables</h2>{md.render(tables)}
<h2>&Delta;p: average relative improvement over TS</h2><ul>{dp}</ul>
<h2>Task relations</h2>{_img(root / 'relations.png')}
<p>Planted (normalised mutual information, <code>relations_ground_truth.json</code>) beside learned (EgoT2-g prompt
attention, the paper's Fig. 1 measure). Spearman: {'n/a' if spearman is None else f'{spearman:.2f}'}.
Two diagnostics beside it: EgoT2-s attention mass (Spearman {rho('egot2_s_comparison')}) and the rise of
EgoT2-s's val loss when that auxiliary task's tokens are hidden (Spearman {rho('ablation_comparison')}).</p>
<table><tr><th>aux &rarr; primary</th><th>planted</th><th>EgoT2-g attention</th><th>EgoT2-s attention</th>
<th>EgoT2-s loss rise when hidden</th></tr>{planted_rows}</table>
<h2>Attention over tasks and time</h2>{images}
<h2>Timings (s)</h2><table>{timing}</table>
<p>Stages reused from an earlier run: {html.escape(', '.join(results['reused_stages']) or 'none')}.</p>
<p>{html.escape(truth.get('measure', ''))}</p></body></html>
"""
