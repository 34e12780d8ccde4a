"""The investigation report: the filters used and the kept events, ready to paste in a ticket.

Markdown for people, JSON for tools. Each kept event (bookmarked ones first, with their notes,
then marked ones) comes with its time in UTC, actor, principal ARN, access key, source IP,
eventID, and its original record as it was loaded, byte for byte in the JSON report.

Every CloudTrail string is hostile here too: in Markdown, values sit in code spans whose fence
is longer than any backtick run they hold (no markup can form), control and bidi characters
are made visible (`sanitize.safe_text`), and the original record is shown with those
characters as JSON escapes (`safe_json_text`: still valid JSON of the same value), in a fence
longer than any backtick run in it. The JSON report escapes everything outside ASCII.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import duckdb

from trailtui.data.evidence import EventRef, Evidence
from trailtui.data.filters import FilterState
from trailtui.data.store import EventStore
from trailtui.data.timerange import TimeRange

_BACKTICKS: Final = re.compile(r"`+")


def safe_text(value: object) -> str:
    """`sanitize.safe_text`, imported when used: the data layer itself stays free of rich."""
    from trailtui.sanitize import safe_text as _safe

    return _safe(value)


def safe_json_text(text: str) -> str:
    from trailtui.sanitize import safe_json_text as _safe

    return _safe(text)
# The facts each kept event lists, as (label, events column or SQL over `events`).
_FACTS: Final[tuple[tuple[str, str], ...]] = (
    ("event", "eventName"),
    ("service", "eventSource"),
    ("region", "awsRegion"),
    ("actor", "actor"),
    ("identity type", "identity_type"),
    ("principal ARN", '"userIdentity".arn'),
    ("access key", "access_key"),
    ("account", "account_id"),
    ("source IP", "sourceIPAddress"),
    ("user agent", "userAgent"),
    ("error", "errorCode"),
    ("error message", "errorMessage"),
    ("eventID", "eventID"),
    ("source file", "source_file"),
)


def utc_text(value: dt.datetime | None) -> str:
    """CloudTrail's own UTC format: `2024-05-01T10:00:00Z`."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    frac = f".{value.microsecond:06d}" if value.microsecond else ""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


@dataclass(frozen=True)
class ReportEvent:
    """One kept event with the facts a ticket needs and its original record."""

    ref: EventRef
    kind: str  # "bookmark" | "mark"
    note: str
    time: dt.datetime | None
    facts: dict[str, str | None]
    raw: str  # the original record as loaded (decoded UTF-8)


@dataclass(frozen=True)
class Report:
    generated: dt.datetime  # UTC
    sources: tuple[str, ...]
    filters: tuple[str, ...]
    duckdb_sql: str
    athena_sql: str
    matching: int
    total: int
    events: tuple[ReportEvent, ...]
    missing: int = 0  # kept events no longer loaded
    notes: tuple[str, ...] = field(default_factory=tuple)
    loaded_range: str = ""  # `--since/--until` the events were loaded with ("" = everything)

    # -- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated": utc_text(self.generated),
            "sources": list(self.sources),
            "filters": list(self.filters),
            "filter_sql": {"duckdb": self.duckdb_sql, "athena": self.athena_sql},
            "events_matching_filters": self.matching,
            "events_loaded": self.total,
            "loaded_range": self.loaded_range or None,
            "events": [
                {
                    "kind": e.kind,
                    "note": e.note,
                    "eventTime": utc_text(e.time),
                    **{k: v for k, v in e.facts.items()},
                    "original": e.raw,
                }
                for e in self.events
            ],
            "missing_events": self.missing,
        }

    def to_json(self) -> str:
        """The report as JSON; `original` holds each record's exact text (escaped to ASCII)."""
        return json.dumps(self.to_dict(), ensure_ascii=True, indent=2) + "\n"

    # -- Markdown ---------------------------------------------------------------------------

    def to_markdown(self) -> str:
        out: list[str] = ["# CloudTrail investigation", ""]
        out.append(f"- Generated: {_code(utc_text(self.generated))} (times in UTC)")
        out.append(f"- Events loaded: {self.total:,}; matching the filters: {self.matching:,}")
        if self.loaded_range:
            out.append(f"- Time range loaded: {_code(self.loaded_range)} (`--since/--until`)")
        if self.sources:
            shown = ", ".join(_code(s) for s in self.sources[:10])
            more = f" and {len(self.sources) - 10} more" if len(self.sources) > 10 else ""
            out.append(f"- Sources: {shown}{more}")
        out.append("")
        out.append("## Filters")
        out.append("")
        if self.filters:
            out += [f"- {_code(label)}" for label in self.filters]
            out += ["", "DuckDB (trailtui `--sql`):", "", _fence(self.duckdb_sql, "sql")]
            out += ["", "Athena:", "", _fence(self.athena_sql, "sql")]
        else:
            out.append("None: every loaded event.")
        books = [e for e in self.events if e.kind == "bookmark"]
        marks = [e for e in self.events if e.kind == "mark"]
        out += ["", f"## Bookmarked events ({len(books)})", ""]
        if books:
            out += _summary(books, with_note=True)
        else:
            out.append("None.")
        if marks:
            out += ["", f"## Marked events ({len(marks)})", ""]
            out += _summary(marks, with_note=False)
        if self.missing:
            out += ["", f"{self.missing} kept event(s) are not in the loaded files any more."]
        for note in self.notes:
            out += ["", f"> {safe_text(note)}"]
        out += ["", "## Events in detail", ""]
        for i, e in enumerate(self.events, start=1):
            title = safe_text(e.facts.get("event") or "event")
            out.append(f"### {i}. {_code(utc_text(e.time))} {_code(title)}")
            out.append("")
            if e.note:
                out.append(f"Note: {_code(e.note)}")
                out.append("")
            for label, value in e.facts.items():
                if value not in (None, ""):
                    out.append(f"- {label}: {_code(value)}")
            out += ["", "Original record:", "", _fence(safe_json_text(e.raw), "json"), ""]
        return "\n".join(out).rstrip() + "\n"


def _code(value: object) -> str:
    """A value as an inline code span no text can break out of (pipes escaped for tables)."""
    text = safe_text(value).replace("|", "\\|")
    if not text:
        return "` `"
    runs = [len(m) for m in _BACKTICKS.findall(text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str, lang: str) -> str:
    runs = [len(m) for m in _BACKTICKS.findall(text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _summary(events: Sequence[ReportEvent], *, with_note: bool) -> list[str]:
    head = ["time (UTC)", "event", "actor", "source IP", "eventID"]
    if with_note:
        head.append("note")
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for e in events:
        cells = [utc_text(e.time), e.facts.get("event"), e.facts.get("actor"),
                 e.facts.get("source IP"), e.facts.get("eventID")]
        if with_note:
            cells.append(e.note)
        rows.append("| " + " | ".join(_code(c or "") for c in cells) + " |")
    return rows


def build_report(
    store: EventStore,
    cur: duckdb.DuckDBPyConnection,
    filters: FilterState,
    evidence: Evidence,
    *,
    sources: Sequence[str] | None = None,
    include_marks: bool = True,
    now: dt.datetime | None = None,
) -> Report:
    """Gather the report (worker thread: one query for the facts, the records from the store)."""
    refs: list[tuple[EventRef, str, str]] = [(b.ref, "bookmark", b.note)
                                             for b in evidence.bookmarks]
    if include_marks:
        booked = {b.ref.key for b in evidence.bookmarks}
        refs += [(r, "mark", "") for r in evidence.marks if r.key not in booked]
    facts_sql = ", ".join(expr for _, expr in _FACTS)
    keys = [r.key for r, _k, _n in refs]
    found: dict[tuple[int, int], tuple[Any, ...]] = {}
    if keys:
        rows = cur.execute(
            f"SELECT _file_id, _line, eventTime, {facts_sql} FROM events "
            "WHERE (_file_id, _line) IN (SELECT unnest(?::INTEGER[]), unnest(?::INTEGER[]))",
            [[k[0] for k in keys], [k[1] for k in keys]],
        ).fetchall()
        found = {(int(r[0]), int(r[1])): r[2:] for r in rows}
    present = [(ref, kind, note) for ref, kind, note in refs if ref.key in found]
    raws = [r.decode("utf-8", errors="replace")
            for r in store.raw_events([ref.key for ref, _k, _n in present])]
    events = []
    for (ref, kind, note), raw in zip(present, raws, strict=True):
        row = found[ref.key]
        facts = {label: (None if v is None else str(v))
                 for (label, _), v in zip(_FACTS, row[1:], strict=True)}
        events.append(ReportEvent(ref, kind, note, row[0], facts, raw))
    where, params = filters.where()
    matching = int(cur.execute(f"SELECT count(*) FROM events WHERE {where}", params)
                   .fetchall()[0][0])
    total = int(cur.execute("SELECT count(*) FROM events").fetchall()[0][0])
    return Report(
        generated=now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
        sources=tuple(sources if sources is not None else (s.path for s in store.sources)),
        filters=filters.labels,
        duckdb_sql=filters.to_duckdb_sql(),
        athena_sql=filters.to_athena_sql(),
        matching=matching,
        total=total,
        events=tuple(events),
        missing=len(refs) - len(present),
        loaded_range=store.time_range.describe() if store.time_range is not None else "",
    )


# -- headless: `trailtui FILES --report markdown|json [--bookmarks FILE]` ---------------------


def read_bookmarks_file(text: str) -> list[tuple[str, str]]:
    """(eventID, note) pairs from a bookmarks file.

    Accepted: a JSON list of `{"eventID": ..., "note": ...}` objects (or of plain eventID
    strings), or text with one eventID per line followed by an optional note (`#` comments).
    Raises ValueError when nothing in it names an event.
    """
    out: list[tuple[str, str]] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = json.loads(stripped)
        for item in data if isinstance(data, list) else ():
            if isinstance(item, str):
                out.append((item, ""))
            elif isinstance(item, dict):
                eid = item.get("eventID") or item.get("event_id")
                note = item.get("note")
                if isinstance(eid, str):
                    out.append((eid, note if isinstance(note, str) else ""))
    else:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            eid, _, note = line.partition(" ")
            if "\t" in eid:
                eid, _, note = line.partition("\t")
            out.append((eid.strip(), note.strip()))
    if not out:
        raise ValueError("no eventIDs in the bookmarks file")
    return out


def evidence_from_ids(
    cur: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[str, str]]
) -> tuple[Evidence, list[str]]:
    """Bookmarks for eventIDs (every loaded copy of an ID); IDs not loaded are returned."""
    ids = [eid for eid, _ in pairs]
    rows = cur.execute(
        "SELECT _file_id, _line, eventID, eventTime FROM events "
        "WHERE eventID IN (SELECT unnest(?::VARCHAR[])) ORDER BY eventTime, _file_id, _line",
        [ids],
    ).fetchall()
    found: dict[str, list[EventRef]] = {}
    for f, n, eid, when in rows:
        found.setdefault(str(eid), []).append(EventRef(int(f), int(n), eid, when))
    ev = Evidence()
    missing: list[str] = []
    for eid, note in pairs:
        refs = found.get(eid)
        if not refs:
            missing.append(eid)
        for ref in refs or ():
            ev.set_bookmark(ref, note)
    return ev, missing


def headless_report(
    paths: Sequence[str],
    fmt: str,
    *,
    bookmarks: str | None = None,
    cache: bool = True,
    out: Any = None,
    err: Any = None,
    time_range: TimeRange | None = None,
) -> int:
    """Load, gather the kept events and print the report. 0 ok, 1 bad bookmarks file or
    nothing kept, 2 nothing could be loaded.

    Without `bookmarks`, the session saved for these paths (filters, marks, bookmarks) is
    used, as the app left it.
    """
    import sys
    from pathlib import Path

    from trailtui.data import session as sessions
    from trailtui.data.evidence import resolve

    out = out or sys.stdout
    err = err or sys.stderr
    if not paths:
        print("trailtui: --report needs at least one PATH to load", file=err)
        return 2
    store = EventStore(cache=cache, time_range=time_range)
    try:
        report = store.load(paths)
        for msg in report.messages():
            print(f"trailtui: {safe_text(msg)}", file=err)
        if store.event_count() == 0:
            print("trailtui: no events could be loaded", file=err)
            return 2
        cur = store.cursor()
        try:
            filters = FilterState()
            if bookmarks is not None:
                try:
                    pairs = read_bookmarks_file(Path(bookmarks).read_text(encoding="utf-8"))
                except (OSError, ValueError, UnicodeDecodeError) as exc:
                    print(f"trailtui: cannot read {safe_text(bookmarks)}: "
                          f"{safe_text(getattr(exc, 'strerror', None) or exc)}", file=err)
                    return 1
                evidence, missing = evidence_from_ids(cur, pairs)
                for eid in missing:
                    print(f"trailtui: eventID {safe_text(eid)} is not in the loaded events",
                          file=err)
            else:
                saved, notes = sessions.load_session(sessions.session_path(paths))
                for note in notes:
                    print(f"trailtui: {safe_text(note)}", file=err)
                if saved is None or not saved.evidence:
                    print("trailtui: nothing kept for these files: bookmark events in the app "
                          "(b) or give --bookmarks FILE", file=err)
                    return 1
                evidence, filters = saved.evidence, saved.filters
                mapping, lost = resolve(cur, list(evidence.refs()))
                evidence.rekey(mapping, lost)
            rep = build_report(store, cur, filters, evidence)
        finally:
            cur.close()
        out.write(rep.to_json() if fmt == "json" else rep.to_markdown())
        out.flush()
        problem = store.save_cache()
        if problem:
            print(f"trailtui: {safe_text(problem)}", file=err)
        return 0
    finally:
        store.close()
