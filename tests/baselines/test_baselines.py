"""Finetuning, Transfer, Late Fusion and hard parameter sharing."""

from __future__ import annotations

import torch
from torch import nn

from egot2.baselines import HardSharing, align_time
from egot2.config import FusionConfig, ModelConfig, TranslatorConfig
from egot2.methods import build_model, model_layout
from egot2.utils.params import count_parameters


def _cfg(method: str, primary: str, aux: list[str] | None = None, **kw: object) -> ModelConfig:
    return ModelConfig(method=method, primary=primary, aux=aux, fusion=FusionConfig(hidden=32), **kw)


def test_which_features_each_baseline_reads() -> None:
    assert {s.task for s in model_layout(_cfg("finetune", "oscc"))} == {"oscc"}
    assert {s.task for s in model_layout(_cfg("transfer", "oscc", ["ar"]))} == {"ar"}
    assert {s.task for s in model_layout(_cfg("late-fusion", "oscc"))} == {"oscc", "pnr", "ar"}


def test_baseline_shapes_and_counts() -> None:
    for method, aux in [("finetune", None), ("transfer", ["ar"]), ("late-fusion", None)]:
        cfg = _cfg(method, "pnr", aux)
        model = build_model(cfg)
        streams = {s.key: torch.randn(2, s.tokens, s.dim) for s in model_layout(cfg)}
        assert model(streams)["logits"].shape == (2, 16)
        counts = count_parameters(model)
        assert counts.trainable == counts.total > 0
    # Late fusion over PNR, OSCC, AR: LayerNorm(18688) + Linear(18688, 32) + LayerNorm(32) + the head:
    # Linear(32, 16) on the pooled tokens (the paper's) or Linear(32, 1) on every frame
    width = 8192 + 8192 + 2048 + 256
    trunk = 2 * width + (width * 32 + 32) + 2 * 32
    for head, size in [("pooled", 32 * 16 + 16), ("per-frame", 32 + 1)]:
        model = build_model(_cfg("late-fusion", "pnr", keyframe_head=head))
        assert count_parameters(model).trainable == trunk + size


def test_per_frame_keyframe_head_scores_each_frame_from_that_frame() -> None:
    """Finetuning is token-wise before the per-frame head: swapping two input frames swaps their two
    logits and leaves the others. The pooled head mixes every frame into every logit."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 8192)
    swapped = x.clone()
    swapped[:, [3, 9]] = x[:, [9, 3]]
    order = list(range(16))
    order[3], order[9] = 9, 3
    per_frame = build_model(_cfg("finetune", "pnr", keyframe_head="per-frame")).eval()
    a, b = per_frame({"pnr.tokens": x})["logits"], per_frame({"pnr.tokens": swapped})["logits"]
    torch.testing.assert_close(b, a[:, order])
    pooled = build_model(_cfg("finetune", "pnr", keyframe_head="pooled")).eval()
    a, b = pooled({"pnr.tokens": x})["logits"], pooled({"pnr.tokens": swapped})["logits"]
    torch.testing.assert_close(b, a)  # a mean does not see the order
    # a transfer from AR (8 slow + 8 fast tokens) is aligned to PNR's 16 frames first
    cfg = _cfg("transfer", "pnr", ["ar"], keyframe_head="per-frame")
    streams = {s.key: torch.randn(2, s.tokens, s.dim) for s in model_layout(cfg)}
    assert build_model(cfg)(streams)["logits"].shape == (2, 16)


def test_keyframe_head_is_checked() -> None:
    import pytest

    from egot2.errors import UserInputError

    with pytest.raises(UserInputError, match="model.keyframe_head.*per-frame"):
        ModelConfig(keyframe_head="framewise")


def test_per_frame_transfer_keeps_frames() -> None:
    cfg = _cfg("transfer", "asd", ["lam"])
    model = build_model(cfg)
    out = model({"lam.frames": torch.randn(3, 11, 256)})
    assert out["logits"].shape == (3, 11, 2)


def test_transfer_needs_exactly_one_aux() -> None:
    import pytest

    from egot2.errors import UserInputError

    with pytest.raises(UserInputError, match="exactly one"):
        build_model(_cfg("transfer", "pnr", ["oscc", "ar"]))


def test_align_time() -> None:
    x = torch.arange(4.0).view(1, 4, 1)
    assert torch.equal(align_time(x, 4), x)
    y = align_time(x, 8)
    assert y.shape == (1, 8, 1) and float(y[0, 0, 0]) == 0.0 and float(y[0, -1, 0]) == 3.0
    assert align_time(torch.ones(2, 1, 3), 5).shape == (2, 5, 3)


def test_hard_sharing_one_trunk_many_heads() -> None:
    trunk = nn.Linear(6, 8)
    model = HardSharing(trunk, 8, ["lam", "ttm"], token_fn=lambda t, b, task: t(b["x"]))
    batch = {"x": torch.randn(2, 5, 6)}
    assert model(batch, "lam")["logits"].shape == (2, 2)
    loss = model(batch, "ttm")["logits"].sum()
    loss.backward()
    assert trunk.weight.grad is not None
    assert model.heads["lam"].fc["logits"].weight.grad is None  # only the asked task's head is used


def test_unknown_method_lists_valid() -> None:
    import pytest

    from egot2.errors import UserInputError

    with pytest.raises(UserInputError, match="valid: egot2-s, egot2-g, finetune, transfer, late-fusion"):
        build_model(ModelConfig(method="egot3", translator=TranslatorConfig()))


def test_primary_copies_ablation_layout() -> None:
    cfg = ModelConfig(method="egot2-s", primary="ttm", primary_copies=2,
                      translator=TranslatorConfig(dim=16, heads=2, positions="task-sinusoidal"))
    keys = [s.key for s in model_layout(cfg)]
    assert keys == ["ttm.frames", "ttm.audio", "ttm_copy1.frames", "ttm_copy1.audio", "ttm_copy2.frames",
                    "ttm_copy2.audio"]
    assert build_model(cfg) is not None
    import pytest

    from egot2.errors import UserInputError

    cfg.aux = ["lam"]
    with pytest.raises(UserInputError, match="primary_copies"):
        model_layout(cfg)
