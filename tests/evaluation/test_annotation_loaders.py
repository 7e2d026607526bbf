"""The typed annotation loaders: complete records, and clear errors naming file, record and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egot2.data.annotations import (
    AvClip,
    LtaAction,
    OsccPnrClip,
    TrackBox,
    load_av,
    load_lta,
    load_lta_taxonomy,
    load_oscc_pnr,
)
from egot2.errors import UserInputError
from evaluation.builders import (
    av_box,
    av_clip,
    av_file,
    av_person,
    av_seg,
    av_track,
    lta_action,
    lta_file,
    oscc_clip,
    oscc_file,
    write_json,
)


def test_oscc_pnr_records(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", oscc_file([oscc_clip("u1", True, 120), oscc_clip("u2", False)]))
    clips = load_oscc_pnr(path)
    assert clips[0] == OsccPnrClip("u1", "video", 0.0, 8.0, 0, 240, True, 120, clip_uid="c-u1", clip_id=1,
                                   clip_start_sec=0.0, clip_end_sec=8.0, clip_start_frame=0, clip_end_frame=240,
                                   clip_pnr_frame=120)
    assert clips[1].state_change is False and clips[1].parent_pnr_frame is None


def test_oscc_pnr_older_pnr_frame_key_and_unlabelled_files(tmp_path: Path) -> None:
    old = oscc_clip("u1", True)
    del old["parent_pnr_frame"]
    old["pnr_frame"] = 30
    assert load_oscc_pnr(write_json(tmp_path / "a.json", oscc_file([old])))[0].parent_pnr_frame == 30
    test = oscc_clip("u1", True)
    for key in ("state_change", "parent_pnr_frame"):
        del test[key]
    clip = load_oscc_pnr(write_json(tmp_path / "t.json", oscc_file([test])), require_labels=False)[0]
    assert (clip.state_change, clip.parent_pnr_frame) == (None, None)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"parent_start_frame": None}, "parent_start_frame", "must not be null"),
    ({"parent_end_sec": "8"}, "parent_end_sec", "expected a number"),
    ({"parent_end_frame": -5}, "parent_end_frame", "must be after"),
    ({"parent_pnr_frame": 241}, "parent_pnr_frame", "outside its clip"),
    ({"parent_pnr_frame": None}, "parent_pnr_frame", "must not be null"),
    ({"state_change": None}, "state_change", "must not be null"),
    ({"state_change": "yes"}, "state_change", "expected true or false"),
    ({"parent_start_frame": 1.5}, "parent_start_frame", "expected an integer"),
])
def test_oscc_pnr_errors_name_file_record_and_field(tmp_path: Path, change: dict, field: str, message: str) -> None:
    clip = oscc_clip("u7", True, 120)
    clip.update(change)
    path = write_json(tmp_path / "a.json", oscc_file([clip]))
    with pytest.raises(UserInputError, match=message) as info:
        load_oscc_pnr(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert "u7" in str(info.value)


def test_missing_field_and_duplicate_ids(tmp_path: Path) -> None:
    clip = oscc_clip("u1", False)
    del clip["video_uid"]
    with pytest.raises(UserInputError, match="missing field") as info:
        load_oscc_pnr(write_json(tmp_path / "a.json", oscc_file([clip])))
    assert info.value.field == "video_uid"
    path = write_json(tmp_path / "b.json", oscc_file([oscc_clip("u1", False), oscc_clip("u1", False)]))
    with pytest.raises(UserInputError, match="more than once"):
        load_oscc_pnr(path)


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"clips": [\n  {"unique_id": "a",\n  }\n]}\n')
    with pytest.raises(UserInputError, match="line 3") as info:
        load_oscc_pnr(path)
    assert info.value.file == str(path)
    with pytest.raises(UserInputError, match="not found"):
        load_oscc_pnr(tmp_path / "missing.json")
    with pytest.raises(UserInputError, match="'clips' list"):
        load_oscc_pnr(write_json(tmp_path / "list.json", []))


def test_lta_records_and_taxonomy(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", lta_file([lta_action("c", 4, 3, 7)]))
    action = load_lta(path)[0]
    assert action == LtaAction("c", "video", 4, 4.0, 6.0, 120, 180, 3, 7, verb="verb3", noun="noun7", clip_id=3)
    assert action.key == "c_4"
    tax = load_lta_taxonomy(write_json(tmp_path / "t.json", {"verbs": ["a", "b"], "nouns": ["x", "y", "z"]}))
    assert (tax.num_verbs, tax.num_nouns) == (2, 3)
    with pytest.raises(UserInputError, match="outside the taxonomy range 0..1") as info:
        load_lta(path, taxonomy=tax)  # verb 3 with 2 verbs
    assert info.value.field == "verb_label"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"verb_label": 115}, "verb_label", "outside the taxonomy range 0..114"),
    ({"noun_label": -1}, "noun_label", "outside the taxonomy range 0..477"),
    ({"action_clip_end_sec": 1.0}, "action_clip_end_sec", "must be at or after"),
    ({"action_idx": "4"}, "action_idx", "expected an integer"),
])
def test_lta_errors(tmp_path: Path, change: dict, field: str, message: str) -> None:
    action = lta_action("c", 4, 3, 7)
    action.update(change)
    with pytest.raises(UserInputError, match=message) as info:
        load_lta(write_json(tmp_path / "a.json", lta_file([action])))
    assert info.value.field == field


def test_lta_duplicate_action_and_bad_taxonomy(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", lta_file([lta_action("c", 1, 0, 0), lta_action("c", 1, 2, 2)]))
    with pytest.raises(UserInputError, match="more than once"):
        load_lta(path)
    with pytest.raises(UserInputError, match="class name"):
        load_lta_taxonomy(write_json(tmp_path / "t.json", {"verbs": ["a", 3], "nouns": ["x"]}))


def test_av_records(tmp_path: Path) -> None:
    clip = av_clip("clipA", [av_person("1", [av_track("t1", [av_box(3, x=1.5)])], voice=[(0, 9)])],
                   looking=[av_seg(1, 4, "1")], talking=[av_seg(2, 8, "1", "0")])
    clips = load_av(write_json(tmp_path / "av.json", av_file([clip])))
    assert len(clips) == 1 and isinstance(clips[0], AvClip)
    c = clips[0]
    assert (c.clip_uid, c.video_uid, c.split, c.valid, c.clip_end_frame) == ("clipA", "video", "val", True, 9000)
    assert [p.person_id for p in c.persons] == ["0", "1"]
    assert c.persons[1].tracking_paths[0].track[0] == TrackBox(3, 1.5, 20.0, 30.0, 40.0, 1003, None)
    assert c.persons[1].voice_segments[0].end_frame == 9
    assert (c.social_segments_talking[0].person, c.social_segments_talking[0].target) == ("1", "0")
    assert c.social_segments_looking[0].start_frame == 1
    assert c.camera_wearer.person_id == "0"


@pytest.mark.parametrize(("mutate", "field", "message"), [
    (lambda c: c["persons"][1]["tracking_paths"][0]["track"][0].update(frame="3"),
     "persons[1].tracking_paths[0].track[0].frame", "expected an integer"),
    (lambda c: c["persons"][1]["tracking_paths"][0]["track"][0].pop("width"),
     "persons[1].tracking_paths[0].track[0].width", "missing field"),
    (lambda c: c["social_segments_looking"][0].update(end_frame=0),
     "social_segments_looking[0].end_frame", "must be at or after"),
    (lambda c: c["social_segments_talking"][0].pop("target"), "social_segments_talking[0].target", "missing"),
    (lambda c: c["persons"][1]["voice_segments"][0].update(start_frame=None),
     "persons[1].voice_segments[0].start_frame", "must not be null"),
    (lambda c: c["persons"][1].update(person_id=1), "persons[1].person_id", "expected a string"),
])
def test_av_errors(tmp_path: Path, mutate, field: str, message: str) -> None:
    clip = av_clip("clipB", [av_person("1", [av_track("t1", [av_box(3)])], voice=[(0, 9)])],
                   looking=[av_seg(1, 4, "1")], talking=[av_seg(2, 8, "1", "0")])
    mutate(clip)
    with pytest.raises(UserInputError, match=message) as info:
        load_av(write_json(tmp_path / "av.json", av_file([clip])))
    assert info.value.field == field
    assert "clipB" in str(info.value)


def test_av_duplicate_clip_and_unlabelled(tmp_path: Path) -> None:
    clip = av_clip("x", [])
    with pytest.raises(UserInputError, match="more than once"):
        load_av(write_json(tmp_path / "av.json", av_file([clip, clip])))
    bare = json.loads(json.dumps(clip))
    del bare["social_segments_looking"]
    with pytest.raises(UserInputError, match="missing field"):
        load_av(write_json(tmp_path / "b.json", av_file([bare])))
    assert load_av(tmp_path / "b.json", require_labels=False)[0].social_segments_looking == ()
