"""What the findings panel and the event detail ask of the `findings` view."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from trailtui.data.findings.engine import LEVEL_RANK_SQL


@dataclass(frozen=True)
class FindingSummary:
    """One rule that fired: its most severe level, how many events and actors it flagged."""

    rule_id: str
    title: str
    level: str
    events: int
    actors: int
    tags: tuple[str, ...] = ()


def summarize(cur: duckdb.DuckDBPyConnection) -> list[FindingSummary]:
    """Every rule that fired, most severe first, then most events."""
    rows = cur.execute(f"""
        SELECT rule_id, any_value(title), arg_max(level, {LEVEL_RANK_SQL}),
               count(DISTINCT (_file_id, _line)), count(DISTINCT actor), any_value(tags),
               max({LEVEL_RANK_SQL}) AS rank
        FROM findings GROUP BY rule_id
        ORDER BY rank DESC, 4 DESC, 2""").fetchall()
    return [FindingSummary(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]),
                           tuple(r[5] or ())) for r in rows]


def findings_of_event(cur: duckdb.DuckDBPyConnection, file_id: int,
                      line: int) -> list[tuple[str, str, str]]:
    """(level, title, rule_id) of the findings on one event, most severe first.

    Empty (not an error) when findings have not been computed (yet).
    """
    try:
        rows = cur.execute(
            f"SELECT level, title, rule_id FROM findings WHERE _file_id = ? AND _line = ? "
            f"ORDER BY {LEVEL_RANK_SQL} DESC, title", [int(file_id), int(line)]).fetchall()
    except duckdb.CatalogException:
        return []
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def counts_within(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[int, int]]:
    """Events and actors per rule among the events of a view table (`view_<n>`, the current
    filter's events): the findings panel counts under the filter. Only the hits are joined,
    so it costs a scan of the view's keys, not a new run of the rules. {} when findings have
    not been computed (yet)."""
    if not re.fullmatch(r"view_\d+", table):  # interpolated: only our own view tables
        raise ValueError(f"not a view table: {table!r}")
    view = table
    try:
        rows = cur.execute(f"""
            SELECT r.rule_id, count(DISTINCT (v._file_id, v._line)), count(DISTINCT v.actor)
            FROM finding_hits h
            JOIN finding_rules r ON r.rule_idx = h.rule_idx
            JOIN {view} v ON v._file_id = h._file_id AND v._line = h._line
            WHERE r.generate GROUP BY r.rule_id""").fetchall()
    except duckdb.CatalogException:
        return {}
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}
