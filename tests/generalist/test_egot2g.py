"""EgoT2-g: cached generation equals recomputation, prompts condition the answer, joint training."""

from __future__ import annotations

import torch

from egot2.config import ModelConfig, TranslatorConfig
from egot2.config.schema import GeneralistConfig
from egot2.generalist import EgoT2G
from egot2.generalist.weighting import LossWeighting
from egot2.methods import build_model, generalist_layouts
from egot2.tasks import get_task
from egot2.translator import InputStream


def _small_hh() -> EgoT2G:
    tasks = [get_task(t) for t in ("lam", "ttm", "asd")]
    layout = [InputStream(t, "frames", None, 8) for t in ("lam", "ttm", "asd")]
    cfg = TranslatorConfig(dim=16, layers=1, heads=2, ffn=32, dropout=0.0, positions="task-sinusoidal")
    return EgoT2G(tasks, layout, cfg, decoder_layers=2, max_len=16)


def _small_hoi() -> EgoT2G:
    tasks = [get_task(t) for t in ("pnr", "oscc", "ar", "lta")]
    layout = [InputStream("pnr", "tokens", 4, 8), InputStream("ar", "slow", 2, 6)]
    cfg = TranslatorConfig(dim=16, layers=1, heads=2, ffn=32, dropout=0.0, max_tokens=6)
    return EgoT2G(tasks, layout, cfg, decoder_layers=2, max_len=48)


def test_cache_equals_recompute_lta_42_tokens() -> None:
    model = _small_hoi().eval()
    streams = {"pnr.tokens": torch.randn(3, 4, 8), "ar.slow": torch.randn(3, 2, 6)}
    for constrained in (True, False):
        a = model.generate(streams, "lta", constrained=constrained, use_cache=True)
        b = model.generate(streams, "lta", constrained=constrained, use_cache=False)
        assert a.tokens.shape == (3, 41)  # 40 value tokens + </s> after the prompt
        assert torch.equal(a.tokens, b.tokens)
        finite = torch.isfinite(a.logits)
        assert torch.equal(finite, torch.isfinite(b.logits))
        assert float((a.logits[finite] - b.logits[finite]).abs().max()) < 1e-5


def test_constrained_decoding_gives_valid_answers() -> None:
    model = _small_hoi().eval()
    streams = {"pnr.tokens": torch.randn(2, 4, 8), "ar.slow": torch.randn(2, 2, 6)}
    out = model.generate(streams, "lta", constrained=True)
    assert int(out.invalid.sum()) == 0
    assert out.labels["verb"].shape == (2, 20) and int(out.labels["noun"].max()) < 478
    assert int(out.tokens[0, -1]) == model.vocab.end


def test_prompt_conditions_the_answer() -> None:
    model = _small_hh().eval()
    streams = {k: torch.randn(2, 5, 8) for k in ("lam.frames", "ttm.frames", "asd.frames")}
    lam = model.generate(streams, "lam", constrained=False)
    ttm = model.generate(streams, "ttm", constrained=False)
    assert not torch.allclose(lam.logits[:, 0], ttm.logits[:, 0])
    asd = model.generate(streams, "asd", frames=5)
    assert asd.labels["label"].shape == (2, 5)
    assert lam.prompt_attention is not None and lam.prompt_attention.shape == (2, 2, 15)
    torch.testing.assert_close(lam.prompt_attention.sum(-1), torch.ones(2, 2))


def test_joint_training_lowers_every_task_loss() -> None:
    torch.manual_seed(0)
    model = _small_hh()
    g = torch.Generator().manual_seed(5)
    data = {}
    for task in ("lam", "ttm", "asd"):
        streams = {k: torch.randn(16, 5, 8, generator=g) for k in ("lam.frames", "ttm.frames", "asd.frames")}
        cue = streams[f"{task}.frames"][..., 0]  # (B, T): the label is planted in the task's own stream
        label = (cue > 0).long() if task == "asd" else (cue.mean(1) > 0).long()
        data[task] = (streams, {"label": label})
    weighting = LossWeighting(list(data), "equal")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def losses() -> dict[str, torch.Tensor]:
        return {t: model.task_loss(t, s, None, lab) for t, (s, lab) in data.items()}

    first = {t: v.item() for t, v in losses().items()}
    for _ in range(40):
        total = weighting(losses())  # one batch per task, summed, one update
        opt.zero_grad()
        total.backward()
        opt.step()
    last = {t: v.item() for t, v in losses().items()}
    for t in data:
        assert last[t] < 0.7 * first[t], (t, first[t], last[t])


def test_loss_weightings() -> None:
    losses = {"a": torch.tensor(2.0), "b": torch.tensor(1.0)}
    assert float(LossWeighting(["a", "b"], "equal")(losses)) == 3.0
    unc = LossWeighting(["a", "b"], "uncertainty")
    with torch.no_grad():
        unc.log_vars.copy_(torch.tensor([0.0, 1.0]))
    # exp(0)*2 + 0 + exp(-1)*1 + 1
    assert abs(unc(losses).item() - (2 + torch.exp(torch.tensor(-1.0)).item() + 1)) < 1e-6
    dwa = LossWeighting(["a", "b"], "dwa", temperature=1.0)
    for epoch_losses in ({"a": 4.0, "b": 1.0}, {"a": 2.0, "b": 1.0}):
        dwa({k: torch.tensor(v) for k, v in epoch_losses.items()})
        dwa.end_epoch()
    w = dwa.weights()  # ratios a 0.5, b 1.0 -> 2 * softmax([0.5, 1.0])
    e = torch.softmax(torch.tensor([0.5, 1.0]), 0) * 2
    assert abs(w["a"] - e[0].item()) < 1e-6 and w["b"] > w["a"]


def test_generalist_layouts_paper_rules() -> None:
    cfg = ModelConfig(method="egot2-g", generalist=GeneralistConfig(cluster="human-object"))
    layouts = generalist_layouts(cfg)
    assert [s.key for s in layouts["pnr"]] == ["pnr.tokens", "oscc.tokens", "ar.slow", "ar.fast"]
    assert [s.key for s in layouts["lta"]] == ["lta.clips", "pnr.clip", "oscc.clip", "ar.clip"]
    cfg.translator = TranslatorConfig(dim=32, layers=1, heads=2, ffn=32, max_tokens=56)
    model = build_model(cfg)
    assert isinstance(model, EgoT2G) and "pnr__clip" not in model.encoder.proj  # shares pnr.tokens' projection


def test_per_frame_answers_align_with_frames() -> None:
    """ASD: the decoder's step p must read frame p; learnt from 400 clips and generalised to new ones."""
    torch.manual_seed(0)
    model = _small_hh()
    g = torch.Generator().manual_seed(0)

    def clips(n: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        streams = {k: torch.randn(n, 5, 8, generator=g) for k in ("lam.frames", "ttm.frames", "asd.frames")}
        return streams, (streams["asd.frames"][..., 0] > 0).long()  # (B, T): frame t's label is in frame t

    train, labels = clips(400)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(350):
        i = torch.randint(0, 400, (16,), generator=g)
        loss = model.task_loss("asd", {k: v[i] for k, v in train.items()}, None, {"label": labels[i]})
        opt.zero_grad()
        loss.backward()
        opt.step()
    val, val_labels = clips(48)
    model.eval()
    acc = (model.generate(val, "asd", frames=5).labels["label"] == val_labels).float().mean().item()
    assert acc > 0.9
