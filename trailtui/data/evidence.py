"""Marks and bookmarks: the events an investigator keeps, whatever the filter shows.

An event is named by its stable row key (`_file_id`, `_line`), never by its position in a view:
positions change with every filter and sort, keys do not, so marks survive filter changes,
undo and re-sorting. Each reference also carries the eventID and time, so a session saved
today finds its events again after a reload that numbered them differently (`resolve`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import duckdb

RowKey = tuple[int, int]
MAX_NOTE: Final = 2000  # a note is a line or two for a ticket, not a document


@dataclass(frozen=True)
class EventRef:
    """One event: its row key in this store, and what finds it again in another load."""

    file_id: int
    line: int
    event_id: str | None = None
    event_time: dt.datetime | None = None  # naive UTC, as eventTime

    @property
    def key(self) -> RowKey:
        return (self.file_id, self.line)

    def to_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "line": self.line,
            "event_id": self.event_id,
            "event_time": self.event_time.isoformat() if self.event_time else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> EventRef | None:
        """A reference from saved JSON, or None when the data is not one of ours."""
        if not isinstance(data, dict):
            return None
        f, n = data.get("file_id"), data.get("line")
        if not isinstance(f, int) or not isinstance(n, int) or isinstance(f | n, bool):
            return None
        eid = data.get("event_id")
        when = data.get("event_time")
        parsed: dt.datetime | None = None
        if isinstance(when, str):
            try:
                parsed = dt.datetime.fromisoformat(when).replace(tzinfo=None)
            except ValueError:
                parsed = None
        return cls(f, n, eid if isinstance(eid, str) else None, parsed)


def clean_note(text: str) -> str:
    """A note as kept: one paragraph, trimmed, capped (the UI shows it sanitised)."""
    return " ".join(text.split())[:MAX_NOTE]


@dataclass(frozen=True)
class Bookmark:
    """An event kept with a short note, for the report."""

    ref: EventRef
    note: str = ""
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref.to_json(), "note": self.note, "created": self.created}

    @classmethod
    def from_json(cls, data: Any) -> Bookmark | None:
        if not isinstance(data, dict):
            return None
        ref = EventRef.from_json(data.get("ref"))
        if ref is None:
            return None
        note = data.get("note")
        created = data.get("created")
        return cls(
            ref,
            clean_note(note) if isinstance(note, str) else "",
            float(created) if isinstance(created, int | float) else 0.0,
        )


class Evidence:
    """The marked and bookmarked events of one investigation (UI-thread object, no SQL).

    Independent of the filter state: nothing here changes when filters do. Clearing the marks
    can be undone (`restore_marks`), as a filter can.
    """

    def __init__(
        self, marks: Iterable[EventRef] = (), bookmarks: Iterable[Bookmark] = ()
    ) -> None:
        self._marks: dict[RowKey, EventRef] = {r.key: r for r in marks}
        self._bookmarks: dict[RowKey, Bookmark] = {b.ref.key: b for b in bookmarks}
        self._cleared: list[dict[RowKey, EventRef]] = []
        self.version = 0  # bumped on every change (the screen saves the session when it moves)

    def _changed(self) -> None:
        self.version += 1

    # -- marks ------------------------------------------------------------------------------

    @property
    def marks(self) -> tuple[EventRef, ...]:
        """Marked events, in the order they were marked."""
        return tuple(self._marks.values())

    @property
    def mark_keys(self) -> frozenset[RowKey]:
        return frozenset(self._marks)

    def is_marked(self, key: RowKey) -> bool:
        return key in self._marks

    def toggle_mark(self, ref: EventRef) -> bool:
        """Mark or unmark; True when the event is now marked."""
        if ref.key in self._marks:
            del self._marks[ref.key]
            self._changed()
            return False
        self._marks[ref.key] = ref
        self._changed()
        return True

    def mark(self, refs: Iterable[EventRef]) -> int:
        """Mark several events; how many were not marked before."""
        added = 0
        for ref in refs:
            if ref.key not in self._marks:
                self._marks[ref.key] = ref
                added += 1
        if added:
            self._changed()
        return added

    def unmark(self, keys: Iterable[RowKey]) -> None:
        gone = [k for k in keys if self._marks.pop(k, None) is not None]
        if gone:
            self._changed()

    def clear_marks(self) -> int:
        """Unmark everything (undoable with `restore_marks`); how many were marked."""
        n = len(self._marks)
        if n:
            self._cleared.append(self._marks)
            self._marks = {}
            self._changed()
        return n

    def restore_marks(self) -> int:
        """Bring back the marks the last `clear_marks` removed; how many came back."""
        if not self._cleared:
            return 0
        previous = self._cleared.pop()
        before = len(self._marks)
        self._marks = {**previous, **self._marks}
        self._changed()
        return len(self._marks) - before

    # -- bookmarks --------------------------------------------------------------------------

    @property
    def bookmarks(self) -> tuple[Bookmark, ...]:
        """Bookmarks, oldest first."""
        return tuple(self._bookmarks.values())

    def bookmark_of(self, key: RowKey) -> Bookmark | None:
        return self._bookmarks.get(key)

    def set_bookmark(self, ref: EventRef, note: str = "") -> Bookmark:
        """Bookmark an event, or change the note of a bookmark (its place stays)."""
        old = self._bookmarks.get(ref.key)
        mark = replace(old, note=clean_note(note)) if old else Bookmark(ref, clean_note(note))
        self._bookmarks[ref.key] = mark
        self._changed()
        return mark

    def remove_bookmark(self, key: RowKey) -> Bookmark | None:
        gone = self._bookmarks.pop(key, None)
        if gone is not None:
            self._changed()
        return gone

    # -- all --------------------------------------------------------------------------------

    def __bool__(self) -> bool:
        """Whether there is anything that quitting would throw away."""
        return bool(self._marks or self._bookmarks)

    def refs(self) -> Iterator[EventRef]:
        """Every event referenced: bookmarks first, then marks not bookmarked."""
        yield from (b.ref for b in self._bookmarks.values())
        yield from (r for k, r in self._marks.items() if k not in self._bookmarks)

    def to_json(self) -> dict[str, Any]:
        return {
            "marks": [r.to_json() for r in self._marks.values()],
            "bookmarks": [b.to_json() for b in self._bookmarks.values()],
        }

    @classmethod
    def from_json(cls, data: Any) -> Evidence:
        """Evidence from saved JSON; entries that are not ours are skipped."""
        if not isinstance(data, dict):
            return cls()
        marks = [EventRef.from_json(m) for m in data.get("marks") or () if m]
        books = [Bookmark.from_json(b) for b in data.get("bookmarks") or () if b]
        return cls([m for m in marks if m], [b for b in books if b])

    def update_refs(self, refs: Iterable[EventRef]) -> None:
        """Fill in eventID and time of references kept by key alone (same keys, same order)."""
        for ref in refs:
            if ref.key in self._marks:
                self._marks[ref.key] = ref
            book = self._bookmarks.get(ref.key)
            if book is not None:
                self._bookmarks[ref.key] = replace(book, ref=ref)

    def rekey(self, mapping: dict[RowKey, EventRef], missing: Iterable[RowKey]) -> None:
        """Point references at where `resolve` found them; drop the ones it could not."""
        lost = set(missing)
        self._marks = {
            mapping.get(k, r).key: mapping.get(k, r)
            for k, r in self._marks.items() if k not in lost
        }
        self._bookmarks = {
            mapping.get(k, b.ref).key: replace(b, ref=mapping.get(k, b.ref))
            for k, b in self._bookmarks.items() if k not in lost
        }
        self._changed()


# -- finding events ---------------------------------------------------------------------------


def refs_for(cur: duckdb.DuckDBPyConnection, keys: Sequence[RowKey]) -> list[EventRef]:
    """References with eventID and time for row keys (in the order given; unknown ones left
    out). Run in a worker when there are many."""
    if not keys:
        return []
    rows = cur.execute(
        "SELECT k.f, k.l, e.eventID, e.eventTime FROM events e JOIN ("
        "  SELECT unnest(?::INTEGER[]) AS f, unnest(?::INTEGER[]) AS l, unnest(range(?)) AS i"
        ") k ON e._file_id = k.f AND e._line = k.l ORDER BY k.i",
        [[int(f) for f, _ in keys], [int(n) for _, n in keys], len(keys)],
    ).fetchall()
    return [EventRef(int(f), int(n), eid, when) for f, n, eid, when in rows]


def resolve(
    cur: duckdb.DuckDBPyConnection, refs: Sequence[EventRef]
) -> tuple[dict[RowKey, EventRef], list[RowKey]]:
    """Check saved references against the loaded events.

    A reference whose key still holds its eventID stays; one whose key moved is found again by
    eventID (and time, when two events share an ID); one that is gone is reported missing.
    Returns (old key -> current reference, missing old keys).
    """
    if not refs:
        return {}, []
    current = {r.key: r for r in refs_for(cur, [r.key for r in refs])}
    mapping: dict[RowKey, EventRef] = {}
    lost: list[EventRef] = []
    for ref in refs:
        now = current.get(ref.key)
        if now is not None and (ref.event_id is None or now.event_id == ref.event_id):
            mapping[ref.key] = now
        else:
            lost.append(ref)
    wanted = [r.event_id for r in lost if r.event_id]
    by_id: dict[str, list[EventRef]] = {}
    if wanted:
        rows = cur.execute(
            "SELECT _file_id, _line, eventID, eventTime FROM events "
            "WHERE eventID IN (SELECT unnest(?::VARCHAR[])) ORDER BY _file_id, _line",
            [wanted],
        ).fetchall()
        for f, n, eid, when in rows:
            by_id.setdefault(str(eid), []).append(EventRef(int(f), int(n), eid, when))
    missing: list[RowKey] = []
    for ref in lost:
        candidates = by_id.get(ref.event_id or "", [])
        same_time = [c for c in candidates if c.event_time == ref.event_time]
        pool = same_time or candidates
        if pool:
            mapping[ref.key] = pool[0]
        else:
            missing.append(ref.key)
    return mapping, missing


def summaries(
    cur: duckdb.DuckDBPyConnection, keys: Sequence[RowKey]
) -> dict[RowKey, tuple[dt.datetime | None, str | None, str | None]]:
    """(eventTime, eventName, actor) of each loaded event among `keys`, for lists."""
    if not keys:
        return {}
    rows = cur.execute(
        "SELECT _file_id, _line, eventTime, eventName, actor FROM events "
        "WHERE (_file_id, _line) IN (SELECT unnest(?::INTEGER[]), unnest(?::INTEGER[]))",
        [[int(f) for f, _ in keys], [int(n) for _, n in keys]],
    ).fetchall()
    return {(int(f), int(n)): (t, e, a) for f, n, t, e, a in rows}
