"""The SQL console pane: an editor, a status line and the result table.

The widget never runs SQL (attributes down, messages up): `ctrl+r`/F5 post `RunRequested`, the
screen runs it in a thread worker (`trailtui.workers.console`) and hands back a `QueryResult`
and its `ResultSource`, shown in the same virtual `VirtualTable` as the events, so a result of
any size is paged, never capped. `escape` posts `CancelRequested` while a query runs.

The editor, its history keys and the completion popup are in `trailtui.widgets.sql_editor`; the
console keeps the history and hands the editor the names to complete. Every data-derived or
user-typed string shown here (errors, values, names) goes through `trailtui.sanitize` into
`Content`, never markup.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import OptionList, Static

from trailtui.data.history import HistoryEntry
from trailtui.data.queries import QueryResult, ResultSource, event_column, format_ms, placeholders
from trailtui.sanitize import safe_content
from trailtui.widgets.sql_editor import CompletionList, SqlEditor, sql_language_available
from trailtui.widgets.virtual_table import Column, VirtualTable


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
        self._result: QueryResult | None = None
        self._started = 0.0
        self._ticker: Timer | None = None
        self.popup = CompletionList(id="sql-completions")
        self.editor = SqlEditor(
            self, self.popup, language="sql" if sql_language_available() else None,
            id="sql-editor",
        )
        self.status = Static(
            Content("ctrl+r runs · ctrl+space completes · ↑ history"), id="sql-status"
        )
        self.results = VirtualTable(id="sql-results")
        self.results.empty_message = "no result yet"

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
        return self.editor.names

    @completions.setter
    def completions(self, names: Sequence[str]) -> None:
        self.editor.names = tuple(names)

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
        self.editor.close_completion()
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
        self.editor.open_completion(explicit=True)

    # ------------------------------------------------------------------ history

    def _load(self, text: str, *, at_end: bool) -> None:
        self.editor.load_safe(text)
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
        return self.editor.completion_open

    @on(OptionList.OptionSelected, "#sql-completions")
    def _clicked_completion(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.editor.accept_completion(event.option_index)
        self.editor.focus()

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


__all__ = ["SqlConsole", "format_value"]
