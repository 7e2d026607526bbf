"""``egot2 extract``: run every TS model over every clip of the primary task's dataset once and store
the token streams in a feature cache (train / val / test), resumably and atomically."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import torch

from egot2.backbones.zoo import LoadedTS, load_ts_models
from egot2.data.datasets import build_dataset
from egot2.data.transforms import profile_for_root
from egot2.data.video import ContainerPool
from egot2.errors import UserInputError
from egot2.features.builder import StreamBuilder
from egot2.features.cache import (
    CacheItem,
    CacheWriter,
    check_meta,
    completion_name,
    drop_other_completions,
    shard_prefix,
    write_meta,
)
from egot2.features.precomputed import WithPrecomputed, canonical_frame_count, clip_spans
from egot2.tasks import get_task
from egot2.training.clip_info import dataset_infos
from egot2.training.distributed import launch_rank
from egot2.training.stage1 import label_keys
from egot2.translator.layout import InputStream, plan_streams
from egot2.utils.atomic import write_json

SPLITS = ("train", "val", "test")
META_WAIT_S = 600.0  # how long ranks > 0 wait for rank 0's meta.json
PREFETCH = 2  # clips whose inputs are prepared ahead of the one the models run on
GIL_SWITCH_S = 2e-4  # thread switch interval while the inputs thread runs (see switch_interval)
T = TypeVar("T")


def extraction_dataset(task: str, data: Path, split: str, skip_bad: bool = False):  # noqa: ANN201
    """The primary's dataset as extraction reads it: deterministic (centred AR/LTA windows, every TTM
    frame)."""
    opts: dict[str, Any] = {"skip_bad": skip_bad}
    if task in ("ar", "lta"):
        opts["temporal"] = "center"
    return build_dataset(task, data, split, **opts)


def window_plan(primary: str, tasks: Sequence[str], windows: Mapping[str, int] | None = None,
                strides: Mapping[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Per TS model, how it reads a clip of ``primary`` of the nominal span (what a cache records): its fps,
    its span (``None``: any length) and its windows as ``[start, end]`` seconds from the start of each
    observed clip (LTA observes two); a social model on a social primary's clip reads the face track
    instead (``face_track``: every frame; LAM in 7-frame windows, the last one end-aligned)."""
    from egot2.features.builder import LAM_WINDOW
    from egot2.features.windows import plan_model, stride_count
    from egot2.tasks.copies import source_task

    spec = get_task(primary)
    clip_s = spec.clip_s / spec.input_clips
    out: dict[str, dict[str, Any]] = {}
    for task in dict.fromkeys(tasks):
        model = get_task(task)
        entry: dict[str, Any] = {"fps": model.fps, "span_s": model.window_s}
        if task != primary and spec.cluster == model.cluster == "human-human":
            entry["face_track"] = {"window_frames": LAM_WINDOW} if source_task(task) == "lam" else "every frame"
        else:
            stride = (strides or {}).get(task) if task != primary and model.window_s is not None else None
            plan = plan_model(spec, model, clip_s, windows=int((windows or {}).get(task, 1)), stride_s=stride,
                              count=stride_count(spec, model, stride) if stride else None)
            entry["windows"] = [[round(w.start_s, 6), round(w.end_s, 6)] for w in plan.windows]
        out[task] = entry
    return out


def expected_meta(primary: str, layout: Sequence[InputStream], dims: Mapping[str, int],
                  models: Mapping[str, LoadedTS], profile: str, windows: Mapping[str, int], dtype: str,
                  data: Path | None = None, strides: Mapping[str, float] | None = None) -> dict[str, Any]:
    """What a cache for this extraction records (and what a later resume or a training run checks; not
    ``data``, the absolute data folder, which ``egot2 eval`` reads the annotations from). Streams of
    ``dims`` beyond the layout (precomputed features) follow the layout's."""
    keys = [s.key for s in layout] + [k for k in dims if k not in {s.key for s in layout}]
    return {
        "primary": primary,
        "streams": {k: int(dims[k]) for k in keys},
        "plan": window_plan(primary, [s.task for s in layout if not s.precomputed], windows, strides),
        "ts": {t: {"sha256": m.sha256, "size": m.size} for t, m in sorted(models.items())},
        "windows": dict(sorted(windows.items())),
        **({"strides": {k: float(v) for k, v in sorted(strides.items())}} if strides else {}),
        "profile": profile,
        "dtype": dtype,
        "completion_marked": True,  # each split's part written by a rank ends with its completion file
        **({"data": str(Path(data).resolve())} if data is not None else {}),
    }


def config_aux(cfg: Any, primary: str) -> tuple[list[str], dict[str, int], dict[str, float]]:
    """The auxiliary tasks and windows a run of config ``cfg`` reads for clips of ``primary`` (EgoT2-g: the
    streams of that task's clips, cross-cluster ones included; EgoT2-s and the baselines: the config's
    layout), so that ``egot2 extract --config CFG`` makes the cache that config trains from."""
    import dataclasses

    from egot2.methods import generalist_layouts, model_layout

    model = dataclasses.replace(cfg.model, dims={})
    if model.method == "egot2-g":
        layouts = generalist_layouts(model)
        if primary not in layouts:
            raise UserInputError(f"the config's EgoT2-g answers {list(layouts)}, not {primary!r}", field="--primary")
        layout = layouts[primary]
    elif model.primary != primary:
        raise UserInputError(f"the config trains primary {model.primary!r}, not {primary!r}", field="--primary")
    else:
        layout = model_layout(model)
    tasks = dict.fromkeys(s.task for s in layout if not s.precomputed)
    return [t for t in tasks if t != primary], dict(model.windows), dict(model.window_stride)


def _probe_dims(builder: Any, dataset: Any, infos: Mapping[str, Any], built: dict[int, Any]) -> dict[str, int]:
    """Stream dims from building item 0 (kept in ``built`` so that the run does not build it again)."""
    built[0] = builder.build(dataset, 0, infos.get(dataset.items[0].key, {}))
    return {k: int(v.shape[-1]) for k, v in built[0][0].items()}


def extract(
    primary: str,
    data: Path,
    ts: Sequence[str | Path],
    out: Path,
    *,
    aux: Sequence[str] | None = None,
    windows: Mapping[str, int] | None = None,
    strides: Mapping[str, float] | None = None,
    float16: bool = False,
    splits: Sequence[str] = SPLITS,
    shard_size: int = 256,
    skip_bad: bool = False,
    progress: bool = True,
    limit: int | None = None,
    precomputed: Mapping[str, Path] | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    prefetch: int = PREFETCH,
) -> dict[str, int]:
    """Extract the cache of ``primary`` into ``out``; returns clips written per split (by this process).

    Several processes (``torchrun --nproc_per_node=N -m egot2 extract ...``, or ``rank``/``world_size``)
    share the work: the clips of a split, in dataset order, go to rank ``j % world_size``; each rank writes
    its own shards (``shard-r<rank>-*``); rank 0 writes ``meta.json`` and the others wait for it.

    Args:
        primary: the primary task.
        data: the data folder.
        ts: TS run folders or converted checkpoints, one per task (the primary's own included), each
            ``[TASK=]PATH`` (``ttm_copy1=runs/ttm-seed1``: a TTM model as the ablation's copy 1).
        out: the cache folder (resumed if it already holds a matching cache).
        aux: auxiliary tasks (default: the paper rule, limited to the tasks given with ``ts``).
        windows: sliding windows per shorter-span auxiliary model (spread evenly over the clip).
        strides: instead, slide these models with this stride in seconds.
        float16: store tokens as float16.
        splits: which splits to extract.
        shard_size: clips per shard.
        skip_bad: skip (and report) unreadable clips.
        progress: show progress.
        limit: only the first this many clips of each split (for quick runs).
        precomputed: ``{NAME: folder of {video_uid}.pt}``: Ego4D precomputed features, one more stream
            ``NAME.features`` per clip (:mod:`egot2.features.precomputed`).
        rank, world_size: this process's share (default: ``RANK``/``WORLD_SIZE`` as ``torchrun`` sets them).
        prefetch: decode and transform this many clips ahead in a background thread, overlapping the TS
            forwards (0: one clip after the other).
    """
    data, out = Path(data), Path(out)
    get_task(primary)  # an unknown task is named before anything else
    if rank is None:
        rank, world_size = launch_rank()
    world_size = world_size or 1
    if not 0 <= rank < world_size:
        raise UserInputError(f"rank {rank} is not in [0, {world_size})", field="rank")
    models = load_ts_models(ts)
    if primary not in models:
        raise UserInputError(f"no TS model for the primary task {primary!r} among --ts ({sorted(models)})",
                             field="--ts")
    if aux is None:
        from egot2.translator.layout import default_aux

        aux = [t for t in default_aux(get_task(primary)) if t in models]
    layout = plan_streams(primary, list(aux), windows=windows, strides=strides, check_primary=False)
    profile = profile_for_root(data)
    builder = StreamBuilder(primary, {t: m.model for t, m in models.items()}, layout, profile, windows, strides)
    written: dict[str, int] = {}
    meta: dict[str, Any] | None = None
    with_pre = WithPrecomputed(builder, precomputed, canonical_frame_count(data)) if precomputed else None
    split_builder = with_pre or builder
    for split in splits:
        dataset = extraction_dataset(primary, data, split, skip_bad)
        if len(dataset) == 0:
            continue
        infos = dataset_infos(primary, dataset, data, split)
        if with_pre is not None:
            with_pre.add_spans(clip_spans(primary, dataset, data, split, infos))
        built: dict[int, Any] = {}
        if meta is None:
            meta = expected_meta(primary, layout, _probe_dims(split_builder, dataset, infos, built), models, profile,
                                 dict(windows or {}), "float16" if float16 else "float32", data, strides)
            _open_cache(out, meta, rank)
        writer = CacheWriter(out, split, shard_size, shard_prefix(rank, world_size))
        keys = label_keys(primary)
        firsts = first_pieces(dataset)[:limit]
        mine = [(j, i) for j, i in enumerate(firsts) if j % world_size == rank]
        todo = [(j, i) for j, i in mine if dataset.items[i].key not in writer.done]
        marker = out / split / completion_name(rank, world_size)
        drop_other_completions(out / split, world_size)  # left by a run with another number of processes
        if todo:  # this part of the split is unfinished until every clip is written
            marker.unlink(missing_ok=True)
        written[split] = _run(split_builder, dataset, todo, infos, keys, writer, f"extract {primary} {split}",
                              progress, built, prefetch)
        write_json(marker, {"clips": len(mine), "rank": rank, "world_size": world_size})
    return written


def first_pieces(dataset: Any) -> list[int]:
    """Item indices of the first piece of every clip, in dataset order (TTM pieces of one segment share a
    key: the first piece stands for the clip)."""
    seen: set[str] = set()
    firsts = []
    for i, item in enumerate(dataset.items):
        if item.key not in seen:
            seen.add(item.key)
            firsts.append(i)
    return firsts


def _open_cache(out: Path, meta: Mapping[str, Any], rank: int, wait_s: float = META_WAIT_S) -> None:
    """Rank 0 creates the cache (or checks an existing one); other ranks wait for its ``meta.json``
    and check it."""
    path = out / "meta.json"
    if rank == 0 and not path.exists():
        write_meta(out, meta)
        return
    deadline = time.monotonic() + wait_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise UserInputError(f"rank {rank}: rank 0 did not create the cache within {wait_s:.0f} s",
                                 file=path)
        time.sleep(0.2)
    check_meta(out, meta)


@contextlib.contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Python's thread switch interval set to ``seconds`` inside the block (restored after).

    The models' thread gives up the interpreter lock at every torch operation and must take it back
    after; while the inputs thread runs Python code (the decode loop, one step per frame), taking it
    back waits up to the switch interval (5 ms by default), thousands of times per clip of a small model.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def prefetched(make: Callable[[int], T], keys: Sequence[int], depth: int) -> Iterator[T]:
    """``make(k)`` for each of ``keys`` in order, computed up to ``depth`` ahead in a background thread
    (0: in line). The clips' decoding and transforms then overlap the TS forwards of earlier clips (PyAV
    and torch release the GIL while they work); an exception is raised when its clip is reached."""
    if depth < 1:
        yield from (make(k) for k in keys)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="egot2-inputs") as pool, switch_interval(GIL_SWITCH_S):
        pending: deque[Future[T]] = deque(pool.submit(make, k) for k in keys[:depth])
        rest = iter(keys[depth:])
        try:
            while pending:
                result = pending.popleft().result()
                nxt = next(rest, None)
                if nxt is not None:
                    pending.append(pool.submit(make, nxt))
                yield result
        finally:
            for f in pending:
                f.cancel()


def _run(builder: Any, dataset: Any, todo: list[tuple[int, int]], infos: Mapping[str, Any], keys: Sequence[str],
         writer: CacheWriter, title: str, progress: bool, built: Mapping[int, Any] | None = None,
         prefetch: int = PREFETCH) -> int:
    """Build and write the clips ``todo`` (``(position in the split, item index)`` each); ``built`` holds
    builds already made (item index -> (streams, sample)). Each clip's inputs are prepared ``prefetch``
    clips ahead (:func:`prefetched`) while the models run on the current one."""
    from rich.progress import Progress

    built = built or {}
    files = ContainerPool()  # clips of one video, and a clip's frames and audio, share its open file

    def prepare(i: int) -> Any:
        if i in built:
            return None
        with files.active():
            return builder.inputs(dataset, i, infos.get(dataset.items[i].key, {}))

    with Progress(disable=not progress, transient=True) as bar, contextlib.closing(files):
        task = bar.add_task(title, total=len(todo))
        for (order, i), clip in zip(todo, prefetched(prepare, [i for _, i in todo], prefetch), strict=True):
            item = dataset.items[i]
            streams, sample = built[i] if clip is None else builder.finish(clip)
            labels = {k: torch.as_tensor(sample[k]) for k in keys if k in sample}
            writer.add(CacheItem(item.key, {k: v.contiguous() for k, v in streams.items()}, labels,
                                 dict(infos.get(item.key, {})), order))
            bar.advance(task)
    writer.flush()
    return len(todo)
