"""One rule for every CSV trailtui writes: spreadsheet-safe cells, no forged rows.

CloudTrail values are written by whoever called AWS. A cell starting with `= + - @`, a tab or
a CR runs as a formula in Excel/LibreOffice (CSV injection, OWASP): it gets a leading `'`. A
CR or LF inside a value is always quoted: Python's csv module quotes only the characters of
its own line terminator, so a lone CR went out bare and started a new row in a spreadsheet.
The TUI export (DuckDB COPY) applies the same rule in SQL (`export._neutralised`).
"""

from __future__ import annotations

import csv
import decimal
from collections.abc import Iterable, Sequence
from typing import IO, Any, Final

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """The spreadsheet-safe form of one CSV cell."""
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """csv.writer that neutralises every text cell and quotes any cell holding CR or LF."""

    def __init__(self, out: IO[str]) -> None:
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, cells: Iterable[Any], values: Sequence[Any] | None = None) -> None:
        """`values`, when given, are the cells' typed values: numbers stay as they are
        (`-5` is a number, not a formula), text is neutralised."""
        cells = list(cells)
        row = [
            neutralise_cell(c) if isinstance(c, str) and not (
                values is not None and _is_number(values[i])) else c
            for i, c in enumerate(cells)
        ]
        if any(isinstance(c, str) and ("\r" in c or "\n" in c) for c in row):
            self._quoted.writerow(row)  # every cell quoted: a CR can never end a row
        else:
            self._plain.writerow(row)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def writer(out: IO[str]) -> SafeWriter:
    return SafeWriter(out)
