"""Events over time for the timeline: counts and errors per bucket, the bucket sized from the
span (a minute to a month) so the bars fill the width they are given.

Counted from the materialised view of the current filter (its `eventTime` and `errorCode`
columns), so the histogram follows every filter without scanning `events` again. No Textual.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import duckdb

BUCKETS: Final[tuple[timedelta, ...]] = (
    timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10),
    timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2),
    timedelta(hours=3), timedelta(hours=6), timedelta(hours=12), timedelta(days=1),
    timedelta(days=2), timedelta(days=7), timedelta(days=30),
)  # fmt: skip

_TABLE = re.compile(r"events|view_\d+")  # table names are interpolated: only ours pass


def choose_bucket(span: timedelta, width: int) -> timedelta:
    """The smallest bucket that fits `span` into `width` bars (the largest if none does)."""
    for bucket in BUCKETS:
        if span / bucket < max(1, width - 1):  # +1: the first bucket starts before the span
            return bucket
    return BUCKETS[-1]


def bucket_label(bucket: timedelta) -> str:
    seconds = int(bucket.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


@dataclass(frozen=True)
class Histogram:
    """Counts per bucket from `start`; bucket i covers [start + i*bucket, start + (i+1)*bucket)."""

    start: datetime
    bucket: timedelta
    counts: tuple[int, ...]
    errors: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.counts)

    def bounds(self, index: int) -> tuple[datetime, datetime]:
        begin = self.start + index * self.bucket
        return begin, begin + self.bucket

    @property
    def peak(self) -> int:
        """The index of the busiest bucket (the first, when tied)."""
        return max(range(len(self.counts)), key=lambda i: (self.counts[i], -i)) if self else 0


def histogram(cur: duckdb.DuckDBPyConnection, table: str, width: int) -> Histogram | None:
    """Events and errors per bucket in `table` (`events` or a `view_<n>`); None if no times."""
    if not _TABLE.fullmatch(table):
        raise ValueError(f"not an events table: {table!r}")
    row = cur.execute(f"SELECT min(eventTime), max(eventTime) FROM {table}").fetchone()
    if row is None or row[0] is None:
        return None
    lo, hi = row
    bucket = choose_bucket(hi - lo, width)
    rows = cur.execute(
        f"SELECT time_bucket(?::INTERVAL, eventTime) AS b, count(*), count(errorCode) "
        f"FROM {table} WHERE eventTime IS NOT NULL GROUP BY 1 ORDER BY 1", [bucket]).fetchall()
    start = rows[0][0]
    n = math.floor((rows[-1][0] - start) / bucket) + 1
    counts, errors = [0] * n, [0] * n
    for b, c, e in rows:
        i = round((b - start) / bucket)
        counts[i], errors[i] = int(c), int(e)
    return Histogram(start, bucket, tuple(counts), tuple(errors))
