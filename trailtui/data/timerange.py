"""One time range for every way in: `--since/--until` (alias `--from/--to`) parsed once.

Used by loading (prune an S3 tree by its `yyyy/mm/dd` folders before any object is opened,
then keep exactly the events whose eventTime is in range), by `trailtui fetch` (LookupEvents
windows) and by the Athena backend. Times are whole epoch seconds in UTC (CloudTrail's
eventTime has second precision); both ends are inclusive, as LookupEvents' StartTime/EndTime.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DAY = 86_400
# A day folder of an S3 trail holds the files *delivered* that day: events from a few minutes
# before midnight land in the next day's folder, and late deliveries happen. A folder is kept
# when its day, widened by this margin on both sides, touches the range; the exact eventTime
# filter after loading does the rest.
FOLDER_MARGIN = DAY


def parse_duration(text: str) -> int:
    """`90d`, `12h`, `30m`, `2w`, `45s` -> seconds. ValueError with a usable message."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration: use e.g. 7d, 12h, 30m, 2w")
    seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"{text!r}: the duration must be more than zero")
    return math.ceil(seconds)


def parse_time(text: str) -> int:
    """An ISO 8601 time (`2026-01-31`, `2026-01-31T12:00`, `...Z`, `+02:00`; naive = UTC) or
    epoch seconds -> epoch seconds."""
    raw = text.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", raw):
        return int(float(raw))
    try:
        value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 such as 2026-01-31 or 2026-01-31T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def parse_point(text: str, now: int) -> int:
    """An absolute time, or a duration before `now` (`7d` = seven days ago)."""
    if _DURATION.match(text):
        return now - parse_duration(text)
    return parse_time(text)


def iso(ts: float) -> str:
    """Epoch seconds as CloudTrail writes times (`2026-01-31T12:00:00Z`)."""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TimeRange:
    """Inclusive bounds in epoch seconds; None = open on that side. `relative`: a bound was
    given as a duration, so the same flags mean another range tomorrow (no cache reuse)."""

    start: int | None = None
    end: int | None = None
    relative: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"the time range is empty: {iso(self.start)} is after "
                             f"{iso(self.end)}")

    def describe(self) -> str:
        """`2026-01-01T00:00:00Z to 2026-01-08T00:00:00Z`, `since ...`, `until ...`."""
        if self.start is not None and self.end is not None:
            return f"{iso(self.start)} to {iso(self.end)}"
        if self.start is not None:
            return f"since {iso(self.start)}"
        return f"until {iso(self.end)}" if self.end is not None else "all time"

    def key(self) -> str:
        """Part of a cache key: the same bounds give the same events."""
        return f"{self.start}-{self.end}"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The bounds as naive UTC timestamps (the events table's eventTime), open ends wide."""
        lo = dt.datetime(1, 1, 1) if self.start is None else _naive(self.start)
        hi = dt.datetime(9999, 12, 31, 23, 59, 59) if self.end is None else _naive(self.end)
        # Whole-second bounds, inclusive: an eventTime with a fraction in the last second
        # still belongs (CloudTrail itself writes whole seconds).
        return lo, hi + dt.timedelta(microseconds=999_999)

    def keeps_day(self, year: int, month: int, day: int) -> bool:
        """Whether a `yyyy/mm/dd` folder may hold an event in range (with FOLDER_MARGIN)."""
        try:
            begin = int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp())
        except ValueError:
            return True  # not a real date: open it, the exact filter decides
        if self.start is not None and begin + DAY + FOLDER_MARGIN <= self.start:
            return False
        return not (self.end is not None and begin - FOLDER_MARGIN > self.end)


def _naive(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None)


_BARE_DATE = re.compile(r"\s*\d{4}-?\d{2}-?\d{2}\s*")


def make_range(since: str | None, until: str | None, now: int | None = None) -> TimeRange | None:
    """The range from `--since/--until` texts; None when neither is given. ValueError says
    what is wrong with a bound. A bare date as the end takes that whole day (as --to does for
    Athena): `--since 2026-03-01 --until 2026-03-02` is two days."""
    if not since and not until:
        return None
    now = int(time.time()) if now is None else now
    start = parse_point(since, now) if since else None
    end = parse_point(until, now) if until else None
    if until and end is not None and _BARE_DATE.fullmatch(until):
        end += DAY - 1
    relative = any(t and _DURATION.match(t) for t in (since, until))
    return TimeRange(start, end, relative)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--since/--from` and `--until/--to`, defined once for files and for Athena/Trino
    (`remote_cli.time_chip` reads the same `since`, `from_`, `to`)."""
    when = parser.add_argument_group(
        "time range", "both ends inclusive, UTC unless an offset is given; a bare date as the "
        "end takes that whole day")
    when.add_argument("--since", metavar="TIME",
                      help="events at or after TIME: ISO (2026-01-31, 2026-01-31T12:00Z) or a "
                      "duration ago (7d, 12h, 30m); an S3 tree's day folders outside the range "
                      "are never opened. With --athena/--trino: a duration (default 1d)")
    when.add_argument("--from", dest="from_", metavar="TIME",
                      help="the same as --since (with --athena/--trino: the range start)")
    when.add_argument("--until", "--to", dest="to", metavar="TIME",
                      help="events at or before TIME (same forms as --since)")


def from_args(args: argparse.Namespace) -> TimeRange | None:
    """The parsed range of `add_arguments`' flags (ValueError: a usable message)."""
    since, from_ = getattr(args, "since", None), getattr(args, "from_", None)
    if since and from_:
        raise ValueError("give --since or --from, not both (they are the same)")
    return make_range(since or from_, getattr(args, "to", None))


# --- pruning an S3 tree ---------------------------------------------------------------------

_DAY_FOLDER = re.compile(r"/CloudTrail(?:-Insight)?/[a-z0-9-]+/(\d{4})/(\d{2})/(\d{2})/")


def folder_day(path: Path) -> tuple[int, int, int] | None:
    """(y, m, d) of an S3 trail path `.../CloudTrail/<region>/<yyyy>/<mm>/<dd>/...`."""
    m = _DAY_FOLDER.search(path.as_posix())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


@dataclass
class Pruned:
    """Files left to open, and how many an S3 tree's day folders ruled out unopened."""

    files: list[Path]
    skipped: int


def prune(files: Sequence[Path], rng: TimeRange | None) -> Pruned:
    """Drop the files whose S3 day folder cannot hold an event in `rng` (never opened)."""
    if rng is None:
        return Pruned(list(files), 0)
    kept: list[Path] = []
    cache: dict[tuple[int, int, int], bool] = {}
    for f in files:
        day = folder_day(f)
        if day is None:
            kept.append(f)
            continue
        ok = cache.get(day)
        if ok is None:
            ok = cache[day] = rng.keeps_day(*day)
        if ok:
            kept.append(f)
    return Pruned(kept, len(files) - len(kept))
