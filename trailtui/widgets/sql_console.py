"""The SQL console pane: an editor, a status line and the result table.

The widget never runs SQL (attributes down, messages up): `ctrl+r`/F5 post `RunRequested`, the
screen runs it in a thread worker (see `trailtui.screens.console_runner`) and hands back a
`QueryResult` and its `ResultSource`, shown in the same virtual `VirtualTable` as the events, so a
result of any size is paged, never capped. `escape` posts `CancelRequested` while a query runs.

Editor: Textual's `TextArea` (SQL highlighting when tree-sitter-sql is installed), with history
on `up` at the first line / `down` at the last, and a small completion popup (`ctrl+space`, or
typing `.` after a name) over names the screen computes from DuckDB's catalog
(`trailtui.data.queries.completions`). Every data-derived or user-typed string shown here
(errors, values, names) goes through `trailtui.sanitize` into `Content`, never markup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import ClassVar, Final

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from trailtui.data.history import HistoryEntry
from trailtui.data.queries import QueryResult, ResultSource, event_column, format_ms, placeholders
from trailtui.sanitize import safe_content, safe_text
from trailtui.widgets.virtual_table import Column, VirtualTable

MAX_COMPLETIONS: Final = 200
_WORD_BEFORE: Final = re.compile(r"[A-Za-z_][\w.]*$")
_TERMINAL_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def editor_safe(text: str) -> str:
    """Text for the editor with terminal control characters (ESC, C1...) made visible.

    TextArea writes characters to the terminal as they are, so SQL recalled from a file or
    pasted must not carry escape sequences; tabs and line ends are kept.
    """
    return _TERMINAL_CONTROLS.sub(lambda m: safe_text(m.group(0)), text)


def sql_language_available() -> bool:
    """True when Textual can highlight SQL (the `tree-sitter` and `tree-sitter-sql` packages)."""
    try:
        from textual._tree_sitter import get_language
    except ImportError:  # pragma: no cover - a Textual without tree-sitter support
        return False
    try:
        return get_language("sql") is not None
    except Exception:  # a broken grammar must not stop the console
        return False


def match_completions(
    names: Sequence[str], word: str, limit: int = MAX_COMPLETIONS
) -> list[tuple[str, str]]:
    """(shown, inserted) pairs for the word before the cursor, case-insensitive prefix match.

    Shallow names first (`userIdentity.arn` before `userIdentity.sessionContext.x`); names that
    differ only in case (`userIdentity.arn`, and `useridentity.arn` from the Athena view) are
    offered once, in the spelling closest to what was typed. When nothing matches a dotted word,
    its first part is taken as a table alias (`e.userIdentity.` completes like
    `userIdentity.`, keeping `e.`).
    """
    found = _prefixed(names, word)
    if found or "." not in word:
        return [(n, n) for n in found[:limit]]
    alias, rest = word.split(".", 1)
    return [(n, f"{alias}.{n}") for n in _prefixed(names, rest)[:limit]]


def _prefixed(names: Sequence[str], word: str) -> list[str]:
    lowered = word.lower()
    best: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if not key.startswith(lowered) or key == lowered:
            continue
        seen = best.get(key)
        if seen is None or (not seen.startswith(word) and name.startswith(word)):
            best[key] = name
    return sorted(best.values(), key=lambda n: (n.count("."), n.lower(), n))


def format_value(value: object) -> str:
    """Plain text for a result cell (the table sanitises it): JSON for structs and lists."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dict | list | tuple):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class CompletionList(OptionList, can_focus=False):
    """The completion popup: drawn over the console, driven from the editor's keys."""

    DEFAULT_CSS = """
    CompletionList {
        overlay: screen;
        position: absolute;
        display: none;
        width: 56;
        height: auto;
        max-height: 12;
        border: round $accent;
        background: $surface;
        padding: 0;
    }
    """


class SqlEditor(TextArea):
    """A TextArea whose edge keys walk history and whose keys drive the completion popup."""

    # ctrl+a selects everything, as in every other editor (TextArea's default moves to the
    # line start, which `home` still does; F7 keeps working too).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "select_all", "Select all", show=False, id="trailtui.console.select_all"),
    ]

    def __init__(self, console: SqlConsole, *, language: str | None, id: str | None = None) -> None:
        super().__init__(
            language=language, id=id, tab_behavior="focus", soft_wrap=False, show_line_numbers=False
        )
        self._sql_console = console
        self.last_typed: str | None = None
        """The printable character of the last key (for the `.` completion trigger)."""

    async def _on_key(self, event: events.Key) -> None:
        console = self._sql_console
        if console.completion_open:
            if event.key in ("enter", "tab"):
                event.stop()
                event.prevent_default()
                console.accept_completion()
                return
            if event.key == "escape":
                event.stop()
                event.prevent_default()
                console.close_completion()
                return
            if event.key in ("pageup", "pagedown"):
                event.stop()
                event.prevent_default()
                console.move_completion(-10 if event.key == "pageup" else 10)
                return
        self.last_typed = event.character if event.is_printable else None

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = editor_safe(event.text)

    def action_cursor_up(self, select: bool = False) -> None:
        if self._sql_console.completion_open and not select:
            self._sql_console.move_completion(-1)
            return
        if not select and self.cursor_at_first_line and self._sql_console.history_back():
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if self._sql_console.completion_open and not select:
            self._sql_console.move_completion(1)
            return
        if not select and self.cursor_at_last_line and self._sql_console.history_forward():
            return
        super().action_cursor_down(select)


class SqlConsole(Vertical):
    """Editor + status + results. See the module docstring for the messages and attributes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r,f5", "run", "Run query", id="trailtui.console.run",
                tooltip="run the query"),
        Binding("escape", "cancel", "Cancel query", id="trailtui.console.cancel",
                tooltip="cancel the running query"),
        Binding("ctrl+space", "complete", "Complete", show=False, id="trailtui.console.complete",
                tooltip="complete a table, column or struct field name"),
    ]

    DEFAULT_CSS = """
    SqlConsole {
        height: 1fr;
        & > SqlEditor {
            height: 8;
            min-height: 3;
            border: none;
            padding: 0 1;
        }
        & > #sql-status {
            height: auto;
            max-height: 8;
            padding: 0 1;
            color: $text-muted;
            background: $panel;
            overflow-y: auto;
        }
        & > #sql-status.-error {
            color: $text-error;
            background: $error-muted;
        }
        & > #sql-status.-cancelled {
            color: $text-warning;
            background: $warning-muted;
        }
        & > #sql-status.-running {
            color: $text-accent;
        }
        & > #sql-results {
            height: 1fr;
        }
    }
    """

    class RunRequested(Message):
        """Run `sql` with `params` bound (only those whose `$name` the text still uses)."""

        def __init__(self, console: SqlConsole, sql: str, params: dict[str, object]) -> None:
            super().__init__()
            self.console = console
            self.sql = sql
            self.params = params

        @property
        def control(self) -> SqlConsole:
            return self.console

    class CancelRequested(Message):
        """`escape` while a query runs: the screen interrupts it."""

        def __init__(self, console: SqlConsole) -> None:
            super().__init__()
            self.console = console

        @property
        def control(self) -> SqlConsole:
            return self.console

    class OpenEvent(Message):
        """`enter` on an event-shaped result row: open that event's detail.

        `file_id`/`line` are the original record's key when the result carries `_file_id` and
        `_line`; otherwise they are None and `event_id` plus the `row` (all its values by
        column) find it: `queries.locate_event(cur, event_id, row)`."""

        def __init__(
            self,
            console: SqlConsole,
            file_id: int | None,
            line: int | None,
            event_id: str | None,
            row: dict[str, object] | None = None,
        ) -> None:
            super().__init__()
            self.console = console
            self.file_id = file_id
            self.line = line
            self.event_id = event_id
            self.row = row or {}

        @property
        def control(self) -> SqlConsole:
            return self.console

    class FilterTo(Message):
        """`enter` on a value-and-count row: filter the events to `column = value`.

        `field` is the `events` column that `column` names (case-insensitive, Athena names
        too), or None when the value is computed (e.g. `user_or_role`)."""

        def __init__(
            self, console: SqlConsole, column: str, value: object, field: str | None
        ) -> None:
            super().__init__()
            self.console = console
            self.column = column
            self.value = value
            self.field = field

        @property
        def control(self) -> SqlConsole:
            return self.console

    running: reactive[bool] = reactive(False)
    """True while a query of this console runs (escape cancels). Set by the runner."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._history: tuple[HistoryEntry, ...] = ()
        self._history_index: int | None = None
        self._draft = ""
        self._draft_params: dict[str, object] = {}
        self._params: dict[str, object] = {}
        self._completions: tuple[str, ...] = ()
        self._matches: list[tuple[str, str]] = []
        self._word = ""
        self._word_start = (0, 0)
        self._result: QueryResult | None = None
        self._started = 0.0
        self._ticker: Timer | None = None
        self.editor = SqlEditor(
            self, language="sql" if sql_language_available() else None, id="sql-editor"
        )
        self.status = Static(
            Content("ctrl+r runs · ctrl+space completes · ↑ history"), id="sql-status"
        )
        self.results = VirtualTable(id="sql-results")
        self.results.empty_message = "no result yet"
        self.popup = CompletionList(id="sql-completions")

    def compose(self) -> ComposeResult:
        yield self.editor
        yield self.status
        yield self.results
        yield self.popup

    # ------------------------------------------------------------------ attributes (down)

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """Past queries, oldest first (the screen assigns `History.entries`)."""
        return self._history

    @history.setter
    def history(self, entries: Sequence[HistoryEntry]) -> None:
        self._history = tuple(entries)
        self._history_index = None

    @property
    def completions(self) -> tuple[str, ...]:
        """Names the popup offers (the screen assigns `queries.completions(cur)`)."""
        return self._completions

    @completions.setter
    def completions(self, names: Sequence[str]) -> None:
        self._completions = tuple(names)

    @property
    def sql(self) -> str:
        return self.editor.text

    @property
    def params(self) -> dict[str, object]:
        """Bound values kept with the editor text (from the library or a recalled entry)."""
        return dict(self._params)

    @property
    def result(self) -> QueryResult | None:
        """The result shown in the table, if any."""
        return self._result

    def set_query(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        """Put a query (e.g. from the library) in the editor with the values bound to it."""
        self._history_index = None
        self._params = dict(params or {})
        self._load(sql, at_end=True)

    def focus_editor(self) -> None:
        self.editor.focus()

    # ------------------------------------------------------------------ outcomes (down)

    def show_running(self) -> None:
        """A query started: say so and let `escape` cancel it."""
        self.running = True
        self._started = time.monotonic()
        self._set_status("running… (escape cancels)", "-running")
        if self._ticker is None:
            self._ticker = self.set_interval(0.25, self._tick)

    def _tick(self) -> None:
        if self.running:
            took = format_ms((time.monotonic() - self._started) * 1000)
            self._set_status(f"running… {took} (escape cancels)", "-running")

    def _stopped(self) -> None:
        self.running = False
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def show_result(self, result: QueryResult, source: ResultSource | None) -> None:
        """Show a finished query: its rows in the table, "N rows in T" or "OK" above them."""
        self._stopped()
        self._result = result
        status = result.status
        if result.has_rows and source is not None:
            numeric = result.numeric_columns
            widths = result.widths or tuple(len(c) for c in result.columns)
            self.results.columns = [
                Column(
                    key=name,
                    label=name,
                    width=width,
                    min_width=min(max(len(name), 4), 12),
                    max_width=80,
                    align="right" if name in numeric else "left",
                    formatter=format_value,
                )
                for name, width in zip(result.columns, widths, strict=False)
            ]
            self.results.empty_message = "no rows"
            self.results.set_source(source, cursor_row=0)
            hint = ""
            if result.event_shaped:
                hint = " · enter opens the event"
            elif result.value_count:
                hint = " · enter filters the events"
            status += hint
        else:
            self.results.set_source(None)
            self.results.columns = []
            self.results.empty_message = result.message or "OK"
        self._set_status(status, "")

    def show_error(self, message: str) -> None:
        """DuckDB's message (or any error) beside the query, as literal text."""
        self._stopped()
        self._result = None
        self.results.set_source(None)
        self.results.columns = []
        self.results.empty_message = "query failed"
        self._set_status(message, "-error", multiline=True)

    def show_cancelled(self, elapsed_ms: float | None = None) -> None:
        self._stopped()
        took = f" after {format_ms(elapsed_ms)}" if elapsed_ms is not None else ""
        self._set_status(f"cancelled{took}", "-cancelled")

    def show_message(self, text: str) -> None:
        """A neutral note in the status line (e.g. "a query is already running")."""
        self._set_status(text, "")

    def _set_status(self, text: str, state: str, *, multiline: bool = False) -> None:
        self.status.update(safe_content(text, multiline=multiline))
        for cls in ("-error", "-cancelled", "-running"):
            self.status.set_class(cls == state, cls)

    @property
    def status_text(self) -> str:
        """The status line as plain text (for tests and screen readers of the app)."""
        visual = self.status.visual
        return visual.plain if isinstance(visual, Content) else str(visual)

    # ------------------------------------------------------------------ actions

    def action_run(self) -> None:
        sql = self.editor.text
        if not sql.strip():
            self.show_message("nothing to run: type a query (ctrl+space completes names)")
            return
        self.close_completion()
        self._history_index = None
        try:
            used = placeholders(sql)
        except Exception:
            used = set()
        params = {k: v for k, v in self._params.items() if k in used}
        self.post_message(self.RunRequested(self, sql, params))

    def action_cancel(self) -> None:
        if self.running:
            self.post_message(self.CancelRequested(self))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            # Unbound unless a query runs, so `escape` still reaches the screen otherwise.
            return self.running
        return True

    def action_complete(self) -> None:
        self._open_completion(explicit=True)

    # ------------------------------------------------------------------ history

    def _load(self, text: str, *, at_end: bool) -> None:
        self.close_completion()
        self.editor.load_text(editor_safe(text))
        self.editor.last_typed = None
        if at_end:
            last = self.editor.document.line_count - 1
            self.editor.move_cursor((last, len(self.editor.document.get_line(last))))
        else:
            self.editor.move_cursor((0, 0))

    def history_back(self) -> bool:
        """`up` on the first line: the previous entry (False when there is none)."""
        if not self._history:
            return False
        if self._history_index is None:
            self._draft = self.editor.text
            self._draft_params = dict(self._params)
            index = len(self._history) - 1
        elif self._history_index == 0:
            return False
        else:
            index = self._history_index - 1
        self._history_index = index
        entry = self._history[index]
        self._params = dict(entry.params)
        # Cursor at the start, so the next `up` keeps walking back.
        self._load(entry.sql, at_end=False)
        return True

    def history_forward(self) -> bool:
        """`down` on the last line: the next entry, then back to what was being typed."""
        if self._history_index is None:
            return False
        index = self._history_index + 1
        if index >= len(self._history):
            self._history_index = None
            self._params = self._draft_params
            self._load(self._draft, at_end=True)
            return True
        self._history_index = index
        entry = self._history[index]
        self._params = dict(entry.params)
        self._load(entry.sql, at_end=True)
        return True

    # ------------------------------------------------------------------ completion

    @property
    def completion_open(self) -> bool:
        return self.popup.display and bool(self._matches)

    def _word_before_cursor(self) -> str:
        row, column = self.editor.cursor_location
        prefix = self.editor.document.get_line(row)[:column]
        match = _WORD_BEFORE.search(prefix)
        return match.group(0) if match else ""

    def _open_completion(self, *, explicit: bool) -> None:
        word = self._word_before_cursor()
        if not word and not explicit:
            self.close_completion()
            return
        matches = match_completions(self._completions, word)
        if not matches:
            self.close_completion()
            if explicit:
                self.app.bell()
            return
        self._word = word
        row, column = self.editor.cursor_location
        self._word_start = (row, column - len(word))
        self._matches = matches
        self.popup.clear_options()
        self.popup.add_options(Option(safe_content(shown)) for shown, _ in matches)
        self.popup.highlighted = 0
        self.popup.display = True
        self._place_popup()

    def _place_popup(self) -> None:
        cursor = self.editor.cursor_screen_offset
        origin = self.content_region.offset
        height = min(len(self._matches), 10) + 2
        y = cursor.y - origin.y + 1
        if cursor.y + 1 + height > self.screen.size.height and cursor.y - height >= 0:
            y = cursor.y - origin.y - height
        x = max(0, cursor.x - origin.x - len(self._word))
        self.popup.styles.offset = (x, y)

    def close_completion(self) -> None:
        self._matches = []
        if self.popup.display:
            self.popup.display = False

    def move_completion(self, delta: int) -> None:
        if not self._matches:
            return
        current = self.popup.highlighted or 0
        self.popup.highlighted = max(0, min(len(self._matches) - 1, current + delta))

    def accept_completion(self) -> None:
        """Replace the word before the cursor with the highlighted name."""
        index = self.popup.highlighted
        if index is None or not 0 <= index < len(self._matches):
            self.close_completion()
            return
        _shown, insert = self._matches[index]
        word = self._word_before_cursor()
        row, column = self.editor.cursor_location
        self.close_completion()
        self.editor.replace(insert, (row, column - len(word)), (row, column))

    @on(OptionList.OptionSelected, "#sql-completions")
    def _clicked_completion(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.popup.highlighted = event.option_index
        self.accept_completion()
        self.editor.focus()

    @on(TextArea.Changed, "#sql-editor")
    def _edited(self, event: TextArea.Changed) -> None:
        typed, self.editor.last_typed = self.editor.last_typed, None
        if typed == "." and self._completions and not self.completion_open:
            self._open_completion(explicit=False)

    @on(TextArea.SelectionChanged, "#sql-editor")
    def _cursor_moved(self, event: TextArea.SelectionChanged) -> None:
        """Typing or arrows inside the word refilter the popup; leaving the word closes it."""
        if not self.completion_open:
            return
        row, column = self.editor.cursor_location
        if row != self._word_start[0] or column <= self._word_start[1]:
            self.close_completion()
        else:
            self._open_completion(explicit=False)

    # ------------------------------------------------------------------ results (up)

    @on(VirtualTable.RowActivated, "#sql-results")
    def _row_activated(self, event: VirtualTable.RowActivated) -> None:
        event.stop()
        result = self._result
        if result is None:
            return
        values = self.results.row_values(event.row_index)
        if values is None:
            return
        if result.event_shaped:
            file_id = line = None
            keys = result.key_columns
            if keys is not None:
                raw_file, raw_line = values.get(keys[0]), values.get(keys[1])
                if isinstance(raw_file, int) and isinstance(raw_line, int):
                    file_id, line = raw_file, raw_line
            id_column = result.event_id_column
            event_id = values.get(id_column) if id_column else None
            if file_id is None and not isinstance(event_id, str):
                return
            self.post_message(
                self.OpenEvent(
                    self,
                    file_id,
                    line,
                    event_id if isinstance(event_id, str) else None,
                    dict(values),
                )
            )
        elif result.value_count:
            column = result.columns[0]
            self.post_message(self.FilterTo(self, column, values.get(column), event_column(column)))

    @on(VirtualTable.RowHighlighted, "#sql-results")
    @on(VirtualTable.MarksChanged, "#sql-results")
    def _keep_inside(self, event: Message) -> None:
        # The screen's own handlers are for the events table; these are the console's rows.
        event.stop()


__all__ = [
    "CompletionList",
    "SqlConsole",
    "SqlEditor",
    "editor_safe",
    "format_value",
    "match_completions",
    "sql_language_available",
]
