"""Errors a user can act on.

Every problem caused by the user's input (a config, a file, a CLI argument) is raised as a
:class:`UserInputError` whose message names the file, the field and what was expected. The CLI turns
it into a one-paragraph message on stderr and exit code 2; library code never prints it.
"""

from __future__ import annotations

from pathlib import Path


class EgoT2Error(Exception):
    """Base class of every error egot2 raises on purpose."""

    exit_code: int = 1


class UserInputError(EgoT2Error, ValueError):
    """Bad input: a config, file, record or argument that is not what egot2 expects.

    Args:
        message: what is wrong and what was expected.
        file: the file the bad input came from, if any.
        field: the field, key or column that is wrong, if any.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None) -> None:
        self.file = None if file is None else str(file)
        self.field = field
        self.detail = message
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if field is not None:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def __reduce__(self) -> tuple[object, ...]:
        # pickled whole (file and field too), so that an error raised in a worker process reads the same
        return _rebuild_user_input_error, (self.detail, self.file, self.field)


def _rebuild_user_input_error(message: str, file: str | None, field: str | None) -> UserInputError:
    return UserInputError(message, file=file, field=field)
