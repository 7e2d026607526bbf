"""Reading JSON files with errors that name the file and the line, never a bare traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from egot2.errors import UserInputError


def read_json(path: str | Path, *, what: str = "JSON file") -> Any:
    """Parse the JSON file at ``path``.

    Args:
        path: the file to read.
        what: how to call the file in error messages (e.g. "annotation file").

    Raises:
        UserInputError: the file is missing, unreadable, not UTF-8 or not valid JSON (with its line and
            column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise UserInputError(f"expected a {what}, got a directory", file=path) from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except OSError as exc:
        raise UserInputError(f"cannot read {what}: {exc.strerror}", file=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path
        ) from None
    except RecursionError:
        raise UserInputError("JSON nested too deeply", file=path) from None
