"""What the findings panel and the event detail ask of the `findings` view."""

from __future__ import annotations

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
