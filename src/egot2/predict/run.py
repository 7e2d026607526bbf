"""An EgoT2-g run ready to answer raw video: its model and vocabulary, every task's stream layout, and
what its feature caches recorded (TS model hashes, windows, data profile, the data folder).

A run folder (``egot2 train --method egot2-g``) holds the weights, the resolved config and ``run.json``
(the vocabulary, the tasks, the caches folder). The caches' ``meta.json`` files say which TS weights
(by sha256), windows and frame profile made the features the translator was trained on; the TS models
themselves are given with ``--ts`` (or found where a cache records their ``path``) and checked against
those hashes, so that raw video is turned into the same kind of tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egot2.backbones.zoo import LoadedTS, load_ts_model, load_ts_models
from egot2.config import Config
from egot2.errors import UserInputError
from egot2.generalist import EgoT2G, Vocabulary
from egot2.methods import build_model, generalist_layouts
from egot2.training.runs import load_run
from egot2.translator.layout import InputStream


@dataclass
class GeneralistRun:
    """A loaded EgoT2-g run.

    Args:
        path: the run folder.
        cfg: its resolved config.
        model: the translator (eval mode).
        layouts: every task's input streams.
        cache: the folder of the caches it was trained from (``CACHE/<task>/``).
        metas: every task's cache ``meta.json`` (empty when the cache is gone).
    """

    path: Path
    cfg: Config
    model: EgoT2G
    layouts: dict[str, list[InputStream]]
    cache: Path | None = None
    metas: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def tasks(self) -> list[str]:
        return list(self.layouts)

    def windows(self, task: str) -> dict[str, int]:
        """The sliding windows ``task``'s features were extracted with."""
        meta = self.metas.get(task, {})
        return {k: int(v) for k, v in meta.get("windows", self.cfg.model.windows).items()}

    def strides(self, task: str) -> dict[str, float]:
        """The window strides ``task``'s features were extracted with."""
        meta = self.metas.get(task, {})
        default = self.cfg.model.window_stride if "windows" not in meta else {}
        return {k: float(v) for k, v in meta.get("strides", default).items()}


def _cache_meta(cache: Path, task: str) -> dict[str, Any]:
    from egot2.features.cache import read_meta

    try:
        return read_meta(cache / task)
    except UserInputError:
        return {}


def load_generalist(run: str | Path) -> GeneralistRun:
    """Load an EgoT2-g run folder; any other run (or a broken one) is a clear error."""
    run = Path(run)
    if not run.is_dir():
        raise UserInputError("run folder not found (expected a folder written by `egot2 train --method egot2-g`)",
                             file=run, field="--run")
    cfg, info, weights = load_run(run)
    if cfg.model.method != "egot2-g":
        raise UserInputError(f"a {cfg.model.method!r} run: predict answers with an EgoT2-g run (`egot2 train "
                             "--method egot2-g --cluster ...`)", file=run / "config.yaml", field="model.method")
    model = build_model(cfg.model)
    assert isinstance(model, EgoT2G)
    if Vocabulary.from_json(info.get("vocabulary", [])).tokens != model.vocab.tokens:
        raise UserInputError("the run's vocabulary differs from the one its config builds", file=run / "run.json",
                             field="vocabulary")
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise UserInputError(f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}",
                             file=run / "model.safetensors")
    model.eval()
    layouts = generalist_layouts(cfg.model)
    cache = Path(info["cache"]) if info.get("cache") else None
    metas = {t: _cache_meta(cache, t) for t in layouts} if cache is not None else {}
    return GeneralistRun(run, cfg, model, layouts, cache, metas)


def run_profile(runs: Sequence[GeneralistRun], override: str | None = None) -> str:
    """The frame profile (``synth``/``ego4d``) the runs' features were extracted in."""
    if override is not None:
        return override
    found = {m["profile"] for r in runs for m in r.metas.values() if m.get("profile")}
    if len(found) > 1:
        raise UserInputError(f"the runs' caches were extracted in different profiles {sorted(found)}; pass one "
                             "with --profile", field="--profile")
    if not found:
        raise UserInputError("the run's caches are gone, so the frame profile is unknown: pass --profile synth "
                             "(a world written by `egot2 synth`) or --profile ego4d", field="--profile")
    return found.pop()


def resolve_ts(runs: Sequence[GeneralistRun], ts: Sequence[str | Path]) -> dict[str, LoadedTS]:
    """The TS model of every task the runs read: from ``ts``, else where a cache records its path; each
    checked against the sha256 the run's caches recorded."""
    given = load_ts_models(ts)
    recorded: dict[str, tuple[Mapping[str, Any], Path]] = {}
    for r in runs:
        for task, meta in r.metas.items():
            for t, entry in (meta.get("ts") or {}).items():
                if t == task or t not in recorded:  # the task's own cache is named first
                    recorded[t] = (entry, Path(r.cache or ".") / task / "meta.json")
    needed = list(dict.fromkeys(s.task for r in runs for lay in r.layouts.values() for s in lay))
    out: dict[str, LoadedTS] = {}
    for task in needed:
        entry, meta_file = recorded.get(task, ({}, None))
        model = given.get(task)
        if model is None and entry.get("path"):
            model = load_ts_model(entry["path"], task)
        if model is None:
            raise UserInputError(f"no TS model for task {task!r}: pass the TS runs the features were extracted with "
                                 "(`--ts ts/pnr ts/oscc ...`)", field="--ts")
        if entry.get("sha256") and entry["sha256"] != model.sha256:
            raise UserInputError(f"this {task!r} TS model is not the one the run's features were extracted with "
                                 f"({meta_file} records sha256 {entry['sha256'][:12]}..., the file has "
                                 f"{model.sha256[:12]}...)", file=model.path, field="sha256")
        out[task] = model
    return out


def taxonomy_names(runs: Sequence[GeneralistRun], override: str | Path | None = None) -> dict[str, list[str]]:
    """Verb and noun names: ``override``, else the taxonomy of the data folder the AR/LTA features came
    from; empty lists when neither exists (answers then carry class ids only)."""
    from egot2.data.annotations import load_lta_taxonomy
    from egot2.data.layout import resolve_root

    if override is not None:
        tax = load_lta_taxonomy(override)
        return {"verbs": list(tax.verbs), "nouns": list(tax.nouns)}
    for r in runs:
        for task in ("ar", "lta"):
            data = r.metas.get(task, {}).get("data")
            if not data:
                continue
            try:
                file = resolve_root(data).taxonomy_file
            except UserInputError:
                continue
            if file.is_file():
                tax = load_lta_taxonomy(file)
                return {"verbs": list(tax.verbs), "nouns": list(tax.nouns)}
    return {"verbs": [], "nouns": []}
