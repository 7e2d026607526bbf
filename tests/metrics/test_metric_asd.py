"""ASD detection mAP (Cartucho/VOC matching) and frame accuracy, hand-worked."""

from __future__ import annotations

import math

import pytest

from egot2.metrics import (
    AsdDetection,
    asd_detection_map,
    asd_face_frames,
    asd_frame_accuracy,
    asd_speaking_boxes,
    greedy_match,
    iou_plus1,
)
from metrics.records import box, clip, person, track


def test_iou_uses_the_plus_one_convention() -> None:
    # (0,0,9,9) vs (5,0,14,9): iw = 9 - 5 + 1 = 5, ih = 10 -> 50 / (100 + 100 - 50) = 1/3
    # (without +1 it would be 36 / 126 = .2857)
    assert iou_plus1((0, 0, 9, 9), (5, 0, 14, 9)) == pytest.approx(1 / 3, abs=1e-15)
    assert iou_plus1((0, 0, 9, 9), (0, 0, 9, 9)) == 1.0
    assert iou_plus1((0, 0, 9, 9), (10, 0, 19, 9)) is None  # iw = 0


def test_iou_exactly_one_half_is_a_match() -> None:
    # (0,0,9,9) vs (0,0,9,4): intersection 10 x 5 = 50, union 100 + 50 - 50 = 100 -> exactly .5 -> TP
    assert iou_plus1((0, 0, 9, 9), (0, 0, 9, 4)) == 0.5
    assert greedy_match([("f", (0, 0, 9, 9))], {"f": [(0, 0, 9, 4)]}) == [True]
    # (0,0,9,3): 40 / 100 = .4 -> FP
    assert greedy_match([("f", (0, 0, 9, 9))], {"f": [(0, 0, 9, 3)]}) == [False]


def test_best_box_already_used_is_a_false_positive() -> None:
    # G1 = (0,0,9,9), G2 = (2,0,11,9). Both detections are (0,0,9,9): IoU 1 with G1, 80/120 = 2/3 with G2.
    # The first takes G1; the second's best box is G1 again, already used -> FP, no fallback to G2.
    gt = {"f": [(0, 0, 9, 9), (2, 0, 11, 9)]}
    assert greedy_match([("f", (0, 0, 9, 9)), ("f", (0, 0, 9, 9))], gt) == [True, False]


def test_iou_tie_goes_to_the_first_box() -> None:
    # G1 = (0,0,9,9), G2 = (1,0,10,9). D1 = (0,0,10,9) overlaps both by 100 / 110: a tie -> G1.
    # D2 = G2 exactly (IoU 1 with G2, 90/110 with G1) -> G2, still free -> TP. Had the tie gone to G2,
    # D2 would be a false positive.
    gt = {"f": [(0, 0, 9, 9), (1, 0, 10, 9)]}
    assert greedy_match([("f", (0, 0, 10, 9)), ("f", (1, 0, 10, 9))], gt) == [True, True]


def _asd_clip():
    # person "1" speaks in frames 0..9 and has boxes at frames 5 and 9; person "2" never speaks
    p1 = person("1", [track("t1", [box(5, 10.7, 20.2, 30.5, 40.9), box(9, 10, 20, 30, 40)])], voice=[(0, 9)])
    p2 = person("2", [track("t2", [box(5, 100, 100, 50, 50)])])
    return clip("c", [person("0", voice=[(0, 100)]), p1, p2])


def test_speaking_boxes_truncate_like_the_official_script() -> None:
    # (int(10.7), int(20.2), int(10 + 30.5), int(20 + 40.9)) = (10, 20, 40, 60)
    assert asd_speaking_boxes([_asd_clip()]) == {("c", 5): [(10, 20, 40, 60)], ("c", 9): [(10, 20, 40, 60)]}


def _det(frame: int, score: float, box=(10, 20, 40, 60), pid: int = 1) -> AsdDetection:
    return AsdDetection("c", frame, pid, *box, score)


def test_map_hand_worked() -> None:
    # ranked: .9 frame 5 box (10.9, 20.9, 40.9, 60.9) -> int -> exact match: TP
    #         .8 frame 5 person 2's box: no overlap with a speaking box: FP
    #         .7 frame 9 exact: TP;  .6 frame 9000: outside the clip, ignored
    # TP 1,1,2; precision 1, .5, 2/3; recall .5, .5, 1 -> AP = .5 * 1 + .5 * 2/3 = 5/6
    dets = [_det(5, 0.9, (10.9, 20.9, 40.9, 60.9)), _det(5, 0.8, (100, 100, 150, 150), 2), _det(9, 0.7),
            _det(9000, 0.6)]
    result = asd_detection_map(dets, [_asd_clip()])
    assert result.map == pytest.approx(5 / 6, abs=1e-12)
    assert (result.num_gt_speaking_boxes, result.num_detections, result.num_true_positives) == (2, 3, 2)


def test_confidence_is_printed_with_6_decimals_and_ties_follow_file_name_order() -> None:
    # Frame 9 has a speaking box, frame 10 none. Scores .1234564 (frame 9, TP) and .1234561 (frame 10, FP)
    # both print as 0.123456: a tie, broken by the file names "0_10.txt" < "0_9.txt" -> FP first.
    # precision 0, .5; recall 0, .5 (2 speaking boxes) -> AP = .5 * .5 = .25
    # (unrounded scores, or numeric frame order, would rank the TP first: AP = .5 * 1 = .5)
    dets = [_det(9, 0.1234564), _det(10, 0.1234561)]
    assert asd_detection_map(dets, [_asd_clip()]).map == pytest.approx(0.25, abs=1e-12)


def test_map_without_speaking_boxes_is_nan() -> None:
    silent = clip("c", [person("0"), person("1", [track("t", [box(1)])])])
    assert math.isnan(asd_detection_map([_det(1, 0.5)], [silent]).map)


def test_face_frames_chunks_and_labels() -> None:
    p1 = person("1", [
        track("t1", [box(0), box(1), box(2)]),             # one chunk of 3 -> 3 items
        track("single", [box(4)]),                          # one box: the chunk needs more than one
        track("visual_anchor_1", [box(0), box(1)]),         # visual anchors are skipped
        track("gap", [box(0), box(1000)]),                 # span 1001 -> 4 chunks; the first holds both
        track("reversed", [box(5), box(3)]),                # last - first + 1 = -1 -> no chunk
    ], voice=[(1, 1)])
    items = asd_face_frames([clip("c", [person("0"), p1])])
    assert [(i.frame, i.label) for i in items] == [(0, 0), (1, 1), (2, 0), (0, 0), (1000, 0)]


def test_face_frames_300_chunks_keep_only_chunks_with_more_than_one_box() -> None:
    # 301 boxes -> chunks [0:300] and [300:301]; the second has 1 box -> 300 items
    # 302 boxes -> the second chunk has 2 boxes -> 302 items
    p301 = person("1", [track("a", [box(f) for f in range(301)])])
    p302 = person("2", [track("b", [box(f) for f in range(302)])])
    assert len(asd_face_frames([clip("c", [p301])])) == 300
    assert len(asd_face_frames([clip("c", [p302])])) == 302


def test_frame_accuracy_score_one_half_is_not_speaking() -> None:
    # torch.round(.5) = 0: .5 is "not speaking" -> right for label 0, wrong for label 1
    assert asd_frame_accuracy([0.5], [0]) == 1.0
    assert asd_frame_accuracy([0.5], [1]) == 0.0
    assert asd_frame_accuracy([0.5000001], [1]) == 1.0
    # .9/1 right, .2/1 wrong, .1/0 right -> 2/3
    assert asd_frame_accuracy([0.9, 0.2, 0.1], [1, 1, 0]) == pytest.approx(2 / 3, abs=1e-15)


def test_equal_confidences_in_one_frame_keep_file_row_order() -> None:
    # As in the official scorer, only a tie inside one frame depends on the row order.
    # A and B both claim G1 = (0,0,9,9), C is G2 = (20,0,29,9); all three score .5 in frame 1.
    # rows A, B, C: TP, FP, TP -> precision 1, 1/2, 2/3; recall 1/2, 1/2, 1 -> AP = 1/2 + 1/2 * 2/3 = 5/6
    # rows A, C, B: TP, TP, FP -> AP = 1
    c = clip("c", [person("1", [track("t", [box(1, 0, 0, 9, 9), box(1, 20, 0, 9, 9)])], voice=[(0, 5)])])
    a, b, g2 = (0, 0, 9, 9), (0, 0, 9, 9), (20, 0, 29, 9)
    ranked = [AsdDetection("c", 1, -1, *bx, 0.5) for bx in (a, b, g2)]
    assert asd_detection_map(ranked, [c]).map == pytest.approx(5 / 6, abs=1e-12)
    assert asd_detection_map([ranked[0], ranked[2], ranked[1]], [c]).map == pytest.approx(1.0, abs=1e-12)


def test_speaking_boxes_include_visual_anchors_and_the_camera_wearer() -> None:
    # mAP ground truth takes every person and every track; frame accuracy skips visual anchors.
    wearer = person("0", [track("w", [box(2)])], voice=[(0, 5)])
    p1 = person("1", [track("visual_anchor_7", [box(3, 50, 50)])], voice=[(3, 3)])
    c = clip("c", [wearer, p1])
    assert asd_speaking_boxes([c]) == {("c", 2): [(0, 0, 10, 10)], ("c", 3): [(50, 50, 60, 60)]}
    assert asd_face_frames([c]) == []  # "w" has one box (chunk too short), the anchor is skipped
