"""The browser's investigation parts (issue 11): the actors screen, the timeline above the
table and the coverage banner, as a mixin so that `browser.py` only wires them in.

Attributes down, messages up: workers compute in threads and post `HistogramReady` /
`CoverageReady`; the handlers here hand the results to the widgets. Key bindings are declared
in `BrowserScreen.BINDINGS` (A, C, [, ], z, Z).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from trailtui.data import coverage, investigate, timeline
from trailtui.data.filters import Chip, FilterState
from trailtui.data.service import DataError, DataService, JobCancelled
from trailtui.sanitize import safe_text
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from trailtui.widgets.virtual_table import VirtualTable


INVESTIGATE = "investigate"
"""Job purpose of the work after a load (views into tables, coverage)."""


class HistogramReady(Message):
    """Events per time bucket under the filter of `generation`."""

    def __init__(self, generation: int, histogram: timeline.Histogram | None) -> None:
        super().__init__()
        self.generation = generation
        self.histogram = histogram


class CoverageReady(Message):
    """What the loaded data covers (after each load)."""

    def __init__(self, report: coverage.Coverage) -> None:
        super().__init__()
        self.report = report


def after_load(data: DataService, post: Any) -> None:
    """Worker side, once per load: the investigation facts (data/investigate.py), coverage."""
    sources = list(data.store.sources)

    def question(cur: Any) -> coverage.Coverage:
        investigate.ensure_facts(cur)
        return coverage.coverage(cur, sources)

    with contextlib.suppress(DataError, JobCancelled):
        post(CoverageReady(data.ask(question, data.job(INVESTIGATE), INVESTIGATE)))


def view_histogram(data: DataService, table: str, width: int, generation: int,
                   post: Any) -> None:
    """Worker side, after each view: the histogram of its events (a view already replaced
    by a newer one may be gone: then nothing is posted)."""
    with contextlib.suppress(DataError, JobCancelled):
        post(HistogramReady(generation, data.ask(
            lambda cur: timeline.histogram(cur, table, max(10, width)), None, "timeline")))


class InvestigateMixin:
    """Actions and handlers BrowserScreen mixes in (it provides the attributes typed here)."""

    data: DataService
    filters: FilterState
    generation: int
    coverage_report: coverage.Coverage | None = None
    _zooms: list[Chip]

    if TYPE_CHECKING:
        def set_filters(self, filters: FilterState) -> None: ...
        def _table(self) -> VirtualTable: ...

    def _screen(self) -> Screen[Any]:
        return cast("Screen[Any]", self)

    # -- actors ---------------------------------------------------------------------------------

    def action_actors(self) -> None:
        """`A`: the actors screen; from a facet value, the actors behind it; from an event,
        its actor selected."""
        from trailtui.screens.actors import ActorsScreen

        filters, select = self.filters, None
        focused = self._screen().app.focused
        if isinstance(focused, FacetPanel) and focused.highlighted is not None:
            value = focused.counts[focused.highlighted][0] if focused.counts else None
            if focused.facet_key == "actor":
                select = value if isinstance(value, str) else None
            else:
                with contextlib.suppress(TypeError, ValueError):
                    filters = filters.add(Chip.include(focused.facet_key, value))  # type: ignore[arg-type]
        else:
            table = self._table()
            if table.row_count:
                row = table.row_values(table.cursor_row)
                actor = row.get("actor") if row else None
                select = actor if isinstance(actor, str) else None

        def done(chips: list[Chip] | None) -> None:
            if chips:
                state = filters
                for chip in chips:
                    state = state.add(chip)
                self.set_filters(state)
                self._table().focus()

        self._screen().app.push_screen(ActorsScreen(self.data, filters, select), done)

    def _add_chips(self, chips: list[Chip] | None) -> None:
        if chips:
            state = self.filters
            for chip in chips:
                state = state.add(chip)
            self.set_filters(state)
            self._table().focus()

    def action_new_values(self) -> None:
        """`N`: values first seen in the last day (or hour, week) and rare values."""
        from trailtui.screens.new_values import NewValuesScreen

        self._screen().app.push_screen(NewValuesScreen(self.data, self.filters), self._add_chips)

    def action_sessions(self) -> None:
        """`K`: temporary credentials, their chains and issuing events."""
        from trailtui.screens.sessions import SessionsScreen

        self._screen().app.push_screen(SessionsScreen(self.data, self.filters), self._add_chips)

    def action_params(self) -> None:
        """`P`: requestParameters keys per API under the filter, then a key's values."""
        from trailtui.screens.params import ParamsScreen

        self._screen().app.push_screen(ParamsScreen(self.data, self.filters), self._add_chips)

    # -- timeline -------------------------------------------------------------------------------

    def on_histogram_ready(self, message: HistogramReady) -> None:
        if message.generation == self.generation:
            self._screen().query_one("#timeline", Timeline).histogram = message.histogram

    def action_timeline_move(self, step: int) -> None:
        self._screen().query_one("#timeline", Timeline).move(step)

    def action_timeline_zoom(self) -> None:
        self._screen().query_one("#timeline", Timeline).zoom()

    def on_timeline_zoom(self, message: Timeline.Zoom) -> None:
        chip = Chip.time(message.start, message.end)
        if not hasattr(self, "_zooms"):
            self._zooms = []
        self._zooms.append(chip)
        self.set_filters(self.filters.add(chip))

    def action_timeline_out(self) -> None:
        """`Z`: remove the last zoom's time chip (if it is still there)."""
        zooms = getattr(self, "_zooms", [])
        while zooms:
            chip = zooms.pop()
            if chip in self.filters.chips:
                self.set_filters(self.filters.remove(chip))
                return
        self._screen().notify("not zoomed in · T sets a time range", markup=False)

    # -- coverage -------------------------------------------------------------------------------

    def on_coverage_ready(self, message: CoverageReady) -> None:
        self.coverage_report = message.report
        report = message.report
        warn = report.warnings()
        line = Text("coverage: ", style="bold")
        line.append(safe_text(report.summary()), style="yellow" if warn else "")
        line.append("  · W details", style="dim")
        banner = self._screen().query_one("#coverage", Static)
        banner.update(line)
        banner.display = True

    def action_coverage(self) -> None:
        from trailtui.screens.value import ValueScreen

        report = self.coverage_report
        if report is None:
            self._screen().notify("coverage is measured once the files have loaded", markup=False)
            return
        self._screen().app.push_screen(ValueScreen("Coverage", "\n".join(report.lines())))
