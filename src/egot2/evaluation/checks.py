"""The bad-input checks shared by every task: duplicates, missing predictions, unknown ids."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from egot2.errors import UserInputError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: How many example ids an error message lists.
NUM_EXAMPLES = 5


class EvaluationWarning(UserWarning):
    """Something worth telling the user that does not stop the evaluation (e.g. ignored extra predictions)."""


def examples(items: Sequence[Any], fmt: Any = repr) -> str:
    """The first few items, formatted, for a message."""
    shown = ", ".join(fmt(x) for x in items[:NUM_EXAMPLES])
    return shown + (", ..." if len(items) > NUM_EXAMPLES else "")


def index_unique(entries: Iterable[tuple[K, str, V]], *, path: Path, fmt: Any = repr) -> dict[K, V]:
    """Map each key to its value, rejecting keys given more than once.

    Args:
        entries: ``(key, where, value)`` per prediction; ``where`` locates it ("line 4", "entry 2").
        path: the predictions file, for messages.
        fmt: formats a key for messages.

    Raises:
        UserInputError: duplicate predictions, with how many and the first few.
    """
    out: dict[K, V] = {}
    first: dict[K, str] = {}
    duplicates: list[str] = []
    for key, where, value in entries:
        if key in out:
            duplicates.append(f"{fmt(key)} ({first[key]} and {where})")
            continue
        out[key] = value
        first[key] = where
    if duplicates:
        raise UserInputError(f"{len(duplicates)} duplicate predictions, first: {examples(duplicates, str)}",
                             file=path)
    return out


def check_coverage(expected: Sequence[K], given: Mapping[K, Any], *, path: Path, allow_extra: bool,
                   what: str, fmt: Any = repr) -> list[K]:
    """Demand a prediction for every expected key; reject (or, with ``allow_extra``, warn about) the rest.

    Args:
        expected: the keys derived from the annotations, in annotation order.
        given: the predictions by key.
        path: the predictions file, for messages.
        allow_extra: warn about predictions for unknown keys instead of failing.
        what: what one key names, e.g. "clip" or "row".
        fmt: formats a key for messages.

    Returns:
        The extra keys (empty unless ``allow_extra``).

    Raises:
        UserInputError: missing predictions, or extra ones without ``allow_extra``.
    """
    missing = [k for k in expected if k not in given]
    if missing:
        raise UserInputError(
            f"{len(missing)} of {len(expected)} annotated {what}s have no prediction, first: "
            f"{examples(missing, fmt)}", file=path)
    known = set(expected)
    extra = [k for k in given if k not in known]
    if extra:
        message = (f"{len(extra)} predictions for {what}s that are not in the annotations, first: "
                   f"{examples(extra, fmt)}")
        if not allow_extra:
            raise UserInputError(message + " (--allow-extra ignores them)", file=path)
        warnings.warn(EvaluationWarning(f"{path}: {message}; ignored (--allow-extra)"), stacklevel=2)
    return extra


@contextlib.contextmanager
def blame(path: Path) -> Iterator[None]:
    """Attach ``path`` to a :class:`UserInputError` raised without a file (e.g. by a row derivation)."""
    try:
        yield
    except UserInputError as exc:
        if exc.file is not None:
            raise
        raise UserInputError(exc.detail, file=path, field=exc.field) from None
