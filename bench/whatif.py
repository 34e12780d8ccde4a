"""Opt-in monkeypatches that try a proposed trailtui/data change without editing trailtui/.

`bench_load.py --whatif NAME[,NAME]` applies them inside the trailtui workers, so a proposal
can be measured side by side with the code as it is. Each patch is a copy of the product code
with the proposed change marked `# WHATIF`. They are evidence for a change, not the product:
once the lead applies a change, its patch here becomes redundant (apply() says so).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

PATCHES: dict[str, Callable[[], str | None]] = {}


def patch(fn: Callable[[], str | None]) -> Callable[[], str | None]:
    PATCHES[fn.__name__] = fn
    return fn


@patch
def cachefix() -> str | None:
    """Write `chunk_sources` into the cache DB (the reopen reads it and fails without it)."""
    from trailtui.data import store as S

    src = Path(S.__file__).read_text()
    if "cache_out.chunk_sources" in src:
        return "cachefix: already in trailtui/data/store.py, patch not applied"

    def _write_cache(self: Any, cache_dir: Path, work: Path, report: Any) -> None:
        cur = self.cursor()
        db = work / "events.duckdb"
        db.unlink(missing_ok=True)
        S.run(cur, "ATTACH ? AS cache_out", [str(db)])
        try:
            S.run(cur, "CREATE TABLE cache_out.events AS SELECT * FROM m.events")
            # WHATIF: the reopen also needs the chunk -> source file map
            S.run(cur, "CREATE TABLE cache_out.chunk_sources AS SELECT * FROM m.chunk_sources")
        finally:
            S.run(cur, "DETACH cache_out")
            cur.close()
        for chunk_id, chunk in self._chunks.items():
            with (work / "chunks" / f"{chunk_id}.idx").open("wb") as fh:
                chunk.offsets.tofile(fh)
        manifest = {
            "format": S.CACHE_FORMAT,
            "chunks": sorted(self._chunks),
            "files": [f.__dict__ for f in report.files],
            "warnings": report.warnings,
        }
        (work / "manifest.json").write_text(json.dumps(manifest))
        shutil.rmtree(cache_dir, ignore_errors=True)
        work.rename(cache_dir)
        for chunk in self._chunks.values():
            chunk.path = cache_dir / "chunks" / chunk.path.name

    S.EventStore._write_cache = _write_cache
    return None


def apply(names: str) -> list[str]:
    notes = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in PATCHES:
            raise SystemExit(f"unknown --whatif {name!r}; known: {', '.join(PATCHES)}")
        note = PATCHES[name]()
        if note:
            notes.append(note)
    return notes
