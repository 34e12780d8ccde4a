"""What the loaded data covers, and what it cannot show.

An investigator reading "no events from that IP" must know whether the data could have held
them: the span of each file, the regions and accounts present, a console download that stopped
at its 200,000-event cap (its oldest event is then not the start of the period), stretches of
time with no events at all, a download holding only reads or only writes, Insight events, CSV
rows that lack the full record. `coverage()` returns that as data plus a one-line summary;
`headless_coverage` prints it for `trailtui PATH --coverage`.

Nothing here imports Textual.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any, Final, Protocol

import duckdb

from trailtui.data.timerange import TimeRange

# The CloudTrail console's Event history download holds at most this many events.
CONSOLE_CAP: Final[int] = 200_000
# File kinds (ingest's labels) that a console download produces.
_CONSOLE_KINDS: Final[frozenset[str]] = frozenset({"Records", "JSON array", "console CSV"})
CSV_KIND: Final[str] = "console CSV"
# A stretch with no events is a gap when it is longer than MIN_GAP, than GAP_FACTOR typical
# (median) intervals between events, and than 1/SPAN_FRACTION of the whole span: an hour
# without events in a busy account, a day in a quiet one, months in years of data.
GAP_FACTOR: Final[int] = 24
SPAN_FRACTION: Final[int] = 100
MIN_GAP: Final[timedelta] = timedelta(hours=1)
MAX_GAPS: Final[int] = 10


class SourceLike(Protocol):
    """What coverage needs of a loaded file (`store.FileReport` has it)."""

    path: str
    kind: str
    events: int


@dataclass(frozen=True)
class FileSpan:
    path: str
    kind: str
    records: int  # records read from the file
    events: int  # events from it in the table (after duplicates were dropped)
    first: datetime | None
    last: datetime | None
    capped: bool  # a console download with CONSOLE_CAP records: older events may be missing


@dataclass(frozen=True)
class Gap:
    start: datetime  # the last event before the gap
    end: datetime  # the first event after it

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass
class Coverage:
    events: int = 0
    start: datetime | None = None
    end: datetime | None = None
    no_time: int = 0  # events whose time did not parse
    files: list[FileSpan] = field(default_factory=list)
    regions: list[tuple[str | None, int]] = field(default_factory=list)
    accounts: list[tuple[str | None, int]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)  # the longest first, at most MAX_GAPS
    gap_count: int = 0
    gap_threshold: timedelta | None = None
    read_only: int = 0
    writes: int = 0
    read_unknown: int = 0
    insights: int = 0
    csv_rows: int = 0

    @property
    def capped_files(self) -> list[FileSpan]:
        return [f for f in self.files if f.capped]

    def warnings(self) -> list[str]:
        """What the data cannot show, one short sentence each (raw text: sanitise to show)."""
        out: list[str] = []
        for f in self.capped_files:
            since = _fmt(f.first)
            out.append(f"{f.path} holds {f.records:,} events, the console's download cap: "
                       f"events before {since} may be missing")
        if self.gap_count:
            longest = self.gaps[0]
            out.append(f"{self.gap_count} gap{_s(self.gap_count)} with no events "
                       f"(longest {_fmt_delta(longest.length)}, {_fmt(longest.start)} to "
                       f"{_fmt(longest.end)})")
        if self.events and not self.read_only and self.writes:
            out.append("only write events: the download may have been filtered to writes")
        elif self.events and self.read_only and not self.writes:
            out.append("only read-only events: the download may have been filtered to reads")
        if self.csv_rows:
            out.append(f"{self.csv_rows:,} CSV rows without the full record "
                       "(no requestParameters, responseElements or identity details)")
        if self.no_time:
            out.append(f"{self.no_time:,} events without a readable time")
        return out

    def summary(self) -> str:
        """One line: span, files, regions, accounts, and the count of caveats."""
        if not self.events:
            return "no events"
        parts = [f"{self.events:,} events {_fmt(self.start)} – {_fmt(self.end)}",
                 f"{len(self.files)} file{_s(len(self.files))}",
                 f"{len(self.regions)} region{_s(len(self.regions))}",
                 f"{len(self.accounts)} account{_s(len(self.accounts))}"]
        if self.insights:
            parts.append(f"{self.insights:,} Insight events")
        if self.capped_files:
            parts.append("hit the 200k download cap")
        if self.gap_count:
            parts.append(f"{self.gap_count} gap{_s(self.gap_count)}")
        if self.csv_rows:
            parts.append(f"{self.csv_rows:,} CSV rows lack the full record")
        if self.read_only and not self.writes:
            parts.append("reads only")
        elif self.writes and not self.read_only:
            parts.append("writes only")
        return " · ".join(parts)

    def lines(self) -> list[str]:
        """The whole report as text lines (raw data: sanitise before showing)."""
        out = [self.summary(), ""]
        out += [f"warning: {w}" for w in self.warnings()]
        if self.warnings():
            out.append("")
        out.append("files:")
        for f in self.files:
            extra = f" ({f.events:,} after duplicates)" if f.events != f.records else ""
            out.append(f"  {f.path}  [{f.kind}]  {f.records:,} events{extra}  "
                       f"{_fmt(f.first)} – {_fmt(f.last)}{'  CAPPED' if f.capped else ''}")
        out.append(f"regions ({len(self.regions)}): " + _top(self.regions))
        out.append(f"accounts ({len(self.accounts)}): " + _top(self.accounts))
        out.append(f"read-only: {self.read_only:,}  write: {self.writes:,}  "
                   f"unknown: {self.read_unknown:,}")
        out.append(f"Insight events: {self.insights:,}")
        if self.gap_threshold is not None:
            out.append(f"gaps longer than {_fmt_delta(self.gap_threshold)}: {self.gap_count}")
            for g in self.gaps:
                out.append(f"  {_fmt(g.start)} – {_fmt(g.end)}  ({_fmt_delta(g.length)})")
        return out

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["gaps"] = [{"start": g.start, "end": g.end, "seconds": g.length.total_seconds()}
                        for g in self.gaps]
        data["gap_threshold"] = (self.gap_threshold.total_seconds()
                                 if self.gap_threshold is not None else None)
        data["summary"] = self.summary()
        data["warnings"] = self.warnings()
        return _plain(data)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _top(values: list[tuple[str | None, int]], k: int = 20) -> str:
    text = ", ".join(f"{_nv(v)} ({n:,})" for v, n in values[:k])
    return text + (f", and {len(values) - k} more" if len(values) > k else "")


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _nv(value: str | None) -> str:
    return "(none)" if value is None else value


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "?"


def _fmt_delta(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def coverage(cur: duckdb.DuckDBPyConnection, sources: Sequence[SourceLike] = (),
             gap: timedelta | None = None) -> Coverage:
    """Measure what the loaded events cover. `sources`: the store's file reports (their kind
    and records read); `gap`: the shortest stretch reported as a gap (default: from the data).
    """
    cov = Coverage()
    row = cur.execute(
        """SELECT count(*), min(eventTime), max(eventTime), count(*) - count(eventTime),
                  count(*) FILTER (WHERE readOnly), count(*) FILTER (WHERE NOT readOnly),
                  count(*) FILTER (WHERE readOnly IS NULL),
                  count(*) FILTER (WHERE eventType = 'AwsCloudTrailInsight'
                                   OR eventCategory = 'Insight')
           FROM events""").fetchone()
    assert row is not None
    (cov.events, cov.start, cov.end, cov.no_time, cov.read_only, cov.writes,
     cov.read_unknown, cov.insights) = row
    by_file = {str(p): (n, a, b) for p, n, a, b in cur.execute(
        "SELECT source_file, count(*), min(eventTime), max(eventTime) FROM events "
        "GROUP BY 1").fetchall()}
    seen: set[str] = set()
    for src in sources:
        n, first, last = by_file.get(src.path, (0, None, None))
        seen.add(src.path)
        capped = src.kind in _CONSOLE_KINDS and src.events >= CONSOLE_CAP
        cov.files.append(FileSpan(src.path, src.kind, src.events, n, first, last, capped))
    for path, (n, first, last) in sorted(by_file.items()):
        if path not in seen:  # no report for it (a store filled another way)
            cov.files.append(FileSpan(path, "?", n, n, first, last, False))
    csv_paths = [f.path for f in cov.files if f.kind == CSV_KIND]
    cov.csv_rows = sum(f.events for f in cov.files if f.kind == CSV_KIND) if csv_paths else 0
    cov.regions = [(r, int(n)) for r, n in cur.execute(
        "SELECT awsRegion, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()]
    cov.accounts = [(a, int(n)) for a, n in cur.execute(
        "SELECT account_id, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()]
    if cov.start is not None and cov.end is not None and cov.events - cov.no_time > 1:
        if gap is None:
            row = cur.execute(
                """SELECT median(epoch(b) - epoch(a)) FROM (
                     SELECT eventTime AS a, lead(eventTime) OVER (ORDER BY eventTime) AS b
                     FROM events WHERE eventTime IS NOT NULL)""").fetchone()
            typical = timedelta(seconds=float(row[0] or 0)) if row else timedelta(0)
            gap = max(MIN_GAP, typical * GAP_FACTOR, (cov.end - cov.start) / SPAN_FRACTION)
        cov.gap_threshold = gap
        rows = cur.execute(
            """WITH t AS (
                 SELECT eventTime AS a, lead(eventTime) OVER (ORDER BY eventTime) AS b
                 FROM events WHERE eventTime IS NOT NULL)
               SELECT a, b FROM t WHERE b - a > ? ORDER BY b - a DESC, a""",
            [gap]).fetchall()
        cov.gap_count = len(rows)
        cov.gaps = [Gap(a, b) for a, b in rows[:MAX_GAPS]]
    return cov


# -- headless ----------------------------------------------------------------------------------


def headless_coverage(paths: Sequence[str], fmt: str = "table", *, cache: bool = True,
                      out: IO[str] | None = None, err: IO[str] | None = None,
                      time_range: TimeRange | None = None) -> int:
    """`trailtui PATH --coverage`: load, print the coverage, exit 0 (2: nothing loaded)."""
    from trailtui.data.service import finish_headless, load_headless
    from trailtui.sanitize import safe_text

    out = out or sys.stdout
    err = err or sys.stderr
    loaded = load_headless(paths, flag="--coverage", cache=cache, time_range=time_range,
                           err=err)
    if isinstance(loaded, int):
        return loaded
    try:
        sources = loaded.store.sources
        cov = loaded.ask(lambda cur: coverage(cur, sources))
        if fmt in ("json", "jsonl"):
            text = json.dumps(cov.to_json(), ensure_ascii=True,
                              indent=None if fmt == "jsonl" else 2)
            out.write(text + "\n")
        else:
            for line in cov.lines():
                out.write(safe_text(line) + "\n")
        out.flush()
    finally:
        finish_headless(loaded, err)
    return 0
