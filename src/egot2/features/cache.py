"""The feature cache: the frozen TS models' token streams, extracted once, read many times.

Layout of a cache folder::

    meta.json                         what made it (primary, streams and dims, window plan, TS weight
                                      hashes, dtype, egot2 version): a stale or mismatched cache is refused;
                                      ``data``, the data folder, is recorded for ``egot2 eval`` only
    <split>/shard-00000.safetensors   per stream "<task.stream>" (sum T, D) concatenated over the shard's
                                      clips with "<task.stream>@offsets" (n+1,); labels "label:<name>" the
                                      same way; the clip ids, per-clip info and dataset positions
                                      ("order") in the header metadata
    <split>/shard-r1-00000.safetensors  the same, written by rank 1 of a multi-process extraction

Shards are written whole to a temporary name and renamed, so a crash never leaves a half-written shard
under a real name, and an interrupted extraction resumes after the last complete shard. Readers take
every ``shard-*.safetensors`` of a split and list the clips in dataset order (the recorded positions),
so a cache reads the same whichever number of processes extracted it. Reads are by clip id, each clip's
rows read from the file into fresh memory (not memory-mapped: the process stays the same size whatever
the size of the cache).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor

from egot2 import __version__
from egot2.errors import UserInputError
from egot2.utils.atomic import atomic_path, write_json

FORMAT = 1
OFFSETS = "@offsets"
LABEL = "label:"
#: Meta keys that record where things came from without making the cache stale (a moved data folder;
#: completion files, which older caches lack).
UNCHECKED = frozenset({"data", "completion_marked"})


def completion_name(rank: int, world_size: int) -> str:
    """The file that says a rank finished its part of a split: ``complete.json`` (one process) or
    ``complete-r<rank>.json``; it holds ``{"clips", "rank", "world_size"}``."""
    return "complete.json" if world_size == 1 else f"complete-r{rank}.json"


@dataclass
class CacheItem:
    """One clip: token streams ``{task.stream: (T_k, D_k)}``, labels, id and free-form info."""

    clip_id: str
    streams: dict[str, Tensor]
    labels: dict[str, Tensor]
    info: dict[str, Any]
    order: int | None = None  # position in the split's dataset (readers list clips by it)


def _pack(items: list[CacheItem], dtype: torch.dtype) -> tuple[dict[str, Tensor], dict[str, str]]:
    tensors: dict[str, Tensor] = {}
    keys = list(items[0].streams)
    label_keys = list(items[0].labels)
    for key, group, cast in [(k, "streams", dtype) for k in keys] + [(k, "labels", None) for k in label_keys]:
        parts = [getattr(it, group)[key] for it in items]
        parts = [p.reshape(1) if p.ndim == 0 else p for p in parts]
        name = key if group == "streams" else LABEL + key
        joined = torch.cat(parts, dim=0).contiguous()  # (sum T, ...)
        tensors[name] = joined.to(cast) if cast is not None else joined
        lengths = torch.tensor([0] + [p.shape[0] for p in parts], dtype=torch.int64)
        tensors[name + OFFSETS] = lengths.cumsum(0)
    scalars = [k for k in label_keys if items[0].labels[k].ndim == 0]
    meta = {"clips": json.dumps([it.clip_id for it in items]), "info": json.dumps([it.info for it in items]),
            "scalars": json.dumps(scalars)}
    if all(it.order is not None for it in items):
        meta["order"] = json.dumps([it.order for it in items])
    return tensors, meta


def shard_prefix(rank: int = 0, world_size: int = 1) -> str:
    """Shard file prefix of one extraction process: ``shard-`` alone, ``shard-r<rank>-`` among several."""
    return "shard-" if world_size == 1 else f"shard-r{rank}-"


class CacheWriter:
    """Append clips to a cache split, one atomic shard at a time.

    Args:
        root: the cache folder (``meta.json`` must already be written by :func:`write_meta`).
        split: ``train``, ``val`` or ``test``.
        shard_size: clips per shard.
        prefix: shard file prefix (:func:`shard_prefix`: each process of a multi-process extraction
            numbers its own shards).
    """

    def __init__(self, root: str | Path, split: str, shard_size: int = 256, prefix: str = "shard-") -> None:
        self.root, self.split, self.shard_size, self.prefix = Path(root), split, shard_size, prefix
        self.meta = read_meta(self.root)
        self.dtype = getattr(torch, self.meta["dtype"])
        self.folder = self.root / split
        self.folder.mkdir(parents=True, exist_ok=True)
        stale = re.compile(r"\." + re.escape(prefix) + r"\d+\.safetensors\.tmp-.*")
        for p in self.folder.iterdir():  # a killed writer's unfinished shard (only this writer uses the prefix)
            if stale.fullmatch(p.name):
                p.unlink(missing_ok=True)
        any_shard = any(self.folder.glob("shard-*.safetensors"))
        self.done = set(CacheSplit(self.root, split, complete=False).ids()) if any_shard else set()
        self._buffer: list[CacheItem] = []

    def add(self, item: CacheItem) -> None:
        """Buffer one clip; a full buffer is written as a shard."""
        expected = set(self.meta["streams"])
        if set(item.streams) != expected:
            raise UserInputError(f"clip {item.clip_id!r} has streams {sorted(item.streams)}, the cache holds "
                                 f"{sorted(expected)}", file=self.root / "meta.json", field="streams")
        self._buffer.append(item)
        if len(self._buffer) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        """Write the buffered clips as the next shard (atomically)."""
        if not self._buffer:
            return
        own = re.compile(re.escape(self.prefix) + r"(\d+)\.safetensors")
        numbers = {int(m.group(1)) for p in self.folder.iterdir() if (m := own.fullmatch(p.name))}
        index = next(i for i in range(len(numbers) + 1) if i not in numbers)  # a lost shard's number is reused
        tensors, meta = _pack(self._buffer, self.dtype)
        with atomic_path(self.folder / f"{self.prefix}{index:05d}.safetensors") as tmp:
            save_file(tensors, str(tmp), metadata=meta)
        self.done.update(it.clip_id for it in self._buffer)
        self._buffer = []


def write_meta(root: str | Path, meta: Mapping[str, Any]) -> None:
    """Create a cache folder with its ``meta.json`` (``streams``: {key: dim}, ``dtype``, ``ts``...)."""
    full = {"format": FORMAT, "egot2_version": __version__, **meta}
    write_json(Path(root) / "meta.json", full)


def read_meta(root: str | Path) -> dict[str, Any]:
    """The cache's ``meta.json``; a missing or unreadable one is a clear error."""
    path = Path(root) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserInputError("not a feature cache (no meta.json); run `egot2 extract` first", file=path) from None
    except json.JSONDecodeError as exc:
        raise UserInputError(f"meta.json is not valid JSON (line {exc.lineno})", file=path) from None
    if meta.get("format") != FORMAT:
        raise UserInputError(f"cache format {meta.get('format')!r}, this egot2 reads {FORMAT}", file=path,
                             field="format")
    return meta


def check_meta(root: str | Path, expected: Mapping[str, Any]) -> None:
    """Refuse a cache whose metadata differs from ``expected`` on any key but :data:`UNCHECKED`, naming each
    difference."""
    meta = read_meta(root)
    diffs = [f"{k}: cache has {meta.get(k)!r}, expected {v!r}" for k, v in expected.items()
             if k not in UNCHECKED and meta.get(k) != v]
    if diffs:
        raise UserInputError("the cache does not match this run (stale or made with other TS models): "
                             + "; ".join(diffs), file=Path(root) / "meta.json")


#: safetensors dtype names -> torch dtypes (what :func:`safetensors.torch.save_file` writes).
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}


@dataclass(frozen=True)
class _Entry:
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int  # absolute byte offset of the tensor in the file

    @property
    def row_bytes(self) -> int:
        return math.prod(self.shape[1:]) * self.dtype.itemsize


class _Shard:
    """One shard, read by byte ranges (``readinto``), not memory-mapped: a mapped shard keeps every page
    a training epoch touched resident, so the process would grow by the size of the cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        header = self._header()
        meta = header.pop("__metadata__", None) or {}
        self.clips: list[str] = json.loads(meta.get("clips", "[]"))
        self.info: list[dict[str, Any]] = json.loads(meta.get("info", "[]"))
        self.order: list[int] | None = json.loads(meta["order"]) if "order" in meta else None
        self.scalars = set(json.loads(meta.get("scalars", "[]")))
        self.entries = self._entries(header)
        self.keys = [k for k in self.entries if not k.endswith(OFFSETS)]
        with open(path, "rb", buffering=0) as fh:
            self.offsets = {k: self._rows(fh, k + OFFSETS, 0, self.entries[k + OFFSETS].shape[0]).tolist()
                            for k in self.keys}

    def _corrupt(self, why: str) -> UserInputError:
        return UserInputError(f"corrupt or truncated cache shard ({why}); delete it and re-run `egot2 extract` to "
                              "rebuild it", file=self.path)

    def _header(self) -> dict[str, Any]:
        size = self.path.stat().st_size
        with open(self.path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if size < 8 or not 0 < n <= size - 8:
                raise self._corrupt(f"{size} bytes, header of {n}")
            raw = fh.read(n)
        try:
            header = json.loads(raw)
        except ValueError as exc:  # UnicodeDecodeError included
            raise self._corrupt(f"unreadable header: {exc}") from None
        if not isinstance(header, dict):
            raise self._corrupt("the header is not a JSON object")
        self.base, self.size = 8 + n, size
        return header

    def _entries(self, header: Mapping[str, Any]) -> dict[str, _Entry]:
        entries = {}
        for key, spec in header.items():
            try:
                dtype, shape, (a, b) = _DTYPES[spec["dtype"]], tuple(spec["shape"]), spec["data_offsets"]
            except (KeyError, TypeError, ValueError):
                raise self._corrupt(f"bad header entry {key!r}") from None
            if b - a != math.prod(shape) * dtype.itemsize or self.base + b > self.size:
                raise self._corrupt(f"truncated: {self.size} bytes, tensor {key!r} ends at byte {self.base + b}")
            entries[key] = _Entry(dtype, shape, self.base + a)
        return entries

    def _rows(self, fh: Any, key: str, a: int, b: int) -> Tensor:
        """Rows ``a:b`` of tensor ``key`` read from the open file ``fh`` into fresh memory."""
        e = self.entries[key]
        buf = bytearray((b - a) * e.row_bytes)
        if buf:
            fh.seek(e.start + a * e.row_bytes)
            view, done = memoryview(buf), 0
            while done < len(buf):
                got = fh.readinto(view[done:])
                if not got:
                    raise self._corrupt(f"tensor {key!r} ends early")
                done += got
            return torch.frombuffer(buf, dtype=e.dtype).view(b - a, *e.shape[1:])
        return torch.empty((b - a, *e.shape[1:]), dtype=e.dtype)

    def read(self, i: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        streams, labels = {}, {}
        with open(self.path, "rb", buffering=0) as fh:
            for k in self.keys:
                t = self._rows(fh, k, self.offsets[k][i], self.offsets[k][i + 1])
                if k.startswith(LABEL):
                    name = k[len(LABEL):]
                    labels[name] = t.reshape(()) if name in self.scalars else t
                else:
                    streams[k] = t.float()
        return streams, labels


def _check_numbering(folder: Path, names: list[str]) -> None:
    """Every writer numbers its shards ``00000, 00001, ...``: a gap is a shard that went missing."""
    numbers: dict[str, set[int]] = {}
    for name in names:
        m = re.fullmatch(r"(shard-(?:r\d+-)?)(\d+)\.safetensors", name)
        if m:
            numbers.setdefault(m.group(1), set()).add(int(m.group(2)))
    for prefix, have in sorted(numbers.items()):
        gap = next(i for i in range(max(have) + 2) if i not in have)
        if gap < max(have):
            name = f"{prefix}{gap:05d}.safetensors"
            raise UserInputError(f"the shard is missing ({prefix}* are numbered without gaps); re-run `egot2 "
                                 "extract` to rebuild its clips", file=folder / name)


def drop_other_completions(folder: Path, world_size: int) -> None:
    """Remove the completion files an extraction with another number of processes left in a split folder
    (a resumed extraction writes its own)."""
    for path in folder.glob("complete*.json"):
        try:
            other = int(json.loads(path.read_text())["world_size"])
        except (OSError, ValueError, KeyError, TypeError):
            other = -1
        if other != world_size:
            path.unlink(missing_ok=True)


def _check_completion(folder: Path, have: int) -> None:
    """Every rank that extracted the split wrote its completion file, and they count the clips it holds."""
    rerun = "re-run `egot2 extract` with the same arguments to finish it"
    marks = sorted(folder.glob("complete*.json"))
    if not marks:
        raise UserInputError(f"the extraction of this split did not finish (no {completion_name(0, 1)}): {rerun}",
                             file=folder)
    parts = {}
    for path in marks:
        try:
            m = json.loads(path.read_text())
            parts[int(m["rank"])] = (int(m["world_size"]), int(m["clips"]))
        except (ValueError, KeyError, TypeError):
            raise UserInputError(f"unreadable completion file: {rerun}", file=path) from None
    world = max(w for w, _ in parts.values())
    missing = [r for r in range(world) if r not in parts]
    if missing:
        raise UserInputError(f"the extraction of this split did not finish on rank(s) {missing} of {world}: {rerun}",
                             file=folder / completion_name(missing[0], world))
    want = sum(n for _, n in parts.values())
    if want != have:
        raise UserInputError(f"the split holds {have} clips but its extraction wrote {want}: clips are missing "
                             f"(a shard was deleted or lost); {rerun}", file=folder, field="clips")

class CacheSplit:
    """Random access by clip id to one split of a cache.

    Args:
        root: the cache folder.
        split: the split name.
        complete: refuse a split whose shard numbers have a gap (a shard was deleted or lost).
    """

    def __init__(self, root: str | Path, split: str, complete: bool = True) -> None:
        self.root, self.split = Path(root), split
        self.meta = read_meta(self.root)
        folder = self.root / split
        paths = sorted(folder.glob("shard-*.safetensors"))
        if not paths:
            raise UserInputError(f"the cache has no {split!r} split", file=folder)
        if complete:
            _check_numbering(folder, [p.name for p in paths])
        self.shards = [_Shard(p) for p in paths]
        self.index: dict[str, tuple[int, int]] = {}
        for s, shard in enumerate(self.shards):
            for i, cid in enumerate(shard.clips):
                if cid in self.index:
                    raise UserInputError(f"clip {cid!r} appears twice", file=shard.path, field="clips")
                self.index[cid] = (s, i)
        if complete and self.meta.get("completion_marked"):
            _check_completion(folder, len(self.index))

    def ids(self) -> list[str]:
        """Clip ids in dataset order when every shard records it, else in storage order."""
        if all(shard.order is not None for shard in self.shards):
            pairs = [(o, cid) for shard in self.shards for o, cid in zip(shard.order, shard.clips, strict=True)]
            return [cid for _, cid in sorted(pairs)]
        return [cid for shard in self.shards for cid in shard.clips]

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self.index

    def get(self, clip_id: str) -> CacheItem:
        """The clip ``clip_id``; a miss is a clear error."""
        if clip_id not in self.index:
            raise UserInputError(f"clip {clip_id!r} is not in the {self.split!r} split of the cache",
                                 file=self.root)
        s, i = self.index[clip_id]
        streams, labels = self.shards[s].read(i)
        return CacheItem(clip_id, streams, labels, self.shards[s].info[i])

    def __iter__(self) -> Iterator[CacheItem]:
        for cid in self.ids():
            yield self.get(cid)
