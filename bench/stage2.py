"""Stage II: what the feature cache buys, and what it costs.

(a) ``stage2-online-vs-cached-{ttm,pnr}``: a training step of the paper EgoT2-s config with the frozen
    full-size TS models run on the batch (no grad) + the translator step, against a step that reads the
    tokens from a cache through the training DataLoader + the translator step. Goal >= 200 x.
    ``stage2-cached-vs-bare-{ttm,pnr}``: that cached step against the bare translator step on in-memory
    tensors. Goal <= 1.2 x. TTM: 4 segments of 30 frames (224 x 224 face crops for LAM and TTM, 112 x 112
    grey faces for ASD, 16 kHz audio); PNR: 2 clips of 16 frames of 225 x 225 (AR: 32 frames of 224).
    Random weights and inputs: only the time matters.
(b) ``stage2-extraction-{oscc,ttm}``: ``egot2 extract`` over a small synthetic world with tiny TS models
    (decode, resample, windows, forwards, write) against the TS forwards alone on the very inputs the
    extraction gave them (recorded, then replayed). Ratio = forward time / pipeline time, i.e. the
    pipeline's throughput as a fraction of the backbones'. Goal >= 0.8.
(c) ``stage2-peak-rss``: peak RSS of ``train_stage2`` (one epoch of the paper PNR config) from a cache and
    from one 4 x larger, each in a fresh process. Goal < 1.1 x.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from bench.common import interleaved, medians, result, torch_threads
from bench.translator_flops import random_labels
from egot2.backbones import build_ts_model
from egot2.config import Config, load_config
from egot2.data.samplers import slow_indices
from egot2.data.transforms import task_transform
from egot2.features.builder import _lam_windows
from egot2.features.cache import CacheItem, CacheSplit, CacheWriter, write_meta
from egot2.methods import build_model, model_layout
from egot2.tasks import TaskSpec, get_task
from egot2.training.cached_data import CachedStreams, collate_cached, translator_forward
from egot2.training.optim import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "paper"
ONLINE = {"ttm": ("lam", "ttm", "asd"), "pnr": ("pnr", "oscc", "ar")}
BATCH = {"ttm": 4, "pnr": 2}
SEGMENT_FRAMES = 30
THREADS = 1
AUDIO_RATE = 16000


def paper_config(primary: str, *overrides: str) -> Config:
    """The paper EgoT2-s config of ``primary`` (plus ``a.b=value`` overrides)."""
    return load_config([CONFIGS / f"egot2s_{primary}.yaml"], list(overrides))


# -- (a) online vs cached steps ------------------------------------------------------------------------
def ts_inputs(primary: str, batch: int, profile: str, seed: int = 0) -> dict[str, dict[str, Tensor]]:
    """Random inputs of every TS model of ``primary``'s online step, at ``profile``'s frame sizes."""
    g = torch.Generator().manual_seed(seed)

    def size(t: str) -> int:
        return task_transform(t, profile).size

    if primary == "ttm":
        t, face = SEGMENT_FRAMES, size("ttm")
        windows = len(_lam_windows(t))
        return {
            "lam": {"video": torch.randn(batch * windows, 7, 3, size("lam"), size("lam"), generator=g)},
            "ttm": {"video": torch.randn(batch, t, 3, face, face, generator=g),
                    "audio": torch.randn(batch, t * AUDIO_RATE // 30, generator=g)},
            "asd": {"video": 255 * torch.rand(batch, t, size("asd"), size("asd"), generator=g),
                    "audio": torch.randn(batch, 4 * t, 13, generator=g)},
        }
    clip = torch.randn(batch, 3, 16, size("pnr"), size("pnr"), generator=g)
    fast = torch.randn(batch, 3, 32, size("ar"), size("ar"), generator=g)
    return {"pnr": {"video": clip}, "oscc": {"video": clip}, "ar": {"slow": fast[:, :, slow_indices(32)], "fast": fast}}


@torch.no_grad()
def online_streams(models: dict[str, nn.Module], inputs: dict[str, dict[str, Tensor]], keys: list[str],
                   batch: int) -> dict[str, Tensor]:
    """Run every frozen TS model on its inputs; LAM's 7-frame windows become per-frame tokens as in
    extraction (the first window covering a frame wins)."""
    out: dict[str, Tensor] = {}
    for task, model in models.items():
        for name, v in model.tokens(inputs[task]).items():
            if task == "lam":
                wins = _lam_windows(SEGMENT_FRAMES)
                v = v.view(batch, len(wins), 7, -1)  # (B, W, 7, D)
                per_frame = v.new_empty(batch, SEGMENT_FRAMES, v.shape[-1])
                for wi in reversed(range(len(wins))):
                    per_frame[:, torch.tensor(wins[wi])] = v[:, wi]
                v = per_frame  # (B, T, D)
            out[f"{task}.{name}"] = v
    return {k: out[k] for k in keys}


class TranslatorStep:
    """forward + task loss + backward + optimiser step of a stage-II model on a collated batch."""

    def __init__(self, cfg: Config) -> None:
        torch.manual_seed(0)
        self.model = build_model(cfg.model).train()
        self.spec: TaskSpec = get_task(cfg.model.primary)
        self.opt = build_optimizer(self.model.parameters(), cfg.train)

    def __call__(self, batch: dict[str, Any]) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss = self.spec.compute_loss(translator_forward(self.model, batch), batch["labels"])
        loss.backward()
        self.opt.step()


def write_random_cache(root: Path, cfg: Config, clips: dict[str, int], frames: int = SEGMENT_FRAMES,
                       seed: int = 0) -> Path:
    """A cache of random tokens in ``cfg``'s layout (per-frame streams get ``frames`` tokens) with
    random labels: ``{split: clips}``."""
    layout = model_layout(cfg.model)
    spec = get_task(cfg.model.primary)
    write_meta(root, {"primary": cfg.model.primary, "streams": {s.key: s.dim for s in layout}, "dtype": "float32"})
    g = torch.Generator().manual_seed(seed)
    for split, n in clips.items():
        writer = CacheWriter(root, split)
        labels = random_labels(spec, n, frames, seed=seed)
        for i in range(n):
            streams = {s.key: torch.randn(s.tokens or frames, s.dim, generator=g) for s in layout}
            writer.add(CacheItem(f"{split}{i}", streams, {k: v[i] for k, v in labels.items()}, {"i": i}))
        writer.flush()
    return root


def cycling(loader: DataLoader) -> Callable[[], dict[str, Any]]:
    """Next batch of ``loader``, starting a new epoch when one ends (as training does)."""
    state: dict[str, Iterator[dict[str, Any]]] = {"it": iter(loader)}

    def next_batch() -> dict[str, Any]:
        try:
            return next(state["it"])
        except StopIteration:
            state["it"] = iter(loader)
            return next(state["it"])

    return next_batch


def step_records(primary: str, quick: bool, tmp: Path) -> list[dict[str, Any]]:
    """(a) for one config: online / cached and cached / bare, per step."""
    size, profile, repeats, inner = ("tiny", "synth", 1, 3) if quick else ("full", "ego4d", 2, 20)
    cfg = paper_config(primary)
    batch = BATCH[primary]
    keys = [s.key for s in model_layout(cfg.model)]
    models = {t: build_ts_model(t, size).eval() for t in ONLINE[primary]}
    for m in models.values():
        m.requires_grad_(False)
    inputs = ts_inputs(primary, batch, profile)
    if quick:  # tiny TS models are narrower than the paper's streams
        dims = {k: int(v.shape[-1]) for k, v in online_streams(models, inputs, keys, batch).items()}
        cfg = paper_config(primary, f"model.dims={json.dumps(dims)}")
    step = TranslatorStep(cfg)
    labels = random_labels(step.spec, batch, SEGMENT_FRAMES)
    cache = write_random_cache(tmp / f"cache-{primary}", cfg, {"train": 16 * batch})
    loader = DataLoader(CachedStreams(CacheSplit(cache, "train"), keys), batch_size=batch, shuffle=True,
                        generator=torch.Generator().manual_seed(0), collate_fn=collate_cached)
    next_batch = cycling(loader)
    fixed = next_batch()

    def online() -> None:
        step({"streams": online_streams(models, inputs, keys, batch), "masks": {}, "labels": labels})

    def cached() -> None:
        for _ in range(inner):
            step(next_batch())

    def bare() -> None:
        for _ in range(inner):
            step(fixed)

    cached(), bare()  # warm-up of the cheap sides; every online step is timed (each takes a minute)
    med = medians(interleaved({"online": online, "cached": cached, "bare": bare}, repeats=repeats, warmup=0))
    per = {"online step s": med["online"], "cached step s": med["cached"] / inner, "bare step s": med["bare"] / inner}
    common = {"batch": batch, "threads": torch.get_num_threads(), "ts_size": size, "repeats": repeats, "steps_per_timing": inner, "quick": quick}
    what = (f"4 segments of {SEGMENT_FRAMES} frames" if primary == "ttm" else "2 clips of 16 frames")
    return [
        result(f"stage2-online-vs-cached-{primary}",
               f"EgoT2-s {primary.upper()} (paper config) step with the {size} TS models run on {what} "
               "(no grad) / step reading the tokens from a cache (DataLoader included)",
               per["online step s"] / per["cached step s"], per, goal=">= 200", **common),
        result(f"stage2-cached-vs-bare-{primary}",
               f"EgoT2-s {primary.upper()} step from a cache (DataLoader included) / the same step on in-memory "
               "tensors", per["cached step s"] / per["bare step s"], per, goal="<= 1.2", **common),
    ]


# -- (b) extraction throughput ------------------------------------------------------------------------
@contextlib.contextmanager
def recording_models(calls: list[tuple[Callable[..., Any], dict[str, Tensor]]]) -> Iterator[None]:
    """Make ``extract`` record every TS model call (the bound method and a copy of its batch)."""
    from egot2.features import extract as ex

    load = ex.load_ts_models

    def recording(ts: Any) -> Any:
        loaded = load(ts)
        for m in loaded.values():
            tokens = m.model.tokens

            def record(batch: dict[str, Tensor], tokens: Callable[..., Any] = tokens) -> dict[str, Tensor]:
                calls.append((tokens, {k: v.clone() if isinstance(v, Tensor) else v for k, v in batch.items()}))
                return tokens(batch)

            m.model.tokens = record
        return loaded

    ex.load_ts_models = recording
    try:
        yield
    finally:
        ex.load_ts_models = load


def extraction_records(quick: bool, tmp: Path) -> list[dict[str, Any]]:
    """(b): ``extract`` against the TS forwards on the same inputs, for a HOI and a social primary."""
    from egot2.config.schema import TrainConfig
    from egot2.features.extract import extract
    from egot2.synth.config import load_world_config
    from egot2.synth.generate import generate_world
    from egot2.training.stage1 import save_ts_run

    clips = 4 if quick else 24
    world = tmp / "world"
    generate_world(load_world_config(size="tiny", seed=5, overrides=[
        f"oscc_pnr.clips={{train: {clips}, val: 1, test: 1}}",
        f"human_human.clips={{train: {max(1, clips // 6)}, val: 1, test: 1}}",
        "human_human.clip_seconds=30.0", "ttm.train_fraction=1.0"]), world, workers=1)
    runs = {}
    for i, task in enumerate(("pnr", "oscc", "ar", "lam", "ttm", "asd")):
        torch.manual_seed(i)
        runs[task] = tmp / f"ts-{task}"
        save_ts_run(runs[task], build_ts_model(task, "tiny"), task, "tiny", TrainConfig(), {})
    records = []
    for primary, aux in (("oscc", ["pnr", "ar"]), ("ttm", ["lam", "asd"])):
        ts = [runs[t] for t in (primary, *aux)]
        calls: list[tuple[Callable[..., Any], dict[str, Tensor]]] = []
        with recording_models(calls), clip_loop_timer([], calls) as probe_calls:  # also the warm-up of the pipeline
            n = extract(primary, world, ts, tmp / f"rec-{primary}", aux=aux, splits=["train"], progress=False)["train"]
        loop_calls = calls[probe_calls[0]:]  # the calls of the clip loop (item 0 is built while setting up)
        counter = iter(range(1_000_000))
        loop_s: list[float] = []

        def pipeline(primary: str = primary, aux: list[str] = aux, ts: list[Path] = ts,
                     counter: Iterator[int] = counter, loop_s: list[float] = loop_s) -> None:
            with clip_loop_timer(loop_s):
                extract(primary, world, ts, tmp / f"run-{primary}-{next(counter)}", aux=aux, splits=["train"],
                        progress=False)

        @torch.no_grad()
        def forwards(calls: list[tuple[Callable[..., Any], dict[str, Tensor]]] = calls) -> None:
            for fn, batch in calls:
                fn(batch)

        @torch.no_grad()
        def loop_forwards(calls: list[tuple[Callable[..., Any], dict[str, Tensor]]] = loop_calls) -> None:
            for fn, batch in calls:
                fn(batch)

        times = interleaved({"pipeline": pipeline, "forwards": forwards, "loop forwards": loop_forwards},
                            repeats=2 if quick else 5, warmup=0)
        med = medians(times)
        loop = statistics.median(loop_s)
        per = {"extract s": med["pipeline"], "TS forwards s": med["forwards"],
               "clips/s extract": n / med["pipeline"], "clips/s forwards": n / med["forwards"],
               "setup s": med["pipeline"] - loop, "clip loop s": loop, "clip loop forwards s": med["loop forwards"]}
        records.append(result(
            f"stage2-extraction-{primary}",
            f"throughput of `egot2 extract` {primary} (aux {', '.join(aux)}; decode, resample, windows, tiny TS "
            "forwards, write) / throughput of the same TS forwards on the recorded inputs",
            med["forwards"] / med["pipeline"], per, goal=">= 0.8", quick=quick, clips=n, model_calls=len(calls)))
        records.append(result(
            f"stage2-extraction-{primary}-steady",
            "the same, clip loop only: throughput of `egot2 extract`'s loop over the clips (decode, resample, "
            "windows, forwards, write) / the forwards of those clips; without the once-per-run setup (loading "
            "the TS runs, reading the annotations, probing the videos, the first clip)",
            med["loop forwards"] / loop, per, goal=">= 0.8", quick=quick, clips=n - 1,
            model_calls=len(loop_calls)))
    return records


@contextlib.contextmanager
def clip_loop_timer(seconds: list[float], calls: list[Any] | None = None) -> Iterator[list[int]]:
    """Time ``extract``'s loop over the clips (appended to ``seconds``); yields a list that receives the
    number of ``calls`` recorded before the loop (the setup builds the first clip)."""
    from egot2.features import extract as ex

    run, probe = ex._run, ex._probe_dims
    before: list[int] = []

    def timed(*args: Any, **kwargs: Any) -> int:
        start = time.perf_counter()
        out = run(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        return out

    def probing(*args: Any, **kwargs: Any) -> dict[str, int]:
        out = probe(*args, **kwargs)
        if calls is not None:
            before.append(len(calls))
        return out

    ex._run, ex._probe_dims = timed, probing
    try:
        yield before
    finally:
        ex._run, ex._probe_dims = run, probe


# -- (c) peak RSS -------------------------------------------------------------------------------------
RSS_OVERRIDES = ("train.epochs=1",)


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: ``VmHWM`` (Linux; ``ru_maxrss`` would report the
    parent's peak in a child started from a large process), else ``ru_maxrss``."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KB elsewhere


def rss_child(cache: Path, out: Path) -> dict[str, float]:
    """In this process: train the paper PNR EgoT2-s for one epoch from ``cache``; peak RSS in MB."""
    from egot2.training.stage2 import train_stage2

    before = peak_rss_mb()
    start = time.perf_counter()
    train_stage2(paper_config("pnr", *RSS_OVERRIDES), cache, out, progress=False)
    return {"peak_mb": peak_rss_mb(), "after_imports_mb": before, "seconds": time.perf_counter() - start}


def rss_records(quick: bool, tmp: Path) -> list[dict[str, Any]]:
    """(c): peak RSS of training from a cache and from one 4 x larger, each run in a fresh process (the two
    alternate; the median of the runs of each)."""
    cfg = paper_config("pnr", *RSS_OVERRIDES)
    base = {"train": 32, "val": 32} if quick else {"train": 64, "val": 64}  # full batches (train 32, eval 64)
    factors = {"1x": 1, "4x": 4}
    caches = {k: write_random_cache(tmp / f"rss-{k}", cfg, {s: n * f for s, n in base.items()}, seed=f)
              for k, f in factors.items()}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in factors}
    for r in range(1 if quick else 2):
        for k, cache in caches.items():
            proc = subprocess.run([sys.executable, "-m", "bench.stage2", "--rss-child", str(cache),
                                   str(tmp / f"run-{k}-{r}")], cwd=ROOT, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"the RSS child failed: {proc.stderr[-2000:]}")
            runs[k].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    peak = {k: statistics.median(x["peak_mb"] for x in v) for k, v in runs.items()}
    med = {**{f"peak RSS {k} MB": v for k, v in peak.items()},
           **{f"cache {k} MB": sum(p.stat().st_size for p in c.rglob("*.safetensors")) / 2**20
              for k, c in caches.items()}}
    return [result("stage2-peak-rss", "peak RSS of one epoch of `egot2 train` (paper PNR EgoT2-s) from a cache 4x "
                   "larger / from the cache, each in a fresh process", peak["4x"] / peak["1x"], med, goal="< 1.1",
                   quick=quick, clips={k: {s: n * f for s, n in base.items()} for k, f in factors.items()},
                   children=runs)]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """All Stage II records: (a) step times, (b) extraction throughput, (c) peak RSS. Timings run with one
    torch thread: on a shared 2-core machine two threads make a small translator step up to 20 x slower
    whenever another job runs (every parallel region waits for its slowest thread)."""
    with tempfile.TemporaryDirectory(prefix="egot2-bench-stage2-") as tmp, torch_threads(THREADS):
        records = []
        for primary in ("ttm", "pnr"):
            records += step_records(primary, quick, Path(tmp))
        records += extraction_records(quick, Path(tmp))
        records += rss_records(quick, Path(tmp))
    return records


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.stage2 [--quick] [--only steps|extraction|rss]`` prints the records."""
    parser = argparse.ArgumentParser(prog="python -m bench.stage2")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["steps", "extraction", "rss"])
    parser.add_argument("--rss-child", nargs=2, type=Path, metavar=("CACHE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        print(json.dumps(rss_child(*args.rss_child)))
        return
    with tempfile.TemporaryDirectory(prefix="egot2-bench-stage2-") as tmp, torch_threads(THREADS):
        parts = {"steps": lambda: [r for p in ("ttm", "pnr") for r in step_records(p, args.quick, Path(tmp))],
                 "extraction": lambda: extraction_records(args.quick, Path(tmp)),
                 "rss": lambda: rss_records(args.quick, Path(tmp))}
        for name, part in parts.items():
            if args.only in (None, name):
                for r in part():
                    print(f"{r['name']}: ratio {r['ratio']:.4g} (goal {r['goal']}) {json.dumps(r['medians'])}")


if __name__ == "__main__":
    main()
