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


@patch
def midckpt() -> str | None:
    """CHECKPOINT the in-memory store every 250k loaded rows during the load (issue 9 item 3,
    mem branch): rows wait uncompressed until a CHECKPOINT. Measured 2026-12-02 at 1M in 5
    files: peak RSS -25..30% but the load 19-26% slower, so it did not land (bench/README.md)."""
    import contextlib

    import duckdb

    from trailtui.data import store

    orig = store._ChunkLoader.flush
    every = 250_000
    since: dict[int, int] = {}

    def flush(self: store._ChunkLoader, cur: duckdb.DuckDBPyConnection) -> None:
        pending = self.pending_records
        orig(self, cur)
        n = since.get(id(self), 0) + pending
        if n >= every and self.store.placement == "memory":  # WHATIF
            n = 0
            with contextlib.suppress(duckdb.TransactionException):
                cur.execute("CHECKPOINT")
        since[id(self)] = n

    store._ChunkLoader.flush = flush  # type: ignore[method-assign]
    return "CHECKPOINT every 250k rows while loading"
