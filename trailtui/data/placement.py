"""Where the events table lives: in memory, in an on-disk DuckDB file, or in the cache file.

Every cursor of the store searches `m.main` then `ev.main` (SEARCH_PATH_SQL). `m` is the
session's own in-memory database: compatibility views, the investigation tables, findings,
console results; it is always writable. `ev` holds `events` and `chunk_sources` when they do
not live in `m`:

- **memory** (the default below the threshold): `events` is a table of `m`, as before; `ev` is
  an empty in-memory placeholder (a search path may only name attached databases).
- **disk** (input above the threshold): `ev` is a DuckDB file in the load's cache work folder
  (a temp folder without cache), with a memory limit and a temp directory, so millions of
  events load in bounded memory. Saving the cache checkpoints it and renames the folder: the
  table is not copied again.
- **cache** (reopened): `ev` is the cache's `events.duckdb`, attached READ_ONLY and queried in
  place, so a reopen costs a stat, the checks of `cache.verify` and an ATTACH, not a copy.
  Two processes can open the same cache (DuckDB takes a shared lock for read-only) and the
  file is never written. Before the first write (the user adds a file) the store is made
  writable: copied into `m` (memory) or the file copied to a private one (disk).

The threshold: `$TRAILTUI_STORE` = `memory`, `disk`, or a size (`2G`) of input above which the
store goes to disk; by default an eighth of RAM (3 GiB of input on a 24 GiB machine: 1M events
stay in memory, 3M go to disk). The disk store's DuckDB memory limit is
`$TRAILTUI_DISK_MEMORY_LIMIT` (default 1GB; never above the connection's own limit).
"""

from __future__ import annotations

import os
import re
from typing import Final

from trailtui.data import guard
from trailtui.data.cache import parse_size

EVENTS_DB: Final = "ev"
SEARCH_PATH_SQL: Final = "SET search_path = 'm.main,ev.main'"
RAM_SHARE: Final = 8  # input above RAM / 8 goes to disk
DISK_MEMORY_LIMIT: Final = "1GB"
_LIMIT = re.compile(r"\d+(\.\d+)?\s*[KMGT]?i?B", re.IGNORECASE)


def disk_threshold() -> int | None:
    """Input bytes above which the store goes to disk; None: never (memory), 0: always."""
    raw = os.environ.get("TRAILTUI_STORE", "").strip().lower()
    if raw == "memory":
        return None
    if raw == "disk":
        return 0
    if raw:
        try:
            return parse_size(raw)
        except ValueError:
            pass  # a typo must not stop the load: the default applies
    ram = guard.physical_memory()
    return ram // RAM_SHARE if ram else 4 << 30


def wants_disk(input_bytes: int) -> bool:
    """True when a load of `input_bytes` of input should keep its events on disk."""
    limit = disk_threshold()
    return limit is not None and input_bytes > limit


def disk_memory_limit() -> str:
    """DuckDB's memory limit while the store is on disk (bounded RSS at any size)."""
    raw = os.environ.get("TRAILTUI_DISK_MEMORY_LIMIT", "").strip()
    want = raw if _LIMIT.fullmatch(raw) else DISK_MEMORY_LIMIT
    own = guard.memory_limit()
    try:
        if own and parse_size(own) < parse_size(want):
            return own
    except ValueError:
        pass
    return want
