"""Every task's output as a token sequence ``[prompt, value tokens..., </s>]``, and back.

PNR -> its keyframe index; OSCC/LAM/TTM -> ``false``/``true``; AR -> a verb sequence and a noun
sequence (one prompt each); LTA -> the 20 future (verb, noun) pairs interleaved, 40 value tokens;
ASD -> one ``false``/``true`` per frame. The tokenizer also knows which tokens are valid at each step,
for constrained decoding.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from egot2.generalist.vocab import FALSE, TRUE, Vocabulary, prompt_heads
from egot2.tasks import OutputKind, TaskSpec
from egot2.tasks.losses import IGNORE_INDEX


class TaskTokenizer:
    """Tokenizer and detokenizer of one task over a shared :class:`Vocabulary`.

    Args:
        spec: the task.
        vocab: the shared vocabulary.
    """

    def __init__(self, spec: TaskSpec, vocab: Vocabulary) -> None:
        self.spec, self.vocab = spec, vocab
        self.kind = spec.output.kind
        self.heads = prompt_heads(spec)
        self.prompt_ids = {h: vocab.id(f"<{h}>") for h in self.heads}
        if self.kind in (OutputKind.BINARY, OutputKind.FRAME_BINARY):
            self.values = [vocab.id(FALSE), vocab.id(TRUE)]
        elif self.kind is OutputKind.KEYFRAME:
            self.values = vocab.ids("frame:", spec.output.num_classes)
        if self.kind in (OutputKind.VERB_NOUN, OutputKind.SEQUENCE):
            self.verbs = vocab.ids("verb:", spec.output.num_verbs)
            self.nouns = vocab.ids("noun:", spec.output.num_nouns)

    # -- lengths and valid tokens -------------------------------------------------------------------
    def answer_length(self, frames: int = 1) -> int:
        """Value tokens in an answer (the ``</s>`` not counted)."""
        if self.kind is OutputKind.SEQUENCE:
            return 2 * self.spec.output.steps
        if self.kind is OutputKind.FRAME_BINARY:
            return frames
        return 1

    def allowed(self, head: str, step: int) -> list[int]:
        """Token ids valid as value token number ``step`` (0-based) of ``head``'s answer."""
        if self.kind is OutputKind.SEQUENCE:
            return self.verbs if step % 2 == 0 else self.nouns
        if self.kind is OutputKind.VERB_NOUN:
            return self.verbs if head.endswith("_verb") else self.nouns
        return self.values

    # -- encoding -----------------------------------------------------------------------------------
    def encode(self, labels: Mapping[str, Tensor], head: str) -> Tensor:
        """Target sequences (B, M) ``[prompt, values..., </s>, <pad>...]`` for ``head``."""
        v = self.vocab
        if self.kind is OutputKind.FRAME_BINARY:
            lab = labels["label"].long()  # (B, T), IGNORE_INDEX = padding
            rows = []
            for row in lab:
                vals = row[row != IGNORE_INDEX]
                rows.append([self.prompt_ids[head], *[self.values[int(x)] for x in vals], v.end])
            width = max(len(r) for r in rows)
            return torch.tensor([r + [v.pad] * (width - len(r)) for r in rows], dtype=torch.long)
        if self.kind is OutputKind.SEQUENCE:
            verb = torch.tensor(self.verbs)[labels["verb"].long()]  # (B, Z)
            noun = torch.tensor(self.nouns)[labels["noun"].long()]
            body = torch.stack([verb, noun], dim=-1).flatten(1)  # (B, 2Z) interleaved
        elif self.kind is OutputKind.VERB_NOUN:
            key, table = ("verb", self.verbs) if head.endswith("_verb") else ("noun", self.nouns)
            body = torch.tensor(table)[labels[key].long()].unsqueeze(1)  # (B, 1)
        else:
            body = torch.tensor(self.values)[labels["label"].long()].unsqueeze(1)  # (B, 1)
        b = body.shape[0]
        prompt = torch.full((b, 1), self.prompt_ids[head], dtype=torch.long)
        end = torch.full((b, 1), v.end, dtype=torch.long)
        return torch.cat([prompt, body, end], dim=1)

    # -- decoding -----------------------------------------------------------------------------------
    def decode(self, tokens: Tensor, head: str) -> tuple[dict[str, Tensor], Tensor]:
        """Labels from generated value tokens (B, L) (prompt excluded), and a (B,) count of invalid ones.

        An invalid token (outside the valid set of its step) decodes to class 0 and is counted. For
        per-frame answers a ``</s>`` ends the row; the frames after it are ``IGNORE_INDEX``.
        """
        b, n = tokens.shape
        invalid = torch.zeros(b, dtype=torch.long)

        def lookup(ids: Tensor, table: list[int]) -> Tensor:
            index = {t: i for i, t in enumerate(table)}
            out = torch.zeros_like(ids)
            for i, row in enumerate(ids.tolist()):
                for j, t in enumerate(row):
                    if t in index:
                        out[i, j] = index[t]
                    else:
                        invalid[i] += 1
            return out

        if self.kind is OutputKind.SEQUENCE:
            z = self.spec.output.steps
            body = tokens[:, : 2 * z]
            return {"verb": lookup(body[:, 0::2], self.verbs), "noun": lookup(body[:, 1::2], self.nouns)}, invalid
        if self.kind is OutputKind.VERB_NOUN:
            key, table = ("verb", self.verbs) if head.endswith("_verb") else ("noun", self.nouns)
            return {key: lookup(tokens[:, :1], table)[:, 0]}, invalid
        if self.kind is OutputKind.FRAME_BINARY:
            # A row ends at its first </s> or <pad> (a shorter face track); later frames are padding.
            stop = (tokens == self.vocab.end) | (tokens == self.vocab.pad)
            after = stop.long().cumsum(dim=1) > 0
            labels = lookup(tokens.masked_fill(after, self.values[0]), self.values)
            return {"label": labels.masked_fill(after, IGNORE_INDEX)}, invalid
        return {"label": lookup(tokens[:, :1], self.values)[:, 0]}, invalid
