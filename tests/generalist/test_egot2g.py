"""EgoT2-g: cached generation equals recomputation, prompts condition the answer, joint training."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize("decoding", ["greedy", "parallel"])
def test_per_frame_answers_align_with_frames(decoding: str) -> None:
    """ASD: the decoder's step p must read frame p; learnt from 400 clips and generalised to new ones
    (``parallel``: trained with every previous answer hidden, answered in one pass)."""
    torch.manual_seed(0)
    model = _small_hh()
    model.frame_decoding = decoding
    model.frame_answer_dropout = 1.0 if decoding == "parallel" else 0.0
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
    out = model.generate(val, "asd", frames=5)
    acc = (out.labels["label"] == val_labels).float().mean().item()
    assert acc > 0.9
    assert out.tokens.shape == (48, 6) and bool((out.tokens[:, -1] == model.vocab.end).all())


def test_frame_answer_dropout_hides_previous_answers_in_training_only() -> None:
    """With ``frame_answer_dropout`` 1 a per-frame answer's loss no longer depends on the previous labels
    (every answer token the decoder reads is ``<pad>``); evaluation and clip-level tasks are unaffected."""
    torch.manual_seed(0)
    model = _small_hh()
    streams = {k: torch.randn(4, 5, 8) for k in ("lam.frames", "ttm.frames", "asd.frames")}
    runs = torch.tensor([[0, 0, 1, 1, 1]] * 4)
    flipped = torch.tensor([[1, 0, 0, 1, 0]] * 4)  # same frame 0, other previous answers

    def asd_loss(labels: torch.Tensor) -> float:
        return model.task_loss("asd", streams, None, {"label": labels}).item()

    model.train()
    base = asd_loss(runs)
    model.frame_answer_dropout = 1.0
    hidden_runs = asd_loss(runs)
    # Hiding every previous answer: the step of frame t reads only the prompt and <pad>s, so the loss of
    # labels with the same per-frame values at the same frames is what we compute by hand from them.
    tok = model.tokenizers["asd"]
    targets = tok.encode({"label": runs}, "asd")
    inputs = targets[:, :-1].clone()
    inputs[:, 1:] = model.vocab.pad
    memory, _, _ = model.encoder(streams, None)
    logits, _ = model.decoder(inputs, memory)
    by_hand = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[:, 1:].reshape(-1))
    assert abs(hidden_runs - by_hand.item()) < 1e-5
    assert abs(hidden_runs - base) > 1e-4  # the previous answers did matter without dropout
    assert logits.shape == (4, 6, len(model.vocab))
    lam = {"label": torch.tensor([0, 1, 1, 0])}
    model.frame_answer_dropout = 0.0
    lam_plain = model.task_loss("lam", streams, None, lam).item()
    model.frame_answer_dropout = 1.0
    assert model.task_loss("lam", streams, None, lam).item() == lam_plain  # clip-level answers: untouched
    model.eval()
    model.frame_answer_dropout = 0.0
    eval_plain = asd_loss(flipped)
    model.frame_answer_dropout = 1.0
    assert asd_loss(flipped) == eval_plain  # no dropout in evaluation


def test_parallel_frame_decoding_is_the_all_hidden_teacher_forced_pass() -> None:
    """``parallel`` per-frame answers are the logits the loss computes (every previous answer hidden, in
    evaluation too), restricted to the valid tokens; clip-level answers stay greedy."""
    torch.manual_seed(1)
    model = _small_hh().eval()
    model.frame_decoding = "parallel"
    streams = {k: torch.randn(3, 5, 8) for k in ("lam.frames", "ttm.frames", "asd.frames")}
    out = model.generate(streams, "asd", frames=5)
    seq = torch.full((3, 6), model.vocab.pad)
    seq[:, 0] = model.tokenizers["asd"].prompt_ids["asd"]
    memory, _, _ = model.encoder(streams, None)
    ref, _ = model.decoder(seq, memory)  # (3, 6, V)
    values = model.tokenizers["asd"].values
    torch.testing.assert_close(out.logits[:, :5, values], ref[:, :5, values])
    assert bool(torch.isinf(out.logits[:, :5]).sum(-1).eq(len(model.vocab) - 2).all())  # only false/true allowed
    expected = ref[:, :5, values].argmax(-1)  # 0 = false, 1 = true
    assert torch.equal(out.labels["label"], expected)
    labels = torch.tensor([[0, 1, 1, 0, 1]] * 3)
    targets = model.tokenizers["asd"].encode({"label": labels}, "asd")  # (3, 7): prompt, 5 answers, </s>
    by_hand = torch.nn.functional.cross_entropy(ref.reshape(-1, ref.shape[-1]), targets[:, 1:].reshape(-1))
    torch.testing.assert_close(model.task_loss("asd", streams, None, {"label": labels}), by_hand)
    assert out.prompt_attention is not None and out.prompt_attention.shape == (3, 2, 15)
    greedy = _small_hh().eval()
    greedy.load_state_dict(model.state_dict())
    lam_parallel, lam_greedy = model.generate(streams, "lam"), greedy.generate(streams, "lam")
    assert torch.equal(lam_parallel.logits, lam_greedy.logits)


def test_frame_answer_dropout_config_range() -> None:
    from egot2.config import load_config
    from egot2.errors import UserInputError

    assert load_config([], ["model.generalist.frame_answer_dropout=0.5"]).model.generalist.frame_answer_dropout == 0.5
    with pytest.raises(UserInputError, match="frame_answer_dropout"):
        load_config([], ["model.generalist.frame_answer_dropout=1.5"])
    with pytest.raises(UserInputError, match="frame_decoding"):
        load_config([], ["model.generalist.frame_decoding=beam"])
