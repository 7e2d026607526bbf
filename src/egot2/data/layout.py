"""Where things are in an Ego4D download (``ego4d_data/v1``) or a world written by ``egot2 synth``.

::

    ROOT/annotations/fho_oscc-pnr_{train,val,test_unannotated}.json     (PNR, OSCC)
    ROOT/annotations/fho_lta_{train,val,test_unannotated}.json          (AR, LTA)
    ROOT/annotations/fho_lta_taxonomy.json
    ROOT/annotations/av_{train,val,test_unannotated}.json               (LAM, TTM, ASD)
    ROOT/full_scale/<video_uid>.mp4                                     (canonical videos, 30 fps)
    ROOT/clips/<clip_uid>.mp4                                           (optional 5-minute clips)

``ROOT`` may also be the folder above ``v1``. A clip's frames are read from ``clips/<clip_uid>.mp4``
when that file exists, else from the canonical video at the clip's offset in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from egot2.errors import UserInputError

SPLITS: tuple[str, ...] = ("train", "val", "test")
FILE_SPLIT = {"train": "train", "val": "val", "test": "test_unannotated"}
FAMILY = {"pnr": "fho_oscc-pnr", "oscc": "fho_oscc-pnr", "ar": "fho_lta", "lta": "fho_lta", "lam": "av",
          "ttm": "av", "asd": "av"}


@dataclass(frozen=True)
class VideoRef:
    """A file to read a clip from, and the clip's first frame in it (30 fps frames).

    Args:
        path: the video file.
        offset: frame number of the clip's frame 0 in ``path``.
    """

    path: Path
    offset: int = 0


@dataclass(frozen=True)
class DataRoot:
    """A data folder in the Ego4D layout.

    Args:
        root: the folder that holds ``annotations/``.
    """

    root: Path

    def annotation_file(self, task: str, split: str) -> Path:
        """``annotations/<family>_<split>.json`` of ``task``."""
        if task not in FAMILY:
            raise UserInputError(f"unknown task {task!r}; valid: {list(FAMILY)}", field="task")
        if split not in FILE_SPLIT:
            raise UserInputError(f"unknown split {split!r}; valid: {list(SPLITS)}", field="split")
        return self.root / "annotations" / f"{FAMILY[task]}_{FILE_SPLIT[split]}.json"

    @property
    def taxonomy_file(self) -> Path:
        """``annotations/fho_lta_taxonomy.json``."""
        return self.root / "annotations" / "fho_lta_taxonomy.json"

    def canonical(self, video_uid: str) -> Path:
        """``full_scale/<video_uid>.mp4``."""
        return self.root / "full_scale" / f"{video_uid}.mp4"

    def clip_video(self, clip_uid: str | None, video_uid: str, offset: int | None) -> VideoRef:
        """``clips/<clip_uid>.mp4`` if present, else the canonical video at ``offset`` (None counts as 0)."""
        if clip_uid:
            clip = self.root / "clips" / f"{clip_uid}.mp4"
            if clip.is_file():
                return VideoRef(clip, 0)
        return VideoRef(self.canonical(video_uid), int(offset or 0))


def resolve_root(path: str | Path) -> DataRoot:
    """The data folder at ``path`` (or ``path/v1``).

    Raises:
        UserInputError: neither holds an ``annotations`` folder.
    """
    path = Path(path)
    for candidate in (path, path / "v1"):
        if (candidate / "annotations").is_dir():
            return DataRoot(candidate)
    raise UserInputError("no 'annotations' folder here or in 'v1/' (expected an Ego4D download or a world "
                         "written by 'egot2 synth')", file=path)
