"""The frequency of one field under the current filter (VisiData's Shift+F), as a facet.

Every value of the field with its count and share, most first (`s` flips the order); typing
searches the values (in SQL, bound), `space` ticks values, `enter` filters to the ticked ones
ORed in one chip (`eventSource in (a, b)`), `x` excludes them instead, `v` shows the
highlighted value whole, `a` adds the field as a facet panel. The screen asks the data service
in a worker; values are CloudTrail text, shown through `sanitize`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from trailtui.data import explore
from trailtui.data.fields import Field
from trailtui.data.filters import FacetValue, FilterState
from trailtui.data.service import DataError, DataService, Job, JobCancelled
from trailtui.sanitize import cell_fit, safe_text
from trailtui.screens.searchable import SearchableListScreen

SHOWN: int = 1000  # rows listed at once; typing narrows the rest
NULL_LABEL = "(none)"


@dataclass(frozen=True)
class FrequencyChoice:
    """What the user asked for: filter (or exclude) these values, and/or add a facet panel."""

    path: str
    values: tuple[FacetValue, ...] = ()
    exclude: bool = False
    add_facet: bool = False


def value_label(value: FacetValue) -> str:
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value else '""'


class FrequencyScreen(SearchableListScreen[FrequencyChoice | None]):
    """One field's values with counts under the filter; pick several to OR them."""

    SEARCH_ID = "freq-search"
    LIST_KEYS = "sxva/ "
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="trailtui.freq.close"),
        Binding("space", "tick", "Tick", id="trailtui.freq.tick"),
        Binding("enter", "apply", "Filter to ticked", id="trailtui.freq.apply"),
        Binding("x", "exclude", "Exclude ticked", id="trailtui.freq.exclude"),
        Binding("s", "flip_sort", "Sort ↑↓", id="trailtui.freq.sort"),
        Binding("v", "show_value", "Whole value", id="trailtui.freq.value"),
        Binding("a", "add_facet", "Add as facet", id="trailtui.freq.facet"),
        Binding("slash", "search", "Search", id="trailtui.freq.search"),
    ]

    DEFAULT_CSS = """
    FrequencyScreen { align: center middle; background: $background 60%; }
    FrequencyScreen > Vertical {
        width: 90%; max-width: 140; height: 90%; border: thick $accent; background: $surface;
        padding: 0 1;
    }
    FrequencyScreen #freq-title { height: auto; text-style: bold; }
    FrequencyScreen #freq-search { height: 3; }
    FrequencyScreen #freq-list { height: 1fr; }
    FrequencyScreen #freq-status { height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        data: DataService,
        fld: Field,
        filters: FilterState,
        *,
        ticked: tuple[FacetValue, ...] = (),
        within: str | None = None,
        search: str = "",
    ) -> None:
        super().__init__()
        self.initial_search = search
        self.data = data
        self.field = fld
        self.filters = filters
        self.within = within
        self.ticked: list[FacetValue] = list(ticked)
        self.order: explore.SortOrder = "count_desc"
        self.result: explore.Frequency | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            n = len(self.filters)
            under = f" under {n} filter{'s' if n != 1 else ''}" if n else ""
            yield Static(Content(f"Frequency of {safe_text(self.field.path)}{under}"),
                         id="freq-title")
            yield Input(placeholder="type to search the values", id="freq-search",
                        select_on_focus=False)
            yield OptionList(id="freq-list")
            yield Static(Content("counting…"), id="freq-status")
        yield Footer()

    def on_mount(self) -> None:
        if self.initial_search:  # typed in a facet panel: go on typing here
            box = self.query_one("#freq-search", Input)
            box.value = self.initial_search
            box.cursor_position = len(box.value)
            box.focus()
        else:
            self.query_one(OptionList).focus()
        self.recount()

    # -- counting ---------------------------------------------------------------------------

    def recount(self) -> None:
        """Count again (new search text or order); a count still running is cancelled."""
        job = self.data.job("frequency", supersede=True)
        self._count(job, self.query_one("#freq-search", Input).value, self.order)

    @work(thread=True, group="frequency", exclusive=True, exit_on_error=False)
    def _count(self, job: Job, search: str, order: explore.SortOrder) -> None:
        try:
            result = self.data.frequency(self.field, self.filters, job, search=search,
                                         order=order, limit=SHOWN, within=self.within)
        except JobCancelled:
            return
        except DataError as exc:
            self.app.call_from_thread(self._failed, exc.line)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, result)

    def _failed(self, message: str) -> None:
        self.query_one("#freq-status", Static).update(Content(safe_text(f"failed: {message}")))

    def _row(self, value: FacetValue, count: int, width: int) -> Content:
        assert self.result is not None
        tick = "[x]" if value in self.ticked else "[ ]"
        share = f"{100 * self.result.share(count):5.1f}%"
        label = cell_fit(safe_text(value_label(value)), max(10, width))
        pad = " " * max(0, width - cell_len(label))
        return Content(f"{tick} {label}{pad} {count:>10,} {share}")

    def _value_width(self) -> int:
        """Cells for the value: the list's width less the tick, count and share columns."""
        lst = self.query_one(OptionList)
        inner = lst.scrollable_content_region.width or lst.size.width or 80
        return max(10, inner - 26)

    def _show(self, result: explore.Frequency) -> None:
        self.result = result
        lst = self.query_one(OptionList)
        keep = lst.highlighted
        width = self._value_width()
        lst.clear_options()
        lst.add_options([Option(self._row(v, n, width), id=str(i))
                         for i, (v, n) in enumerate(result.rows)])
        if result.rows:
            lst.highlighted = min(keep or 0, len(result.rows) - 1)
        self._update_status()

    def _update_status(self) -> None:
        r = self.result
        if r is None:
            return
        more = f" (first {len(r.rows):,} shown: type to narrow)" if r.distinct > len(r.rows) else ""
        arrow = "most first" if self.order == "count_desc" else "fewest first"
        ticked = f" · {len(self.ticked)} ticked" if self.ticked else ""
        found = f" matching {r.search!r}" if r.search else ""
        self.query_one("#freq-status", Static).update(Content(safe_text(
            f"{r.distinct:,} values{found} · {r.events:,} events · {arrow}{ticked}{more}")))

    # -- keys -------------------------------------------------------------------------------

    def _highlighted(self) -> tuple[FacetValue, int] | None:
        if self.result is None:
            return None
        i = self.query_one(OptionList).highlighted
        if i is None or not 0 <= i < len(self.result.rows):
            return None
        return self.result.rows[i]

    def action_tick(self) -> None:
        row = self._highlighted()
        if row is None:
            self.notify("no value here to tick", markup=False)
            return
        value = row[0]
        if value in self.ticked:
            self.ticked.remove(value)
        else:
            self.ticked.append(value)
        lst = self.query_one(OptionList)
        i = lst.highlighted or 0
        width = self._value_width()
        lst.replace_option_prompt_at_index(i, self._row(value, row[1], width))
        if i + 1 < lst.option_count:
            lst.highlighted = i + 1
        self._update_status()

    def _chosen(self) -> tuple[FacetValue, ...]:
        if self.ticked:
            return tuple(self.ticked)
        row = self._highlighted()
        return (row[0],) if row is not None else ()

    def action_apply(self) -> None:
        values = self._chosen()
        if not values:
            self.notify("no value to filter to", markup=False)
            return
        self.dismiss(FrequencyChoice(self.field.path, values))

    def action_exclude(self) -> None:
        values = self._chosen()
        if not values:
            self.notify("no value to exclude", markup=False)
            return
        self.dismiss(FrequencyChoice(self.field.path, values, exclude=True))

    def action_add_facet(self) -> None:
        self.dismiss(FrequencyChoice(self.field.path, add_facet=True))

    def action_flip_sort(self) -> None:
        self.order = "count_asc" if self.order == "count_desc" else "count_desc"
        self.recount()

    def action_show_value(self) -> None:
        from trailtui.screens.value import ValueScreen

        row = self._highlighted()
        if row is None:
            self.notify("no value here", markup=False)
            return
        self.app.push_screen(ValueScreen(self.field.path, row[0]))

    @on(Input.Changed, "#freq-search")
    def _on_search(self) -> None:
        self.recount()

    @on(Input.Submitted, "#freq-search")
    def _on_search_done(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _on_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_apply()
