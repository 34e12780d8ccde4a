"""requestParameters by API: for the events under the filter, each eventName's parameter keys
with counts; `enter` on a key lists its values (a facet on `requestParameters.<key>`), `enter`
on a value filters the table to it (two chips: the API and the value). Opened with `P`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer
from textual.worker import get_current_worker

from trailtui.data import investigate
from trailtui.data.filters import NULL_LABEL, Chip, FilterState, param_column
from trailtui.data.service import DataError, DataService, Job, JobCancelled
from trailtui.sanitize import safe_text
from trailtui.widgets.empty_note import EmptyNote


class ParamsScreen(ModalScreen[list[Chip] | None]):
    """Parameter keys per API, then one key's values; dismisses with chips, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back / close", id="trailtui.params.back",
                tooltip="back to the keys, or close"),
        Binding("enter", "pick", "Open / filter", id="trailtui.params.pick", priority=True,
                tooltip="on a key: its values; on a value: filter the table to it"),
    ]

    DEFAULT_CSS = """
    ParamsScreen {
        align: center middle;
        & > #params {
            width: 1fr; height: 1fr; margin: 1 2 0 2;
            border: round $primary; border-title-color: $text-primary; background: $surface;
        }
        & #params-table { height: 1fr; }
    }
    """

    def __init__(self, data: DataService, filters: FilterState | None = None) -> None:
        super().__init__()
        self.data = data
        self.filters = filters or FilterState()
        self.keys: list[tuple[str, str, int]] = []
        self.values: list[tuple[str | None, int]] = []
        self.key: tuple[str, str] | None = None  # (eventName, key) whose values are shown

    def compose(self) -> ComposeResult:
        with Vertical(id="params") as box:
            box.border_title = "requestParameters by API"
            box.border_subtitle = "enter open / filter · esc back"
            yield EmptyNote()
            yield DataTable(id="params-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._load_keys(self.data.job("params", supersede=True))

    def _table(self) -> DataTable[Text]:
        return self.query_one("#params-table", DataTable)

    @work(thread=True, group="params", exclusive=True, exit_on_error=False)
    def _load_keys(self, job: Job) -> None:
        filters = self.filters
        try:
            keys = self.data.ask(lambda cur: investigate.request_parameter_keys(cur, filters),
                                 job)
        except (DataError, JobCancelled):
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_keys, keys)

    def _show_keys(self, keys: list[tuple[str, str, int]]) -> None:
        back_from = self.key
        self.keys, self.key = keys, None
        table = self._table()
        table.clear(columns=True)
        table.add_column("Event name", width=40)
        table.add_column("requestParameters key", width=40)
        table.add_column("Events", width=10)
        for api, key, n in keys:
            table.add_row(Text(safe_text(api), overflow="ellipsis", no_wrap=True),
                          Text(safe_text(key), overflow="ellipsis", no_wrap=True),
                          Text(f"{n:,}", justify="right"))
        box = self.query_one("#params", Vertical)
        box.border_title = f"requestParameters by API · {len(keys):,} keys"
        self.query_one(EmptyNote).show(None if keys else
                                       "no requestParameters under this filter")
        if back_from is not None:  # back from a key's values: the cursor on that key again
            table.move_cursor(row=next((i for i, (a, k, _n) in enumerate(keys)
                                        if (a, k) == back_from), 0))
        table.focus()

    @work(thread=True, group="params", exclusive=True, exit_on_error=False)
    def _load_values(self, job: Job, api: str, key: str) -> None:
        filters = self.filters.add(Chip.include("eventName", api))
        try:
            values = self.data.ask(
                lambda cur: investigate.request_parameter_values(cur, key, filters), job)
        except (DataError, JobCancelled):
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_values, api, key, values)

    def _show_values(self, api: str, key: str, values: list[tuple[str | None, int]]) -> None:
        self.values, self.key = values, (api, key)
        table = self._table()
        table.clear(columns=True)
        # Labels and titles given as `str` are parsed as markup: data goes in as Text/Content.
        table.add_column(Text(safe_text(f"{api} · requestParameters.{key}")), width=80)
        table.add_column("Events", width=10)
        for value, n in values:
            cell = Text(NULL_LABEL, style="dim") if value is None else Text(
                safe_text(value), overflow="ellipsis", no_wrap=True)
            table.add_row(cell, Text(f"{n:,}", justify="right"))
        box = self.query_one("#params", Vertical)
        box.border_title = Content(safe_text(f"{api} · {key} · {len(values):,} values"))
        self.query_one(EmptyNote).show(None if values else "no values under this filter")
        table.focus()

    def action_pick(self) -> None:
        row = self._table().cursor_row
        if self.key is None:
            if 0 <= row < len(self.keys):
                api, key, _n = self.keys[row]
                self._load_values(self.data.job("params", supersede=True), api, key)
        elif 0 <= row < len(self.values):
            api, key = self.key
            self.dismiss([Chip.include("eventName", api),
                          Chip.include(param_column(key), self.values[row][0])])

    def action_back(self) -> None:
        if self.key is not None:
            self._show_keys(self.keys)
        else:
            self.dismiss(None)
