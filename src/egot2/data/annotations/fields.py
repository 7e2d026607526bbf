"""Typed access to the JSON objects of an annotation file.

Every error names the file, the record (e.g. ``clip_uid 'abc'``) and the field path inside the
record (e.g. ``persons[1].tracking_paths[0].track[3].frame``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from egot2.errors import UserInputError

_MISSING = object()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


class Fields:
    """One JSON object of an annotation file, read field by field with type checks.

    Args:
        obj: the decoded JSON value that should be an object.
        file: the file it came from.
        record: how to name the record in messages, e.g. ``"clip_uid 'abc'"``.
        path: the field path of ``obj`` inside the record ("" for the record itself).
    """

    def __init__(self, obj: Any, *, file: str | Path, record: str, path: str = "") -> None:
        self.file = file
        self.record = record
        self.path = path
        if not isinstance(obj, dict):
            raise self.error(None, f"expected a JSON object, got {_type_name(obj)}")
        self.obj: dict[str, Any] = obj

    def field_path(self, key: str | None) -> str | None:
        """The full field path of ``key`` (or of this object when ``key`` is None)."""
        if key is None:
            return self.path or None
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> UserInputError:
        """A :class:`UserInputError` about ``key`` of this object."""
        return UserInputError(f"{self.record}: {message}", file=self.file, field=self.field_path(key))

    def with_record(self, record: str) -> Fields:
        """The same object, named ``record`` in messages (once its id is known)."""
        return Fields(self.obj, file=self.file, record=record, path=self.path)

    def _get(self, key: str, required: bool) -> Any:
        value = self.obj.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise self.error(key, "missing field")
            return None
        if value is None and required:
            raise self.error(key, "must not be null")
        return value

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (possibly null)."""
        return key in self.obj

    def text(self, key: str, *, required: bool = True) -> str | None:
        """A string field; None when optional and absent or null."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_type_name(value)} {value!r}")
        return value

    def integer(self, key: str, *, required: bool = True) -> int | None:
        """An integer field (a float with an integral value is accepted); None when optional and absent."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected an integer, got {_type_name(value)} {value!r}")
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise self.error(key, f"expected an integer, got {value!r}")
            return int(value)
        return value

    def number(self, key: str, *, required: bool = True) -> float | None:
        """A finite number field, as float; None when optional and absent or null."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {_type_name(value)} {value!r}")
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {value!r}")
        return float(value)

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        """A boolean field; None when optional and absent or null."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_type_name(value)} {value!r}")
        return value

    def array(self, key: str, *, required: bool = True) -> list[Any] | None:
        """A list field; None when optional and absent or null."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_type_name(value)}")
        return value

    def objects(self, key: str, *, required: bool = True) -> list[Fields]:
        """A list of objects, each as :class:`Fields` with its index in the path; [] when absent."""
        items = self.array(key, required=required)
        if items is None:
            return []
        return [
            Fields(item, file=self.file, record=self.record, path=f"{self.field_path(key)}[{i}]")
            for i, item in enumerate(items)
        ]

    def raw(self, key: str) -> Any:
        """The value as decoded, unchecked (None when absent)."""
        return self.obj.get(key)

    def check_order(self, start_key: str, start: float | None, end_key: str, end: float | None,
                    *, strict: bool = False) -> None:
        """Raise if ``end`` comes before ``start`` (or equals it when ``strict``)."""
        if start is None or end is None:
            return
        if end < start or (strict and end == start):
            relation = "after" if strict else "at or after"
            raise self.error(end_key, f"{end_key} = {end} must be {relation} {start_key} = {start}")


def top_level(data: Any, key: str, *, file: str | Path) -> list[Any]:
    """The top-level list ``data[key]`` of an annotation file."""
    if not isinstance(data, dict):
        raise UserInputError(f"expected a JSON object with a '{key}' list at the top level, "
                             f"got {_type_name(data)}", file=file)
    if key not in data:
        raise UserInputError(f"missing top-level '{key}' list", file=file, field=key)
    value = data[key]
    if not isinstance(value, list):
        raise UserInputError(f"expected a list, got {_type_name(value)}", file=file, field=key)
    return value


def optional_str(data: Any, key: str) -> str | None:
    """A top-level metadata string (version, split, ...) or None when absent or not a string."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
