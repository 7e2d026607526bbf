"""``generate_world``: plan every clip, render and encode the videos in parallel, write the annotations.

Output folder (the Ego4D download layout, read back by :mod:`egot2.data`)::

    OUT/annotations/fho_oscc-pnr_{train,val,test_unannotated}.json
    OUT/annotations/fho_lta_{train,val,test_unannotated}.json, fho_lta_taxonomy.json
    OUT/annotations/av_{train,val,test_unannotated}.json
    OUT/full_scale/<video_uid>.mp4          (30 fps; 16 kHz mono audio for the conversation videos)
    OUT/relations_ground_truth.json
    OUT/world.yaml                          (the resolved config; written last: marks a complete world)

All labels are decided in this process from seeded generators, in a fixed order, so the same config
gives byte-identical annotation files whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from egot2.errors import UserInputError
from egot2.synth.annotations import FILE_SPLIT, av_file, lta_file, lta_taxonomy_file, oscc_pnr_file
from egot2.synth.config import WorldConfig
from egot2.synth.encode import write_video
from egot2.synth.grammar import build_grammar
from egot2.synth.hoi_plan import HoiVideoPlan, plan_lta, plan_oscc
from egot2.synth.hoi_render import render_hoi
from egot2.synth.relations import relations_ground_truth
from egot2.synth.social_plan import SocialClipPlan, plan_social
from egot2.synth.social_render import render_social
from egot2.synth.speech import synth_audio
from egot2.utils.atomic import write_json, write_text

SPLITS: tuple[str, ...] = ("train", "val", "test")
_FAMILY = {"oscc": 1, "lta": 2, "av": 3}
_SPLIT = {"train": 1, "val": 2, "test": 3}
ProgressFn = Callable[[int, int], None]
MARKER = ".egot2-world"  # only a folder holding it is ever cleaned of stale videos


@dataclass(frozen=True)
class WorldSummary:
    """What :func:`generate_world` wrote.

    Args:
        out: the world folder.
        videos: number of videos.
        frames: total frames encoded.
        seconds: wall-clock time.
        files: annotation file name -> number of records (clips, actions or AV clips).
    """

    out: Path
    videos: int
    frames: int
    seconds: float
    files: dict[str, int]


@dataclass(frozen=True)
class _Job:
    kind: str  # "hoi" or "av"
    plan: HoiVideoPlan | SocialClipPlan
    path: Path

    @property
    def frames(self) -> int:
        return self.plan.num_frames

    @property
    def cost(self) -> float:
        return self.frames * (3.0 if self.kind == "av" else 1.0)


def _render_job(job: _Job, cfg: WorldConfig) -> int:
    """Render and encode one video (runs in a worker process)."""
    v = cfg.video
    if job.kind == "hoi":
        size = cfg.human_object.size
        return write_video(job.path, render_hoi(job.plan, cfg), width=size, height=size, codec=v.codec, crf=v.crf,
                           gop=v.gop)
    audio, mouth = synth_audio(job.plan, cfg)
    hh = cfg.human_human
    return write_video(job.path, render_social(job.plan, cfg, mouth), width=hh.width, height=hh.height,
                       codec=v.codec, crf=v.crf, gop=v.gop, audio=audio, audio_codec=v.audio_codec)


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserInputError("the output must be a folder", file=out)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UserInputError("folder is not empty and holds no egot2 world; choose an empty or new folder",
                             file=out)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    (out / "full_scale").mkdir(parents=True, exist_ok=True)
    write_text(out / MARKER, "written by egot2 synth; the folder may be regenerated and its videos replaced\n")
    stale = out / "world.yaml"
    if stale.exists():
        stale.unlink()  # the world is incomplete until it is written again, last


def plan_world(cfg: WorldConfig, out: Path) -> tuple[list[_Job], dict[str, dict[str, Any]]]:
    """Every video job and every annotation file's content; no pixel drawn, nothing written."""
    grammar = build_grammar(cfg)
    videos = out / "full_scale"
    jobs: list[_Job] = []
    files: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        suffix = FILE_SPLIT[split]
        rng = np.random.default_rng([cfg.seed, _FAMILY["oscc"], _SPLIT[split]])
        plans, clips = plan_oscc(cfg, grammar, split, getattr(cfg.oscc_pnr.clips, split), rng)
        jobs += [_Job("hoi", p, videos / f"{p.video_uid}.mp4") for p in plans]
        files[f"fho_oscc-pnr_{suffix}.json"] = oscc_pnr_file(cfg, split, clips)
        rng = np.random.default_rng([cfg.seed, _FAMILY["lta"], _SPLIT[split]])
        plans, lta = plan_lta(cfg, grammar, split, getattr(cfg.ar_lta.clips, split), rng)
        jobs += [_Job("hoi", p, videos / f"{p.video_uid}.mp4") for p in plans]
        files[f"fho_lta_{suffix}.json"] = lta_file(cfg, split, lta)
        rng = np.random.default_rng([cfg.seed, _FAMILY["av"], _SPLIT[split]])
        social = plan_social(cfg, split, getattr(cfg.human_human.clips, split), rng)
        jobs += [_Job("av", p, videos / f"{p.video_uid}.mp4") for p in social]
        files[f"av_{suffix}.json"] = av_file(cfg, split, social)
    files["fho_lta_taxonomy.json"] = lta_taxonomy_file(cfg)
    return jobs, files


def _run_jobs(jobs: list[_Job], cfg: WorldConfig, workers: int, progress: ProgressFn | None) -> int:
    total = sum(j.frames for j in jobs)
    done = 0
    ordered = sorted(jobs, key=lambda j: -j.cost)
    if workers <= 1:
        for job in ordered:
            done += _render_job(job, cfg)
            if progress:
                progress(done, total)
        return done
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_render_job, job, cfg) for job in ordered]
        for fut in as_completed(futures):
            done += fut.result()
            if progress:
                progress(done, total)
    return done


def default_workers() -> int:
    """Worker processes: the CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def generate_world(cfg: WorldConfig, out: str | Path, *, workers: int | None = None,
                   progress: ProgressFn | None = None) -> WorldSummary:
    """Generate the world of ``cfg`` into the folder ``out``.

    Args:
        cfg: the resolved world config.
        out: output folder (created; an existing world there is replaced).
        workers: processes that render and encode videos (default: the available CPUs).
        progress: called as ``progress(frames_done, frames_total)`` after each video.

    Raises:
        UserInputError: ``out`` is a file, or a non-empty folder that is not an egot2 world.
    """
    from egot2.config import config_to_yaml

    t0 = time.perf_counter()
    out = Path(out)
    _prepare(out)
    jobs, files = plan_world(cfg, out)
    keep = {j.path.name for j in jobs}
    for old in (out / "full_scale").glob("*.mp4"):
        if old.name not in keep:
            old.unlink()
    frames = _run_jobs(jobs, cfg, workers or default_workers(), progress)
    counts = {}
    for name, content in files.items():
        compact = name.startswith("av_")
        write_json(out / "annotations" / name, content, indent=None if compact else 1)
        counts[name] = len(content.get("clips", content.get("videos", content.get("verbs", []))))
    write_json(out / "relations_ground_truth.json", relations_ground_truth(cfg))
    header = f"# egot2 synthetic world (resolved config); regenerate with: egot2 synth --world {out / 'world.yaml'}\n"
    write_text(out / "world.yaml", header + config_to_yaml(cfg))
    return WorldSummary(out, len(jobs), frames, time.perf_counter() - t0, counts)
