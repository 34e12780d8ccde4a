"""Command-palette commands (ctrl+p) for the SQL console: the query library, past queries,
export and "copy the filter as SQL".

The provider runs actions on the screen the palette was opened from, falling back to the app
(the first of the two that defines `action_<name>`); the browser screen implements them:

    action_run_library_query(query_id: str = "")   "" opens the library list; an id opens that
                                                   query (its parameter form, or runs it at once
                                                   when it has none)
    action_run_console_query(sql: str, params: dict[str, object] | None = None)
                                                   put a past query in the console and run it
    action_export(what: str = "result")            what = "result" (the console's result) or
                                                   "events" (the current filtered events)
    action_copy_filter_sql(dialect: str)           dialect = "duckdb" or "athena"

History and library entries come from the user's files, so they are shown as `Content` built
from sanitised text, never parsed as markup (Textual's `Matcher.highlight` would parse it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from trailtui.data.history import History, HistoryEntry
from trailtui.data.queries import LibraryQuery, library
from trailtui.sanitize import safe_text

MAX_HISTORY_HITS: Final = 200
TITLE_CHARS: Final = 100


@dataclass(frozen=True)
class _Command:
    text: str
    """Plain, sanitised text the user searches and sees."""
    help: str
    action: str
    args: tuple[Any, ...] = ()
    discover: bool = True


def _one_line(text: str, limit: int = TITLE_CHARS) -> str:
    flat = safe_text(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def fixed_commands() -> list[_Command]:
    return [
        _Command(
            "Query library…",
            "Saved investigations: counts, sign-ins, IAM, root, by IP…",
            "run_library_query",
            ("",),
        ),
        _Command(
            "Export SQL result…",
            "Write the console's result to CSV, JSON, NDJSON, Parquet",
            "export",
            ("result",),
        ),
        _Command(
            "Export filtered events…",
            'Write the events under the current filter (CSV, NDJSON, {"Records":[...]}, …)',
            "export",
            ("events",),
        ),
        _Command(
            "Copy filter as DuckDB SQL",
            "The current filter as a query you can rerun",
            "copy_filter_sql",
            ("duckdb",),
        ),
        _Command(
            "Copy filter as Athena SQL",
            "The current filter for Amazon Athena",
            "copy_filter_sql",
            ("athena",),
        ),
    ]


def library_commands(queries: Iterable[LibraryQuery]) -> list[_Command]:
    return [
        _Command(
            f"Query: {_one_line(q.title)}",
            _one_line(f"{q.group}. {q.description}", 160),
            "run_library_query",
            (q.id,),
        )
        for q in queries
    ]


def history_commands(entries: Iterable[HistoryEntry]) -> list[_Command]:
    """Newest first, one per distinct query text."""
    seen: set[str] = set()
    out: list[_Command] = []
    for entry in reversed(list(entries)):
        key = entry.sql.strip()
        if key in seen:
            continue
        seen.add(key)
        out.append(
            _Command(
                f"History: {_one_line(entry.title or entry.sql)}",
                _one_line(entry.sql, 160),
                "run_console_query",
                (entry.sql, dict(entry.params)),
                discover=False,
            )
        )
        if len(out) >= MAX_HISTORY_HITS:
            break
    return out


class ConsoleCommands(Provider):
    """Library queries, past queries, export and copy-as-SQL in the command palette."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commands: list[_Command] = []

    async def startup(self) -> None:
        def load() -> list[_Command]:
            queries, _warnings = library()
            return [
                *fixed_commands(),
                *library_commands(queries),
                *history_commands(History().entries),
            ]

        self._commands = await asyncio.to_thread(load)

    def _target(self, action: str) -> Any:
        for node in (self.screen, self.app):
            if callable(getattr(node, f"action_{action}", None)):
                return node
        return None

    def _callback(self, command: _Command) -> Callable[[], None]:
        return partial(self._invoke, command)

    def _invoke(self, command: _Command) -> None:
        target = self._target(command.action)
        if target is None:
            self.app.notify(f"{command.text}: not available here", severity="warning", markup=False)
            return
        method = getattr(target, f"action_{command.action}")
        self.app.call_later(method, *command.args)

    async def discover(self) -> Hits:
        for command in self._commands:
            if command.discover and self._target(command.action) is not None:
                yield DiscoveryHit(
                    Content(command.text),
                    self._callback(command),
                    text=command.text,
                    help=command.help,
                )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands:
            if self._target(command.action) is None:
                continue
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(
                    score,
                    self._highlight(query, command.text),
                    self._callback(command),
                    text=command.text,
                    help=command.help,
                )

    def _highlight(self, query: str, text: str) -> Content:
        """Like `Matcher.highlight`, but on plain `Content` (it would parse markup)."""
        content = Content(text)
        matcher = self.matcher(query)
        _score, offsets = matcher.fuzzy_search.match(query, text)
        style = matcher.match_style
        if style is None:
            return content
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(style, offset, offset + 1)
        return content


__all__ = ["ConsoleCommands", "fixed_commands", "history_commands", "library_commands"]
