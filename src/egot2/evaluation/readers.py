"""Reading prediction CSV files row by row, with errors that name the file, the line and the column."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from egot2.errors import UserInputError


@dataclass(frozen=True)
class CsvRow:
    """One data row of a prediction CSV.

    Args:
        path: the file.
        line: its 1-based line number in the file.
        cells: the stripped cell texts.
        columns: the column names, for messages.
    """

    path: Path
    line: int
    cells: tuple[str, ...]
    columns: tuple[str, ...]

    def error(self, column: int | None, message: str) -> UserInputError:
        """A :class:`UserInputError` about this row (and column, 0-based)."""
        where = f"line {self.line}"
        if column is not None:
            where += f", column {column + 1} ({self.columns[column]})"
        return UserInputError(f"{where}: {message}", file=self.path)

    def text(self, column: int) -> str:
        """A non-empty string cell."""
        value = self.cells[column]
        if not value:
            raise self.error(column, "empty cell")
        return value

    def integer(self, column: int) -> int:
        """An integer cell (``12``; ``12.0`` is accepted too)."""
        value = self.cells[column]
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, f"expected an integer, got {value!r}") from None
        if not (math.isfinite(number) and number.is_integer()):
            raise self.error(column, f"expected an integer, got {value!r}")
        return int(number)

    def number(self, column: int) -> float:
        """A finite number cell."""
        value = self.cells[column]
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, f"expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise self.error(column, f"expected a finite number, got {value!r}")
        return number

    def score(self, column: int) -> float:
        """A probability cell in [0, 1]."""
        number = self.number(column)
        if not 0.0 <= number <= 1.0:
            raise self.error(column, f"score {self.cells[column]} is outside [0, 1]")
        return number

    def one(self, column: int) -> None:
        """A cell that must hold the constant 1 (the official label column of predictions)."""
        if self.number(column) != 1.0:
            raise self.error(column, f"expected 1, got {self.cells[column]!r}")


def read_csv_rows(path: str | Path, columns: Sequence[str], *, header: bool) -> list[CsvRow]:
    """Read a comma-separated prediction file with exactly ``len(columns)`` cells per row.

    Blank lines are skipped. With ``header`` the first row must list ``columns`` (in that order).

    Raises:
        UserInputError: a missing or unreadable file, a bad header, a malformed row or a row with the
            wrong number of cells (with its line number).
    """
    path = Path(path)
    columns = tuple(columns)
    rows: list[CsvRow] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            start = reader.line_num + 1
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                stripped = tuple(c.strip() for c in cells)
                if header:
                    if [c.lower() for c in stripped] != list(columns):
                        raise UserInputError(
                            f"line {line}: expected the header {','.join(columns)}, got {','.join(stripped)}",
                            file=path)
                    header = False
                    continue
                if len(stripped) != len(columns):
                    raise UserInputError(
                        f"line {line}: expected {len(columns)} columns ({','.join(columns)}), got {len(stripped)}",
                        file=path)
                rows.append(CsvRow(path, line, stripped, columns))
    except FileNotFoundError:
        raise UserInputError("predictions file not found", file=path) from None
    except IsADirectoryError:
        raise UserInputError("expected a predictions file, got a directory", file=path) from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except csv.Error as exc:
        raise UserInputError(f"malformed CSV near line {reader.line_num}: {exc}", file=path) from None
    if header:
        raise UserInputError(f"empty file: expected the header {','.join(columns)}", file=path)
    return rows
