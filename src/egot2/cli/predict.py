"""``egot2 predict``: every task of EgoT2-g runs answered on one video file, without annotations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "predict"
HELP = ("Answer every task of one or more EgoT2-g runs on a video file (no annotations; face tracks for the "
        "human-human tasks from --tracks), as tables and optionally JSON.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, help="the video file (any frame rate; audio for TTM and ASD)")
    p.add_argument("--run", type=Path, action="append", required=True,
                   help="EgoT2-g run folder (`egot2 train --method egot2-g`); repeat for both clusters")
    p.add_argument("--tracks", type=Path, metavar="FILE",
                   help="face tracks for LAM/TTM/ASD: CSV with a header frame,x1,y1,x2,y2[,track_id] "
                   "(frames on the 30 fps timeline, boxes in pixels)")
    p.add_argument("--ts", type=Path, nargs="+", default=[],
                   help="the TS runs the run's features were extracted with (checked against its caches)")
    p.add_argument("--out", type=Path, metavar="FILE.json", help="also write the answers as JSON")
    p.add_argument("--start", type=float, metavar="SECONDS", help="answer from this time (default 0)")
    p.add_argument("--end", type=float, metavar="SECONDS", help="answer up to this time (default: the end)")
    p.add_argument("--lam-stride", type=int, default=13, metavar="N",
                   help="LAM answers every N-th frame of a track (default 13, the official rows)")
    p.add_argument("--profile", choices=["synth", "ego4d"], help="frame profile (default: the run caches')")
    p.add_argument("--taxonomy", type=Path, metavar="FILE",
                   help="fho_lta_taxonomy.json for verb/noun names (default: the run's data folder's)")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of tables")


def run(args: argparse.Namespace) -> int:
    from egot2.predict import predict_video
    from egot2.predict.report import print_report
    from egot2.utils.atomic import write_json

    log = None if args.json else (lambda line: print(line, file=sys.stderr))
    result = predict_video(args.video, args.run, tracks=args.tracks, ts=args.ts, start_s=args.start,
                           end_s=args.end, profile=args.profile, taxonomy=args.taxonomy,
                           lam_stride=args.lam_stride, log=log)
    if args.out is not None:
        write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
        if args.out is not None:
            print(f"answers: {args.out}")
    return 0
