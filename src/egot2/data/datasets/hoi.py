"""Human-object datasets: PNR and OSCC (``fho_oscc-pnr``), AR and LTA (``fho_lta``).

Items (``S`` = the transform's size):

* PNR / OSCC: ``video`` (3, 16, S, S); ``label`` (PNR: index of the sampled frame nearest the PNR,
  -1 for a clip without one; OSCC: 0/1); ``key`` = ``unique_id``; ``frames`` (16,) parent frames.
* AR: ``slow`` (3, 8, S, S), ``fast`` (3, 32, S, S); ``verb``, ``noun``; ``key`` = ``<clip_uid>_<action_idx>``.
* LTA: ``slow`` (2, 3, 8, S, S), ``fast`` (2, 3, 32, S, S); ``verb`` (20,), ``noun`` (20,);
  ``key`` = ``<clip_uid>_<action_idx of the last observed action>``.

Test splits carry no labels, so their items have none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from egot2.data.annotations import LtaAction, load_lta, load_lta_taxonomy, load_oscc_pnr
from egot2.data.datasets.base import ClipDataset, ClipItem
from egot2.data.layout import DataRoot, VideoRef, resolve_root
from egot2.data.media import MEDIA, Media
from egot2.data.samplers import ar_frame_indices, nearest_index, pnr_frame_indices, slow_indices
from egot2.data.transforms import FrameTransform, profile_for_root, task_transform
from egot2.errors import UserInputError


def _setup(root: str | Path, task: str, split: str, transform: FrameTransform | None,
           profile: str | None) -> tuple[DataRoot, FrameTransform]:
    data = resolve_root(root)
    return data, transform or task_transform(task, profile or profile_for_root(data.root))


class PnrOsccDataset(ClipDataset):
    """PNR or OSCC clips of ``fho_oscc-pnr_<split>.json``, 16 frames each.

    Args:
        root: data folder (Ego4D layout).
        split: ``train``, ``val`` or ``test``.
        task: ``pnr`` or ``oscc``.
        transform: frame transform (default: the task's in the root's profile).
        profile: ``ego4d`` or ``synth`` (default: detected from the root).
        positives_only: keep only clips with a state change (default: True for labelled PNR splits).
        skip_bad: drop and report unreadable clips instead of raising.
    """

    def __init__(self, root: str | Path, split: str, task: str = "oscc", *, transform: FrameTransform | None = None,
                 profile: str | None = None, positives_only: bool | None = None, skip_bad: bool = False) -> None:
        if task not in ("pnr", "oscc"):
            raise UserInputError(f"PnrOsccDataset serves 'pnr' or 'oscc', got {task!r}", field="task")
        data, self.transform = _setup(root, task, split, transform, profile)
        self.labelled = split != "test"
        file = data.annotation_file(task, split)
        clips = load_oscc_pnr(file, require_labels=self.labelled)
        if positives_only is None:
            positives_only = task == "pnr" and self.labelled
        items = []
        for c in clips:
            if positives_only and not c.state_change:
                continue
            try:
                frames = pnr_frame_indices(c.parent_start_frame, c.parent_end_frame)
            except UserInputError as exc:
                raise UserInputError(f"unique_id {c.unique_id!r}: {exc.detail}", file=file, field=exc.field) from None
            d: dict[str, Any] = {"frames": frames}
            if self.labelled:
                if task == "pnr":
                    d["label"] = nearest_index(frames, c.parent_pnr_frame) if c.parent_pnr_frame is not None else -1
                    d["state_change"] = int(bool(c.state_change))
                else:
                    d["label"] = int(bool(c.state_change))
            items.append(ClipItem(c.unique_id, VideoRef(data.canonical(c.video_uid)), frames[-1],
                                  "parent_end_frame", data=d))
        super().__init__(items, task=task, skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        frames = item.data["frames"]
        video = self.transform.frames(media.frames(item.video.path, frames, clip_id=item.key), layout="cthw")
        out = {"video": video, "key": item.key, "unique_id": item.key,  # video (3, 16, S, S)
               "frames": torch.tensor(frames)}
        for k in ("label", "state_change"):
            if k in item.data:
                out[k] = torch.tensor(item.data[k])
        return out


def _load_actions(data: DataRoot, task: str, split: str, labelled: bool) -> list[LtaAction]:
    taxonomy = load_lta_taxonomy(data.taxonomy_file) if data.taxonomy_file.is_file() else None
    return load_lta(data.annotation_file(task, split), taxonomy=taxonomy, require_labels=labelled)


def _action_ref(data: DataRoot, a: LtaAction) -> VideoRef:
    return data.clip_video(a.clip_uid, a.video_uid, a.clip_parent_start_frame)


class _SlowFastMixin:
    """Sampling 32 frames at rate 2 per action and splitting them into the slow and fast pathways."""

    transform: FrameTransform
    temporal: str

    def _indices(self, start: int, end: int) -> list[int]:
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, ()).item())) if self.temporal == "random" else None
        return ar_frame_indices(start, end, mode=self.temporal, rng=rng)

    def _pathways(self, frames: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(32, H, W, 3) uint8 -> slow (3, 8, S, S), fast (3, 32, S, S)."""
        fast = self.transform.frames(frames, layout="cthw")  # (3, 32, S, S)
        return fast[:, slow_indices(fast.shape[1])], fast


class ArDataset(_SlowFastMixin, ClipDataset):
    """AR items: every action of ``fho_lta_<split>.json``.

    Args:
        root: data folder.
        split: ``train``, ``val`` or ``test``.
        temporal: ``center`` (default for val/test) or ``random`` (default for train) window placement.
        transform, profile, skip_bad: as :class:`PnrOsccDataset`.
    """

    def __init__(self, root: str | Path, split: str, *, temporal: str | None = None,
                 transform: FrameTransform | None = None, profile: str | None = None, skip_bad: bool = False) -> None:
        data, self.transform = _setup(root, "ar", split, transform, profile)
        self.temporal = temporal or ("random" if split == "train" else "center")
        self.labelled = split != "test"
        items = []
        for a in _load_actions(data, "ar", split, self.labelled):
            if a.action_clip_end_frame <= a.action_clip_start_frame:
                raise UserInputError(f"action {a.key!r} is empty: action_clip_end_frame {a.action_clip_end_frame} "
                                     f"<= action_clip_start_frame {a.action_clip_start_frame}",
                                     file=data.annotation_file("ar", split), field="action_clip_end_frame")
            d: dict[str, Any] = {"start": a.action_clip_start_frame, "end": a.action_clip_end_frame,
                                 "clip_uid": a.clip_uid, "action_idx": a.action_idx}
            if self.labelled:
                d.update(verb=a.verb_label, noun=a.noun_label)
            last = max(a.action_clip_end_frame - 1, a.action_clip_start_frame)
            items.append(ClipItem(a.key, _action_ref(data, a), last, "action_clip_end_frame", data=d))
        super().__init__(items, task="ar", skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        d = item.data
        idx = [item.video.offset + f for f in self._indices(d["start"], d["end"])]
        slow, fast = self._pathways(media.frames(item.video.path, idx, clip_id=item.key))
        out: dict[str, Any] = {"slow": slow, "fast": fast, "key": item.key, "clip_uid": d["clip_uid"],
                               "action_idx": d["action_idx"]}
        if self.labelled:
            out["verb"], out["noun"] = torch.tensor(d["verb"]), torch.tensor(d["noun"])
        return out


class LtaDataset(_SlowFastMixin, ClipDataset):
    """LTA windows: 2 observed actions and the next 20 (Ego4D ``clip_forecasting_dataset`` windows).

    Args:
        root, split, temporal, transform, profile, skip_bad: as :class:`ArDataset`.
    """

    def __init__(self, root: str | Path, split: str, *, temporal: str | None = None,
                 transform: FrameTransform | None = None, profile: str | None = None, skip_bad: bool = False) -> None:
        from egot2.metrics.lta_windows import lta_windows

        data, self.transform = _setup(root, "lta", split, transform, profile)
        self.temporal = temporal or ("random" if split == "train" else "center")
        self.labelled = split != "test"
        items = []
        for w in lta_windows(_load_actions(data, "lta", split, self.labelled)):
            d: dict[str, Any] = {"spans": [(a.action_clip_start_frame, a.action_clip_end_frame) for a in w.inputs],
                                 "clip_uid": w.clip_uid}
            if self.labelled:
                d.update(verb=w.future_verbs, noun=w.future_nouns)
            last = max(max(e - 1, s) for s, e in d["spans"])
            items.append(ClipItem(w.key, _action_ref(data, w.inputs[-1]), last, "action_clip_end_frame", data=d))
        super().__init__(items, task="lta", skip_bad=skip_bad)

    def load(self, item: ClipItem, media: Media = MEDIA) -> dict[str, Any]:
        d = item.data
        idx = [item.video.offset + f for s, e in d["spans"] for f in self._indices(s, e)]
        frames = media.frames(item.video.path, idx, clip_id=item.key)  # (2 * 32, H, W, 3)
        fast = self.transform.frames(frames, layout="cthw", clips=len(d["spans"]))  # (2, 3, 32, S, S)
        out: dict[str, Any] = {"slow": fast[:, :, slow_indices(fast.shape[2])], "fast": fast, "key": item.key,
                               "clip_uid": d["clip_uid"]}
        if self.labelled:
            out["verb"], out["noun"] = torch.tensor(d["verb"]), torch.tensor(d["noun"])
        return out
