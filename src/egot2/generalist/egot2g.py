"""EgoT2-g: one task-general translator (paper Sec. 3.2).

The :class:`~egot2.translator.token_encoder.TokenEncoder` of EgoT2-s encodes whichever task streams a
batch provides; a :class:`SequenceDecoder` cross-attends to them and answers the task named by the
prompt token, token by token. Training is teacher forced with the prompt position weighted 0 (w_1);
generation is greedy (argmax), with a key/value cache, optionally constrained to the tokens valid for
the task at each step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from egot2.config.schema import TranslatorConfig
from egot2.errors import UserInputError
from egot2.generalist.decoder import SequenceDecoder
from egot2.generalist.tokenizers import TaskTokenizer
from egot2.generalist.vocab import Vocabulary
from egot2.tasks import OutputKind, TaskSpec
from egot2.tasks.losses import IGNORE_INDEX
from egot2.translator.frame_windows import FrameWindows, split_windows
from egot2.translator.layout import InputStream
from egot2.translator.token_encoder import TokenEncoder


@dataclass
class Generation:
    """What greedy generation produced.

    Args:
        tokens: generated tokens after the prompt (B, L), ``</s>`` and padding included.
        logits: the logits each token was chosen from (B, L, V).
        labels: the detokenised answer (the task's label dict).
        invalid: invalid value tokens per clip (B,).
        prompt_attention: last-layer cross-attention of the first step (B, heads, N), the prompt's view
            (per frame window (B', heads, N') when ``translator.frame_window`` cuts the clips).
        window_clip: the clip of each frame window (B',), or None when clips were not cut.
    """

    tokens: Tensor
    logits: Tensor
    labels: dict[str, Tensor]
    invalid: Tensor
    prompt_attention: Tensor | None = None
    window_clip: Tensor | None = None


class EgoT2G(nn.Module):
    """The task-general translator.

    Args:
        tasks: every task it answers.
        layout: the union of the streams those tasks' clips provide.
        cfg: encoder hyperparameters (the decoder uses the same width, heads and FFN).
        decoder_layers: decoder depth.
        max_len: longest decoded sequence (prompt + answer + end).
        vocab: the shared vocabulary (default: built from ``tasks``).
        frame_answer_dropout: in training, hide each previous answer token of a per-frame answer with
            this probability (shown as ``<pad>``), so that the decoder reads the encoder at every frame
            instead of copying the previous frame's answer.
        frame_decoding: ``greedy`` (per-frame answers token by token) or ``parallel`` (every previous
            answer hidden, in training too; one pass at generation).
        keyframe_answers: how a keyframe task's answer token ``frame:k`` is scored: ``vocabulary`` (an
            output row per frame token, as any other token) or ``pointer`` (read off the task's own
            frame token k in the encoder memory; see :class:`SequenceDecoder`). The pointer applies
            whenever a batch carries that task's frame stream; without it the vocabulary rows answer.
    """

    def __init__(
        self,
        tasks: Sequence[TaskSpec],
        layout: Sequence[InputStream],
        cfg: TranslatorConfig,
        decoder_layers: int = 1,
        max_len: int = 64,
        vocab: Vocabulary | None = None,
        frame_answer_dropout: float = 0.0,
        frame_decoding: str = "greedy",
        keyframe_answers: str = "vocabulary",
    ) -> None:
        super().__init__()
        self.tasks = {t.name: t for t in tasks}
        self.vocab = vocab or Vocabulary.build(tasks)
        self.tokenizers = {t.name: TaskTokenizer(t, self.vocab) for t in tasks}
        self.head_task = {h: name for name, tok in self.tokenizers.items() for h in tok.heads}
        self.encoder = TokenEncoder(layout, cfg, require_all=False)
        self.pointer_stream, pointer_ids = self._pointer(tasks, layout, keyframe_answers)
        self.decoder = SequenceDecoder(len(self.vocab), cfg.dim, decoder_layers, cfg.heads, cfg.ffn, max_len,
                                       cfg.dropout, cfg.attn_dropout, pointer_ids=pointer_ids)
        self.frame_answer_dropout, self.frame_decoding = frame_answer_dropout, frame_decoding

    def _pointer(self, tasks: Sequence[TaskSpec], layout: Sequence[InputStream], answers: str
                 ) -> tuple[str | None, list[int]]:
        """The stream the keyframe pointer reads and the ``frame:k`` ids it scores (none: vocabulary)."""
        if answers == "vocabulary":
            return None, []
        if answers != "pointer":
            raise UserInputError(f"must be vocabulary or pointer, got {answers!r}",
                                 field="model.generalist.keyframe_answers")
        for spec in tasks:
            if spec.output.kind is not OutputKind.KEYFRAME:
                continue
            frames = spec.output.num_classes
            own = [s for s in layout if s.task == spec.name and s.tokens == frames]
            if own:
                return own[0].key, self.tokenizers[spec.name].values
        return None, []  # no keyframe task, or none of its streams has one token per frame

    def frame_tokens(self, memory: Tensor, streams: Mapping[str, Tensor]) -> Tensor | None:
        """The memory tokens (B, K, D) of the keyframe task's frames, which the pointer reads; None when
        the batch does not carry that stream (or there is no pointer)."""
        if self.pointer_stream is None:
            return None
        for key, start, end in self.encoder.segments(streams):
            if key == self.pointer_stream and end - start == len(self.decoder.pointer_ids):
                return memory[:, start:end]
        return None

    def windows(self, task: str, streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None
                ) -> tuple[dict[str, Tensor], dict[str, Tensor], FrameWindows] | None:
        """``task``'s streams cut into frame windows (per-frame tasks, ``translator.frame_window`` > 0),
        or None when the clips are read whole."""
        if self.tasks[task].output.kind is not OutputKind.FRAME_BINARY:
            return None
        return split_windows(self.encoder.layout, streams, masks, self.encoder.cfg.frame_window)

    def segments(self, task: str, streams: Mapping[str, Tensor]) -> list[tuple[str, int, int]]:
        """``(stream key, start, end)`` in the memory the decoder reads for ``task`` (of one window)."""
        windows = self.windows(task, streams, None)
        return self.encoder.segments(streams if windows is None else windows[0])

    def tokenizer(self, head: str) -> TaskTokenizer:
        """The tokenizer that owns prompt ``head``; a miss lists the valid prompts."""
        if head not in self.head_task:
            raise UserInputError(f"unknown prompt {head!r}; valid: {', '.join(self.head_task)}", field="prompt")
        return self.tokenizers[self.head_task[head]]

    def hidden_answers(self, kind: OutputKind) -> tuple[float, bool]:
        """How the decoder reads the previous answers of a ``kind`` answer in :meth:`loss`: ``(dropout in
        training, hide them all always)``. Per-frame answers decoded in ``parallel`` never see them (in
        training and in validation alike, as in generation); greedy ones lose each with probability
        ``frame_answer_dropout`` in training."""
        if kind is not OutputKind.FRAME_BINARY:
            return 0.0, False
        if self.frame_decoding == "parallel":
            return 0.0, True
        return self.frame_answer_dropout, False

    def loss(self, streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None, targets: Tensor,
             answer_dropout: float = 0.0, hide_answers: bool = False) -> Tensor:
        """Teacher-forced cross-entropy of ``targets`` (B, M) ``[prompt, answer, </s>, pad]``.

        Position j of the sequence is predicted from positions < j; the prompt (j = 1 in the paper) has
        weight 0 because it is always given, padding is ignored. The answer tokens the decoder reads
        (never the prompt) are all replaced by ``<pad>`` with ``hide_answers``, or in training each with
        probability ``answer_dropout``; the targets stay whole.
        """
        memory, mask, _ = self.encoder(streams, masks)
        inputs = targets[:, :-1]  # (B, M-1)
        if hide_answers or (self.training and answer_dropout > 0):
            hide = torch.ones_like(inputs, dtype=torch.bool) if hide_answers else \
                torch.rand(inputs.shape, device=inputs.device) < answer_dropout
            hide[:, 0] = False  # the prompt is always given
            inputs = inputs.masked_fill(hide, self.vocab.pad)
        logits, _ = self.decoder(inputs, memory, None if mask is None else ~mask,
                                 frames=self.frame_tokens(memory, streams))  # (B, M-1, V)
        gold = targets[:, 1:].masked_fill(targets[:, 1:] == self.vocab.pad, -100)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), gold.reshape(-1), ignore_index=-100)

    def task_loss(self, task: str, streams: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None,
                  labels: Mapping[str, Tensor]) -> Tensor:
        """The summed loss over every prompt head of ``task`` for one batch of its clips."""
        tok = self.tokenizers[task]
        windows = self.windows(task, streams, masks)
        if windows is not None:  # per-frame labels cut like the streams
            streams, masks, index = windows
            labels = {"label": index.split(labels["label"], fill=IGNORE_INDEX)}  # (B', W)
        total = None
        hide = self.hidden_answers(tok.kind)
        for head in tok.heads:
            loss = self.loss(streams, masks, tok.encode(labels, head).to(next(self.parameters()).device), *hide)
            total = loss if total is None else total + loss
        assert total is not None
        return total

    @torch.no_grad()
    def generate(
        self,
        streams: Mapping[str, Tensor],
        head: str,
        masks: Mapping[str, Tensor] | None = None,
        frames: int = 1,
        constrained: bool = True,
        use_cache: bool = True,
    ) -> Generation:
        """Greedy answer to prompt ``head`` for a batch.

        Args:
            streams: the task's token streams.
            head: the prompt (``"pnr"``, ``"ar_verb"`` ...).
            masks: stream masks.
            frames: frames to label (per-frame tasks).
            constrained: allow only the tokens valid at each step.
            use_cache: reuse keys/values between steps (same tokens, faster); else recompute the prefix.
        """
        tok = self.tokenizer(head)
        windows = self.windows(self.head_task[head], streams, masks)
        if windows is not None:
            return self._generate_windows(windows, head, constrained, use_cache)
        memory, mask, _ = self.encoder(streams, masks)
        pad = None if mask is None else ~mask
        b = memory.shape[0]
        steps = tok.answer_length(frames)
        if tok.kind is OutputKind.FRAME_BINARY and self.frame_decoding == "parallel":
            return self._generate_parallel(memory, pad, head, steps, constrained, self.frame_tokens(memory, streams))
        frames = self.frame_tokens(memory, streams)
        seq = torch.full((b, 1), tok.prompt_ids[head], dtype=torch.long, device=memory.device)
        cache = self.decoder.start_cache(memory, frames) if use_cache else None
        logits_all, attention = [], None
        for step in range(steps + 1):
            if cache is not None:
                logits, w = self.decoder.step(seq[:, -1:] if step else seq, cache, pad, need_weights=step == 0)
            else:
                full, w = self.decoder(seq, memory, pad, need_weights=step == 0, frames=frames)
                logits, w = full[:, -1], [x[:, :, -1] for x in w]
            if step == 0:
                attention = w[-1].reshape(b, w[-1].shape[1], -1)  # (B, heads, N): the prompt's query
            if constrained:
                allowed = tok.allowed(head, step) if step < steps else [self.vocab.end]
                bias = torch.full_like(logits, float("-inf"))
                bias[:, allowed] = 0.0
                logits = logits + bias
            logits_all.append(logits)
            seq = torch.cat([seq, logits.argmax(dim=-1, keepdim=True)], dim=1)
        generated = seq[:, 1:]
        labels, invalid = tok.decode(generated[:, :steps].cpu(), head)
        return Generation(generated, torch.stack(logits_all, dim=1), labels, invalid, attention)

    def _generate_parallel(self, memory: Tensor, pad: Tensor | None, head: str, steps: int, constrained: bool,
                           frames: Tensor | None = None) -> Generation:
        """A per-frame answer in one decoder pass: the prompt, then ``<pad>`` for every previous answer
        (as :meth:`loss` shows them in ``parallel`` mode), so frame t's answer reads the encoder and not
        the answers before it."""
        tok = self.tokenizer(head)
        b = memory.shape[0]
        seq = torch.full((b, steps + 1), self.vocab.pad, dtype=torch.long, device=memory.device)
        seq[:, 0] = tok.prompt_ids[head]
        logits, w = self.decoder(seq, memory, pad, need_weights=True, frames=frames)  # (B, steps + 1, V)
        attention = w[-1][:, :, 0].reshape(b, w[-1].shape[1], -1)  # (B, heads, N): the prompt's query
        if constrained:
            bias = torch.full_like(logits, float("-inf"))
            bias[:, :steps, tok.values] = 0.0
            bias[:, steps, self.vocab.end] = 0.0
            logits = logits + bias
        generated = logits.argmax(dim=-1)  # (B, steps + 1)
        labels, invalid = tok.decode(generated[:, :steps].cpu(), head)
        return Generation(generated, logits, labels, invalid, attention)

    def _generate_windows(self, windows: tuple[dict[str, Tensor], dict[str, Tensor], FrameWindows], head: str,
                          constrained: bool, use_cache: bool) -> Generation:
        """Answer every frame window, then put each clip's frames back together."""
        streams, masks, index = windows
        tok = self.tokenizer(head)
        gen = self.generate(streams, head, masks, frames=index.window, constrained=constrained, use_cache=use_cache)
        w = index.window
        tokens = index.merge(gen.tokens[:, :w], fill=self.vocab.pad)  # (B, T)
        logits = index.merge(gen.logits[:, :w])  # (B, T, V)
        b = tokens.shape[0]
        end = torch.full((b, 1), self.vocab.end, dtype=tokens.dtype, device=tokens.device)
        end_logits = torch.full((b, 1, logits.shape[-1]), float("-inf"), device=logits.device)
        end_logits[..., self.vocab.end] = 0.0
        labels, _ = tok.decode(tokens.cpu(), head)
        invalid = torch.zeros(b, dtype=gen.invalid.dtype).index_add_(0, index.clip, gen.invalid)
        return Generation(torch.cat([tokens, end], dim=1), torch.cat([logits, end_logits], dim=1), labels, invalid,
                          gen.prompt_attention, index.clip)
