"""Train (stage I on a data folder, or stage II, EgoT2-s or EgoT2-g, on a cache) and record what every rank
saw; launched by the distributed tests as ``torchrun --nproc_per_node=N ddp_train.py ...`` or as a plain
``python ddp_train.py ...``.

Writes ``OUT/record-rank<r>.json``: the clip ids of every training step per epoch, the scores of every
validation epoch and how many clips each scored, and the final ``run.json`` scores.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import egot2.training.joint as joint
import egot2.training.module as module
from egot2.config import load_config

SEEN: dict[int, list[list[str]]] = defaultdict(list)
SCORED: list[dict[str, Any]] = []


def _record_steps() -> None:
    def wrap(cls: type) -> None:
        original = cls.training_step

        def training_step(self, batch, batch_idx):  # noqa: ANN001, ANN202
            ids = [i for b in batch.values() if b for i in b["ids"]] if "ids" not in batch else list(batch["ids"])
            SEEN[self.current_epoch].append(ids)
            return original(self, batch, batch_idx)

        cls.training_step = training_step

    wrap(module.TaskModule)
    wrap(joint.GeneralistModule)
    for mod in (module, joint):
        original_score = mod.score

        def score(spec, outputs, labels, infos=(), _original=original_score):  # noqa: ANN001, ANN202
            result = _original(spec, outputs, labels, infos)
            SCORED.append({"task": spec.name, "clips": len(infos), "scores": result})
            return result

        mod.score = score


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["stage2", "ts"], help="stage2: CONFIG CACHE; ts: TASK DATA")
    p.add_argument("first")
    p.add_argument("second", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--devices", type=int, default=1)
    p.add_argument("overrides", nargs="*")
    args = p.parse_intermixed_args()
    _record_steps()
    if args.kind == "ts":
        from egot2.training.stage1 import train_ts

        cfg = load_config([], args.overrides)
        info = train_ts(args.first, args.second, args.out, train=cfg.train, progress=False, devices=args.devices)
    else:
        cfg = load_config([Path(args.first)], args.overrides)
        if cfg.model.method == "egot2-g":
            info = joint.train_generalist(cfg, args.second, args.out, progress=False, devices=args.devices)
        else:
            from egot2.training.stage2 import train_stage2

            info = train_stage2(cfg, args.second, args.out, progress=False, devices=args.devices)
    rank = int(os.environ.get("RANK", "0"))
    import torch.distributed as dist

    # the training function destroys the group Lightning made (left to exit, gloo can abort the process)
    record = {"seen": SEEN, "scored": SCORED, "val": info["val"], "group_left": dist.is_initialized()}
    (args.out / f"record-rank{rank}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()
