"""Frame transforms: sizes, normalisation, face crops from boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egot2.data.transforms import KINETICS_MEAN, KINETICS_STD, PROFILES, FrameTransform, task_transform
from egot2.errors import UserInputError


def test_resize_and_scale() -> None:
    frames = np.full((3, 40, 80, 3), 255, np.uint8)
    out = FrameTransform(16, scale=1.0).frames(frames)
    assert out.shape == (3, 3, 16, 16) and torch.allclose(out, torch.full_like(out, 255.0))


def test_short_side_then_centre_crop() -> None:
    frames = np.zeros((1, 40, 80, 3), np.uint8)
    frames[:, :, 40:] = 200  # right half bright
    out = FrameTransform(20, short_side=20, scale=1.0).frames(frames)  # 40x80 -> 20x40 -> crop cols 10..30
    assert out.shape == (1, 3, 20, 20)
    assert out[0, 0, :, :8].max() < 1 and out[0, 0, :, 12:].min() > 199  # the crop is centred on the edge


def test_kinetics_normalisation() -> None:
    frames = np.full((1, 8, 8, 3), 255, np.uint8)
    out = FrameTransform(8, mean=KINETICS_MEAN, std=KINETICS_STD).frames(frames)
    assert torch.allclose(out, torch.full_like(out, (1.0 - 0.45) / 0.225))


def test_face_crop_takes_the_box() -> None:
    frames = np.zeros((2, 60, 80, 3), np.uint8)
    frames[:, 10:30, 40:60] = (250, 10, 10)  # a red square
    boxes = np.array([[40, 10, 60, 30], [30, 10, 50, 30]], float)  # the square; half outside it
    out = FrameTransform(8, scale=1.0).faces(frames, boxes)
    assert out.shape == (2, 3, 8, 8)
    assert out[0, 0].min() > 240 and out[0, 1].max() < 20
    assert out[1, 0, :, :3].max() < 1 and out[1, 0, :, 5:].min() > 240  # left half black, right half red


def test_face_crop_outside_the_frame_and_missing_boxes_are_black() -> None:
    frames = np.full((2, 20, 20, 3), 100, np.uint8)
    boxes = np.array([[-20, -20, -5, -5], [np.nan] * 4])
    out = FrameTransform(4, scale=1.0).faces(frames, boxes)
    assert torch.all(out == 0)


def test_grey_faces() -> None:
    frames = np.zeros((1, 10, 10, 3), np.uint8)
    frames[..., 1] = 100
    out = FrameTransform(5, scale=1.0, grey=True).faces(frames, np.array([[0, 0, 10, 10]]))
    assert out.shape == (1, 1, 5, 5) and torch.allclose(out, torch.full_like(out, 58.7), atol=1e-3)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_task_has_a_transform(profile: str) -> None:
    for task in ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd"):
        assert task_transform(task, profile).size > 0
    assert task_transform("asd", profile).grey


def test_unknown_profile() -> None:
    with pytest.raises(UserInputError, match="profile"):
        task_transform("ar", "kinetics")


def test_clips_layout_equals_per_clip_transform() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (8, 6, 6, 3), dtype=np.uint8)
    t = FrameTransform(6, mean=KINETICS_MEAN, std=KINETICS_STD)
    both = t.frames(frames, layout="cthw", clips=2)
    assert both.shape == (2, 3, 4, 6, 6)
    assert torch.allclose(both[1], t.frames(frames[4:], layout="cthw"))
    assert torch.allclose(t.frames(frames, layout="cthw"), t.frames(frames).permute(1, 0, 2, 3))
    resized = FrameTransform(3, mean=KINETICS_MEAN, std=KINETICS_STD)
    assert torch.allclose(resized.frames(frames, layout="cthw", clips=2)[0], resized.frames(frames[:4], layout="cthw"))
