"""Time ranges for LookupEvents: interval arithmetic and windows (parsing: data/timerange.py).

Times are whole epoch seconds (CloudTrail's eventTime has second precision). LookupEvents's
StartTime and EndTime are both inclusive, so neighbouring windows share a boundary second;
the writer drops the events that come twice.
"""

from __future__ import annotations

import math

from trailtui.data.timerange import iso, parse_duration, parse_time

HISTORY_DAYS = 90
"""Event history keeps 90 days; LookupEvents refuses nothing older, it just returns nothing."""
MAX_WINDOW = 86_400
"""No window longer than a day: a busy day has enough pages to keep the limiter busy."""
MIN_WINDOW = 60
TARGET_WINDOW = 900
"""Short ranges still get one window per 15 minutes, so several pages can be in flight."""
MAX_WINDOWS_PER_RANGE = 16

Interval = tuple[int, int]

# The parsing lives in the data layer (one parser for loading, fetch and Athena).
__all__ = ["iso", "merge", "parse_duration", "parse_time", "split", "subtract"]


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, overlapping or touching intervals joined."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] >= i[0]):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(wanted: Interval, covered: list[Interval]) -> list[Interval]:
    """The parts of `wanted` no covered interval holds (inclusive bounds, whole seconds)."""
    pieces: list[Interval] = []
    cursor = wanted[0]
    for start, end in merge(covered):
        if end < cursor or start > wanted[1]:
            continue
        if start > cursor:
            pieces.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
        if cursor > wanted[1]:
            break
    if cursor <= wanted[1]:
        pieces.append((cursor, wanted[1]))
    return pieces


def split(interval: Interval) -> list[Interval]:
    """Windows fetched independently (newest first), so pages of one region run side by side.

    At most a day each; short ranges get one per 15 minutes, up to 16, at least a minute.
    """
    start, end = interval
    length = end - start + 1
    count = max(math.ceil(length / MAX_WINDOW),
                min(MAX_WINDOWS_PER_RANGE, math.ceil(length / TARGET_WINDOW)))
    count = max(1, min(count, length // MIN_WINDOW or 1))
    size = math.ceil(length / count)
    windows: list[Interval] = []
    s = start
    while s <= end:
        e = min(end, s + size - 1)
        windows.append((s, e))
        s = e + 1
    return windows[::-1]  # newest first: the recent events land in the file first
