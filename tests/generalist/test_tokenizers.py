"""Every task's output survives tokenize -> detokenize; the vocabulary's reserved ranges."""

from __future__ import annotations

import pytest
import torch

from egot2.generalist import TaskTokenizer, Vocabulary
from egot2.tasks import get_task
from egot2.tasks.losses import IGNORE_INDEX

ALL = [get_task(t) for t in ("pnr", "oscc", "ar", "lta", "lam", "ttm", "asd")]


def test_vocabulary_ranges_and_size() -> None:
    hoi = Vocabulary.build([get_task(t) for t in ("pnr", "oscc", "ar", "lta")])
    # 2 special + 5 prompts (pnr, oscc, ar_verb, ar_noun, lta) + 2 booleans + 16 frames + 115 verbs + 478 nouns
    assert len(hoi) == 2 + 5 + 2 + 16 + 115 + 478 == 618
    assert hoi.tokens[:7] == ["<pad>", "</s>", "<pnr>", "<oscc>", "<ar_verb>", "<ar_noun>", "<lta>"]
    assert hoi.tokens[7:9] == ["false", "true"] and hoi.tokens[9] == "frame:0" and hoi.tokens[-1] == "noun:477"
    hh = Vocabulary.build([get_task(t) for t in ("lam", "ttm", "asd")])
    assert hh.tokens == ["<pad>", "</s>", "<lam>", "<ttm>", "<asd>", "false", "true"]
    assert Vocabulary.from_json(hoi.to_json()).tokens == hoi.tokens


def _labels(task: str) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    if task == "pnr":
        return {"label": torch.tensor([0, 7, 15])}
    if task in ("oscc", "lam", "ttm"):
        return {"label": torch.tensor([1, 0, 1])}
    if task == "ar":
        return {"verb": torch.tensor([0, 114, 5]), "noun": torch.tensor([477, 0, 9])}
    if task == "lta":
        return {"verb": torch.randint(0, 115, (3, 20), generator=g), "noun": torch.randint(0, 478, (3, 20), generator=g)}
    lab = torch.randint(0, 2, (3, 6), generator=g)
    lab[1, 4:] = IGNORE_INDEX  # a shorter face track
    return {"label": lab}


@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.name)
def test_round_trip(spec) -> None:
    vocab = Vocabulary.build(ALL)
    tok = TaskTokenizer(spec, vocab)
    labels = _labels(spec.name)
    for head in tok.heads:
        seq = tok.encode(labels, head)
        assert bool((seq[:, 0] == vocab.id(f"<{head}>")).all())
        back, invalid = tok.decode(seq[:, 1:], head)
        assert int(invalid.sum()) == 0
        for key, value in back.items():
            if spec.name == "asd":
                valid = labels["label"] != IGNORE_INDEX
                assert torch.equal(value[:, : valid.shape[1]][valid], labels["label"][valid])
            else:
                assert torch.equal(value, labels[key])


def test_lta_answer_is_42_tokens() -> None:
    tok = TaskTokenizer(get_task("lta"), Vocabulary.build(ALL))
    seq = tok.encode(_labels("lta"), "lta")
    assert seq.shape == (3, 42)  # prompt + 20 x (verb, noun) + </s>
    assert int(seq[0, -1]) == 1


def test_invalid_tokens_are_counted() -> None:
    vocab = Vocabulary.build(ALL)
    tok = TaskTokenizer(get_task("oscc"), vocab)
    labels, invalid = tok.decode(torch.tensor([[vocab.id("verb:3")], [vocab.id("true")]]), "oscc")
    assert invalid.tolist() == [1, 0] and labels["label"].tolist() == [0, 1]
