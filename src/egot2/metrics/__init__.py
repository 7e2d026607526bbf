"""The official Ego4D / EgoT2 metrics, quirks included (see ``docs/metrics.md``).

One module per metric family; training, evaluation and the demo all call these functions.

* :mod:`~egot2.metrics.pnr` - PNR keyframe error in seconds
* :mod:`~egot2.metrics.oscc` - OSCC accuracy
* :mod:`~egot2.metrics.ar` - AR top-1 / top-k accuracy
* :mod:`~egot2.metrics.lta` - LTA ED@Z and AUED; :mod:`~egot2.metrics.lta_windows` - the scored windows
* :mod:`~egot2.metrics.voc_ap` - VOC AP and the two-class mAP of LAM and TTM;
  :mod:`~egot2.metrics.lam`, :mod:`~egot2.metrics.ttm` - their scored rows
* :mod:`~egot2.metrics.asd` - ASD detection mAP; :mod:`~egot2.metrics.asd_frames` - ASD frame accuracy
"""

from __future__ import annotations

from egot2.metrics.ar import top1_accuracy, topk_accuracy
from egot2.metrics.asd import (
    AsdDetection,
    AsdMap,
    asd_detection_map,
    asd_speaking_boxes,
    greedy_match,
    iou_plus1,
)
from egot2.metrics.asd_frames import AsdFaceFrame, asd_face_frames, asd_frame_accuracy, speaking_from_scores
from egot2.metrics.lam import LamRow, lam_rows, lam_track_boxes
from egot2.metrics.lta import aued, edit_distance_at_z, levenshtein, min_edit_distances, prefix_edit_distances
from egot2.metrics.lta_windows import LtaWindow, lta_windows
from egot2.metrics.oscc import oscc_accuracy, state_change_from_logits
from egot2.metrics.pnr import (
    keyframe_fps,
    keyframe_index_from_logits,
    pnr_errors_sec,
    pnr_frame_from_index,
    pnr_keyframe_error,
)
from egot2.metrics.ttm import TtmRow, ttm_end_frame, ttm_rows
from egot2.metrics.voc_ap import TwoClassAP, accuracy_at_threshold, class_ap, ranked_ap, two_class_map, voc_ap

__all__ = [
    "AsdDetection",
    "AsdFaceFrame",
    "AsdMap",
    "LamRow",
    "LtaWindow",
    "TtmRow",
    "TwoClassAP",
    "accuracy_at_threshold",
    "asd_detection_map",
    "asd_face_frames",
    "asd_frame_accuracy",
    "asd_speaking_boxes",
    "aued",
    "class_ap",
    "edit_distance_at_z",
    "greedy_match",
    "iou_plus1",
    "keyframe_fps",
    "keyframe_index_from_logits",
    "lam_rows",
    "lam_track_boxes",
    "levenshtein",
    "lta_windows",
    "min_edit_distances",
    "oscc_accuracy",
    "pnr_errors_sec",
    "pnr_frame_from_index",
    "pnr_keyframe_error",
    "prefix_edit_distances",
    "ranked_ap",
    "speaking_from_scores",
    "state_change_from_logits",
    "top1_accuracy",
    "topk_accuracy",
    "ttm_end_frame",
    "ttm_rows",
    "two_class_map",
    "voc_ap",
]
