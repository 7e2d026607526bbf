"""The seven Ego4D task specs carry the dims and rules of REFERENCE section 1."""

from __future__ import annotations

import pytest

from egot2.errors import UserInputError
from egot2.tasks import OutputKind, get_task, task_names


def test_seven_tasks_registered_in_order() -> None:
    assert task_names()[:7] == ["pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"]


@pytest.mark.parametrize(
    ("task", "streams"),
    [
        ("pnr", {"tokens": (16, 8192)}),
        ("oscc", {"tokens": (16, 8192)}),
        ("ar", {"slow": (8, 2048), "fast": (8, 256)}),
        ("lta", {"clips": (2, 2048)}),
        ("lam", {"frames": (None, 256)}),
        ("ttm", {"frames": (None, 256), "audio": (1, 512)}),
        ("asd", {"frames": (None, 256), "visual": (None, 128)}),
    ],
)
def test_stream_dims(task: str, streams: dict[str, tuple[int | None, int]]) -> None:
    spec = get_task(task)
    assert {s.name: (s.tokens, s.dim) for s in spec.streams} == streams


def test_output_kinds_and_losses() -> None:
    assert get_task("pnr").output.kind is OutputKind.KEYFRAME and get_task("pnr").output.num_classes == 16
    assert get_task("pnr").loss.kind == "bce_onehot"
    assert get_task("ar").output.num_verbs == 115 and get_task("ar").output.num_nouns == 478
    assert get_task("lta").output.steps == 20
    assert get_task("ttm").loss.class_weights == (0.266, 0.734)
    assert get_task("asd").loss.class_weights == (1.0, 4.0)
    assert get_task("asd").output.kind is OutputKind.FRAME_BINARY


def test_span_rule() -> None:
    pnr, lta, ttm = get_task("pnr"), get_task("lta"), get_task("ttm")
    assert get_task("ar").fits_in(pnr)  # 2.13 s window slides over an 8 s clip
    assert not lta.fits_in(pnr)  # two observed clips: longer than any other task's clip
    assert get_task("lam").fits_in(ttm) and get_task("asd").fits_in(ttm)


def test_video_only_primary_gets_video_pathway() -> None:
    asd = get_task("asd")
    assert [s.name for s in asd.streams_for(("video",))] == ["visual"]
    assert [s.name for s in asd.streams_for(("video", "audio"))] == ["frames"]
    assert [s.name for s in get_task("ttm").streams_for(("video",))] == ["frames"]


def test_unknown_stream_lists_valid() -> None:
    with pytest.raises(UserInputError, match="valid: \\['slow', 'fast'\\]"):
        get_task("ar").stream("medium")
