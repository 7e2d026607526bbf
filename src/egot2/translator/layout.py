"""Token layout: which token streams a translator for a primary task reads, in which order, with
which shapes. Applies the paper's rules (Sec. 4.1): auxiliary tasks of the primary's cluster, a model
whose input span is longer than the primary clip is excluded, a video-only primary gets only the video
pathway of a multimodal model, and a primary that observes several clips (LTA) gets one pooled token
per clip from every model. Precomputed feature streams (``model.precomputed``) come last.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from egot2.errors import UserInputError
from egot2.tasks import TaskSpec, get_task, task_names, tasks_in_cluster

#: Stream name of a precomputed feature source ``NAME``: ``NAME.features`` (``egot2 extract --precomputed``).
PRECOMPUTED_STREAM = "features"
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class InputStream:
    """One token stream as the translator sees it.

    Args:
        task: the TS model's task.
        stream: the stream name within that task (``"clip"`` for per-clip pooled features).
        tokens: tokens in the translator's sequence, or ``None`` for one token per primary frame (or,
            for a precomputed stream, however many feature windows overlap the clip).
        dim: per-token feature size D_k.
        precomputed: a stream of precomputed features (``task`` is then the source's name): variable
            length, not aligned with the primary's frames.
    """

    task: str
    stream: str
    tokens: int | None
    dim: int
    precomputed: bool = False

    @property
    def per_frame(self) -> bool:
        """One token per primary frame (a task stream without a fixed token count)."""
        return self.tokens is None and not self.precomputed

    @property
    def key(self) -> str:
        """``"task.stream"``, the name used in configs, caches and forward inputs."""
        return f"{self.task}.{self.stream}"


def default_aux(primary: TaskSpec, clusters: Sequence[str] | None = None) -> list[str]:
    """Paper rule: every other task of the primary's cluster (or of ``clusters``, for cross-cluster
    translators) whose model fits in the primary clip."""
    pool = [t for c in (clusters or [primary.cluster]) for t in tasks_in_cluster(c)]
    return [t.name for t in pool if t.name != primary.name and t.fits_in(primary)]


def precomputed_streams(precomputed: Mapping[str, int]) -> list[InputStream]:
    """One variable-length stream ``NAME.features`` per precomputed source ``{NAME: D}``, in the given order."""
    out = []
    for name, dim in precomputed.items():
        field = f"model.precomputed.{name}"
        if not _SOURCE_NAME.match(str(name)):
            raise UserInputError("a precomputed source name has letters, digits, - or _ only", field=field)
        if name in task_names():
            raise UserInputError(f"{name!r} is a task's name; give the precomputed source another name (at "
                                 f"extraction: --precomputed OTHER=DIR)", field=field)
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise UserInputError(f"the feature width must be an integer >= 1, got {dim!r}", field=field)
        out.append(InputStream(name, PRECOMPUTED_STREAM, None, dim, precomputed=True))
    return out


def plan_streams(
    primary: str | TaskSpec,
    aux: Sequence[str] | None = None,
    *,
    order: Sequence[str] | None = None,
    windows: Mapping[str, int] | None = None,
    strides: Mapping[str, float] | None = None,
    streams: Sequence[str] | None = None,
    dims: Mapping[str, int] | None = None,
    check_primary: bool = True,
    precomputed: Mapping[str, int] | None = None,
) -> list[InputStream]:
    """The ordered input streams of a translator for ``primary``.

    Args:
        primary: the primary task (name or spec).
        aux: auxiliary task names; ``None`` applies the paper rule (:func:`default_aux`); ``[]`` for none.
        order: task order in the token sequence; default primary first, then ``aux`` as given.
        strides: instead of a number of windows, slide these auxiliary tasks' models with this stride in
            seconds (:func:`egot2.features.windows.stride_count` windows per clip).
        windows: number of sliding windows per auxiliary task whose span is shorter than the primary
            clip (tokens are concatenated in time); default 1.
        streams: explicit ``"task.stream"`` keys to keep (default: every computable stream).
        dims: ``{"task.stream": D}`` overrides (models narrower than the paper's, e.g. tiny TS models).
        check_primary: refuse tasks that are never primary in EgoT2-s (EgoT2-g answers every task).
        precomputed: ``{NAME: D}``: append the precomputed feature stream ``NAME.features`` of width D
            (:func:`precomputed_streams`), after every task stream, whatever ``streams`` keeps.
    """
    p = get_task(primary) if isinstance(primary, str) else primary
    if check_primary and not p.can_be_primary:
        raise UserInputError(f"task {p.name!r} cannot be a primary task (the paper never translates into it)",
                             field="primary")
    aux_names = default_aux(p) if aux is None else list(aux)
    if p.name in aux_names:
        raise UserInputError(f"the primary task {p.name!r} is also listed as auxiliary", field="aux")
    for name in aux_names:
        a = get_task(name)
        if not a.fits_in(p):
            raise UserInputError(
                f"auxiliary task {name!r} is excluded by the span rule: its model needs {a.window_s:.2f} s of "
                f"video but a {p.name!r} clip spans {p.clip_s:.2f} s",
                field="aux",
            )
    tasks = [p.name, *aux_names]
    if order is not None:
        if sorted(order) != sorted(tasks):
            raise UserInputError(f"order {list(order)} must list exactly the tasks {tasks}", field="order")
        tasks = list(order)
    from egot2.features.windows import stride_count

    windows, strides = dict(windows or {}), dict(strides or {})
    for name in sorted(set(windows) & set(strides)):
        raise UserInputError(f"give windows or a stride for {name!r}, not both", field="window_stride")
    dims = dict(dims or {})
    out: list[InputStream] = []
    for name in tasks:
        spec = get_task(name)
        if p.input_clips > 1 and name != p.name:
            if spec.clip_dim is None:
                raise UserInputError(f"task {name!r} has no pooled clip feature for primary {p.name!r}",
                                     field="aux")
            # the builder concatenates the clip means of the streams the model computes from the primary's
            # modalities: ASD on LTA's video-only clips gives its 128-d visual pathway, not its 256-d clip_dim
            pooled = sum(s.dim for s in spec.streams_for(p.modalities))
            out.append(InputStream(name, "clip", p.input_clips, pooled))
            continue
        own = spec.streams if name == p.name else spec.streams_for(p.modalities)
        n_win = 1
        if name != p.name and spec.window_s is not None and spec.window_s < p.clip_s:
            n_win = (stride_count(p, spec, float(strides[name])) if name in strides
                     else int(windows.get(name, 1)))
            if n_win < 1:
                raise UserInputError(f"windows for {name!r} must be >= 1, got {n_win}", field="windows")
        for s in own:
            tokens = None if s.tokens is None else s.tokens * n_win
            out.append(InputStream(name, s.name, tokens, s.dim))
    extra = precomputed_streams(precomputed or {})
    if streams is not None:
        valid = {s.key for s in out}
        for key in streams:
            if key not in valid | {s.key for s in extra}:
                raise UserInputError(f"unknown stream {key!r}; valid: {sorted(valid)}", field="streams")
        out = [s for s in out if s.key in set(streams)]
    out += extra
    for key in dims:
        if key not in {s.key for s in out}:
            raise UserInputError(f"dims given for unknown stream {key!r}", field="dims")
    for s in extra:
        if dims.get(s.key, s.dim) != s.dim:
            raise UserInputError(f"dims gives {s.key} {dims[s.key]} dims but model.precomputed.{s.task} says {s.dim}",
                                 field=f"dims.{s.key}")
    out = [dataclasses.replace(s, dim=int(dims.get(s.key, s.dim))) for s in out]
    if not any(s.task == p.name for s in out):
        raise UserInputError(f"no stream of the primary task {p.name!r} is left", field="streams")
    return out
