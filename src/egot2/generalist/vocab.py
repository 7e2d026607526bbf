"""One shared vocabulary for every task's answers (paper Sec. 3.2).

Reserved ranges, in order: special tokens (``<pad>``, ``</s>``), one prompt token per task head
(``<pnr>``, ``<ar_verb>``, ``<ar_noun>`` ...), value tokens (``false``, ``true``, ``frame:0`` ..
``frame:{N-1}``), then ``verb:i`` and ``noun:i`` for the taxonomy. The vocabulary is saved with every
EgoT2-g checkpoint as its token list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from egot2.errors import UserInputError
from egot2.tasks import OutputKind, TaskSpec

PAD, END = "<pad>", "</s>"
FALSE, TRUE = "false", "true"


def prompt_heads(spec: TaskSpec) -> list[str]:
    """The prompt names of a task: one per output head (AR has a verb and a noun head)."""
    if spec.output.kind is OutputKind.VERB_NOUN:
        return [f"{spec.name}_verb", f"{spec.name}_noun"]
    return [spec.name]


@dataclass
class Vocabulary:
    """A token list with reserved ranges.

    Args:
        tokens: every token string; the index is the token id.
    """

    tokens: list[str]
    _ids: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise UserInputError("vocabulary tokens must be unique", field="vocabulary")
        if self.tokens[:2] != [PAD, END]:
            raise UserInputError(f"vocabulary must start with {PAD!r}, {END!r}", field="vocabulary")
        self._ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, tasks: Sequence[TaskSpec]) -> Vocabulary:
        """The vocabulary for ``tasks``: their prompts, and the value tokens their outputs need."""
        prompts = [f"<{h}>" for spec in tasks for h in prompt_heads(spec)]
        frames = max((s.output.num_classes for s in tasks if s.output.kind is OutputKind.KEYFRAME), default=0)
        verbs = max((s.output.num_verbs for s in tasks), default=0)
        nouns = max((s.output.num_nouns for s in tasks), default=0)
        binary = any(s.output.kind in (OutputKind.BINARY, OutputKind.FRAME_BINARY) for s in tasks)
        values = ([FALSE, TRUE] if binary else []) + [f"frame:{i}" for i in range(frames)]
        words = [f"verb:{i}" for i in range(verbs)] + [f"noun:{i}" for i in range(nouns)]
        return cls([PAD, END, *prompts, *values, *words])

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        """The id of ``token``; a miss is an error naming it."""
        try:
            return self._ids[token]
        except KeyError:
            raise UserInputError(f"token {token!r} is not in the vocabulary", field="vocabulary") from None

    def ids(self, prefix: str, count: int) -> list[int]:
        """Ids of ``prefix0`` .. ``prefix{count-1}`` (e.g. ``"verb:"``)."""
        return [self.id(f"{prefix}{i}") for i in range(count)]

    @property
    def pad(self) -> int:
        return 0

    @property
    def end(self) -> int:
        return 1

    def to_json(self) -> list[str]:
        """The serialised form (the token list)."""
        return list(self.tokens)

    @classmethod
    def from_json(cls, tokens: list[str]) -> Vocabulary:
        """Rebuild from :meth:`to_json`."""
        return cls(list(tokens))
