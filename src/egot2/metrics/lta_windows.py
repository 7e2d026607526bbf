"""The evaluated LTA windows, built as Ego4D forecasting ``clip_forecasting_dataset`` builds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from egot2.data.annotations import LtaAction

#: Input actions per window (``FORECASTING.NUM_INPUT_CLIPS`` of the EgoT2 configs).
NUM_INPUT_ACTIONS = 2
#: Future actions to predict (``FORECASTING.NUM_ACTIONS_TO_PREDICT``).
NUM_FUTURE_ACTIONS = 20
#: Candidate sequences per window in the challenge submission.
NUM_CANDIDATES = 5


@dataclass(frozen=True)
class LtaWindow:
    """One evaluated window: a few observed actions and the actions that follow them.

    Args:
        key: submission key ``"<clip_uid>_<action_idx of the last input action>"``.
        clip_uid: the clip.
        inputs: the observed actions, in order.
        future: the ground-truth future actions, in order.
    """

    key: str
    clip_uid: str
    inputs: tuple[LtaAction, ...]
    future: tuple[LtaAction, ...]

    @property
    def future_verbs(self) -> list[int]:
        """Ground-truth verb ids of the future actions."""
        return [a.verb_label for a in self.future]

    @property
    def future_nouns(self) -> list[int]:
        """Ground-truth noun ids of the future actions."""
        return [a.noun_label for a in self.future]


def lta_windows(
    actions: Iterable[LtaAction],
    num_input: int = NUM_INPUT_ACTIONS,
    num_future: int = NUM_FUTURE_ACTIONS,
) -> list[LtaWindow]:
    """Every window of ``num_input`` consecutive actions followed by ``num_future`` actions, per clip.

    Actions are grouped by ``clip_uid`` (clips in order of first appearance) and sorted by
    ``action_idx``; gaps in ``action_idx`` do not matter. A clip with M actions gives
    ``M - num_input - num_future + 1`` windows (none if that is < 1). This is the Ego4D original; the
    EgoT2 copy's ``range(M - Z - N)`` that drops each clip's last window is not reproduced.

    Args:
        actions: the annotated actions (any order).
        num_input: observed actions per window.
        num_future: future actions per window (Z).
    """
    by_clip: dict[str, list[LtaAction]] = {}
    for action in actions:
        by_clip.setdefault(action.clip_uid, []).append(action)
    span = num_input + num_future
    windows: list[LtaWindow] = []
    for clip_uid, clip_actions in by_clip.items():
        ordered = sorted(clip_actions, key=lambda a: a.action_idx)
        for i in range(len(ordered) - span + 1):
            last_input = ordered[i + num_input - 1]
            windows.append(LtaWindow(
                key=f"{clip_uid}_{last_input.action_idx}",
                clip_uid=clip_uid,
                inputs=tuple(ordered[i:i + num_input]),
                future=tuple(ordered[i + num_input:i + span]),
            ))
    return windows
