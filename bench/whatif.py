"""Opt-in monkeypatches that try a proposed trailtui/data change without editing trailtui/.

`bench_load.py --whatif NAME[,NAME]` (and `profile_load.py`, `check_same.py`) apply them inside
the trailtui worker processes, so a proposal is measured side by side with the code as it is.
Write a patch as a function decorated with `@patch` that replaces one function of
trailtui.data with a copy carrying the proposed change (mark the change `# WHATIF`), and
return None (or a note). Once a change lands in trailtui/, delete its patch.

The proposals measured in the first benchmark session (cross join for one-file chunks, writev
chunks, unmapping input before the INSERT, one-marker lower-case scan, CHECKPOINT after the
first screen) have all landed. Tried and rejected: reading the next file in a thread while
DuckDB parses (slower here: the chunk writes then wait on the disk and the GIL).
"""

from __future__ import annotations

from collections.abc import Callable

PATCHES: dict[str, Callable[[], str | None]] = {}


def patch(fn: Callable[[], str | None]) -> Callable[[], str | None]:
    """Register a proposal under its function name."""
    PATCHES[fn.__name__] = fn
    return fn


def apply(names: str) -> list[str]:
    """Apply the comma-separated proposals; their notes, if any."""
    notes = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in PATCHES:
            known = ", ".join(PATCHES) or "none pending"
            raise SystemExit(f"unknown --whatif {name!r}; known: {known}")
        note = PATCHES[name]()
        if note:
            notes.append(note)
    return notes
