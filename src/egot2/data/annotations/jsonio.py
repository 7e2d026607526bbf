"""Reading JSON files with errors that name the file and the line, never a bare traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from egot2.errors import UserInputError


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_json(path: str | Path, *, what: str = "JSON file", reject_duplicate_keys: bool = False) -> Any:
    """Parse the JSON file at ``path``.

    Args:
        path: the file to read.
        what: how to call the file in error messages (e.g. "annotation file").
        reject_duplicate_keys: raise on an object with a repeated key (plain JSON keeps the last one
            silently).

    Raises:
        UserInputError: the file is missing, unreadable, not UTF-8 or not valid JSON (with its line and
            column), or has a repeated key when ``reject_duplicate_keys``.
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
        return json.loads(text, object_pairs_hook=_no_duplicates if reject_duplicate_keys else None)
    except _DuplicateKey as exc:
        raise UserInputError(f"key {exc.key!r} appears more than once in one JSON object", file=path) from None
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"malformed JSON: {exc.msg}: line {exc.lineno}, column {exc.colno}", file=path
        ) from None
    except RecursionError:
        raise UserInputError("JSON nested too deeply", file=path) from None
