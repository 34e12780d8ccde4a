"""The investigator's screen: filter bar, facet panels | event table, status line.

This screen owns the filter state (attributes down, messages up): facet panels, the filter bar
and the table post messages; the screen changes the `FilterState`, starts thread workers that
ask DuckDB (through `trailtui.data`, never SQL here) and hands the results down.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from trailtui import clipboard
from trailtui.data import fields, views
from trailtui.data.export import ExportFormat, guess_format
from trailtui.data.filters import Chip, FilterState, toggle_field_value
from trailtui.data.history import History
from trailtui.data.library import get_query, library
from trailtui.data.service import (
    FACETS,
    LOAD,
    VIEW,
    BuiltView,
    DataError,
    DataService,
    Job,
    JobCancelled,
)
from trailtui.data.store import EventStore, LoadProgress
from trailtui.data.tz import TimeZone
from trailtui.messages import FacetsReady, LoadFinished, LoadProgressed, ViewReady, WorkFailed
from trailtui.sanitize import safe_text
from trailtui.screens.explore_actions import ExploreActions
from trailtui.screens.findings import (
    FindingsCounted,
    FindingsOptions,
    FindingsReady,
    count_findings_under,
    exclusions_note,
    start_findings,
)
from trailtui.screens.investigate_view import InvestigateMixin, after_load, view_histogram
from trailtui.screens.repaint import PairedPaint
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.filter_bar import FilterBar
from trailtui.widgets.findings_panel import FindingsPanel
from trailtui.widgets.footer import SteadyFooter
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.status_line import Status, StatusLine
from trailtui.widgets.timeline import Timeline
from trailtui.widgets.virtual_table import Column, VirtualTable
from trailtui.workers.console import ConsoleWorker
from trailtui.workers.copy import EventCopier
from trailtui.workers.export import Exporter

# Facets shown as panels, in this order (`f` focuses the first).
# Keys that keep their meaning in a facet panel; any other letter or digit typed there starts
# a search of that facet's values (its frequency screen, with the search box).
_FACET_OWN_KEYS = frozenset("xvdfFqIuLTAKNPW")

# Seconds the work after a load waits for the loaded view to be on screen.
AFTER_LOAD_WAIT = 20.0

# Facet values listed per panel (`F` lists every value, searchable).
FACET_VALUES = 5000

PANEL_FACETS = ("actor", "eventSource", "sourceIPAddress", "eventName", "awsRegion", "errorCode",
                "identity_type", "account_id", "userAgent")

_FACET_TITLES = {f.key: f.title for f in views.FACETS}


def _tidy_memory() -> None:
    """After a load: collect once, then keep the long-lived objects out of later passes."""
    import gc

    gc.collect()
    gc.freeze()


def _facet_id(path: str) -> str:
    """A widget id for a facet on any field path (dots and quotes are not allowed in ids)."""
    import hashlib
    import re

    if re.fullmatch(r"[A-Za-z0-9_-]+", path):
        return f"facet-{path}"
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", path)[:40]
    return f"facet-{slug}-{hashlib.sha1(path.encode()).hexdigest()[:6]}"


def facet_column_width(screen_width: int) -> int:
    """The facet column: 38 cells, wider on a wide terminal (up to 60 at 220 columns) so
    long values (ARNs, user agents) show whole where there is room for them and the table."""
    return max(38, min(60, (screen_width - 100) // 2))


def _fmt_bool(value: object) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


class BrowserScreen(ExploreActions, InvestigateMixin, Screen[None]):
    """Facets beside a virtual table of every event; drill-down and copy from the keyboard."""

    AUTO_FOCUS = "#events"

    TABLE_KEYS: ClassVar[frozenset[str]] = frozenset({
        "trailtui.copy", "trailtui.copy_all", "trailtui.export", "trailtui.sort",
        "trailtui.sort_reverse", "trailtui.hide", "trailtui.show", "trailtui.value",
        "trailtui.local_time", "trailtui.columns", "trailtui.frequency", "trailtui.keep",
        "trailtui.drop", "trailtui.bookmark",
    })
    """Ids of the bindings below that act on the event table (the help lists them there)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_facets", "Facets", id="trailtui.facets",
                tooltip="focus the facet panels (the first is user/role)"),
        Binding("I", "focus_findings", "Findings", id="trailtui.findings",
                tooltip="focus the findings panel (enter there: filter to a finding's events)"),
        Binding("slash", "search", "Search", id="trailtui.search",
                tooltip="search the whole event text"),
        Binding("u", "undo", "Undo filter", id="trailtui.undo", tooltip="undo the last filter"),
        Binding("y", "copy", "Copy JSON", id="trailtui.copy",
                tooltip="copy the event (or the marked events) as JSON"),
        Binding("Y", "copy_all", "Copy/save all", show=False, id="trailtui.copy_all",
                tooltip="copy or save all filtered events"),
        Binding("o", "open", "Open files", id="trailtui.open", tooltip="open or add files"),
        Binding("T", "time_range", "Time range", show=False, id="trailtui.time",
                tooltip="set a time range"),
        Binding("colon", "console", "SQL", id="trailtui.console", tooltip="SQL console"),
        Binding("e", "export('events')", "Export", show=False, id="trailtui.export",
                tooltip="export the filtered events to a file (Records JSON, NDJSON, CSV, "
                        "Parquet)"),
        Binding("s", "sort", "Sort", show=False, id="trailtui.sort",
                tooltip="sort by the current column (again: reverse)"),
        Binding("S", "sort_reverse", "Sort reverse", show=False, id="trailtui.sort_reverse",
                tooltip="sort by the current column, reversed"),
        Binding("h", "hide_column", "Hide column", show=False, id="trailtui.hide",
                tooltip="hide the current column"),
        Binding("H", "show_columns", "Show columns", show=False, id="trailtui.show",
                tooltip="show every column"),
        Binding("v", "show_value", "Whole value", show=False, id="trailtui.value",
                tooltip="show the whole value of the current cell"),
        Binding("L", "toggle_local_time", "Local time", show=False, id="trailtui.local_time",
                tooltip="toggle UTC and the --time-zone zone (default: local time)"),
        Binding("C", "choose_columns", "Columns", show=False, id="trailtui.columns",
                tooltip="choose the columns: every field, nested ones included"),
        Binding("F", "frequency", "Frequency", show=False, id="trailtui.frequency",
                tooltip="frequency of the current column (or facet) under the filter"),
        Binding("equals_sign", "filter_cell(False)", "Keep =", show=False, id="trailtui.keep",
                tooltip="keep the events whose field equals this cell"),
        Binding("exclamation_mark", "filter_cell(True)", "Drop =", show=False,
                id="trailtui.drop", tooltip="exclude the events whose field equals this cell"),
        Binding("b", "bookmark", "Bookmark", show=False, id="trailtui.bookmark",
                tooltip="bookmark the event with a note (again: edit the note)"),
        Binding("B", "bookmarks", "Bookmarks", show=False, id="trailtui.bookmarks",
                tooltip="list the bookmarks"),
        Binding("R", "report", "Report", show=False, id="trailtui.report",
                tooltip="write the investigation report (Markdown or JSON)"),
        Binding("backslash", "toggle_facets", "Facets on/off", show=False,
                id="trailtui.toggle_facets",
                tooltip="hide or show the facet panels (the table takes the width)"),
        Binding("d", "remove_facet", "Remove facet", show=False, id="trailtui.remove_facet",
                tooltip="in a facet: remove that facet panel"),
        Binding("M", "restore_marks", "Marks back", show=False, id="trailtui.restore_marks",
                tooltip="bring back the marks escape cleared"),
        Binding("q", "quit_checked", "Quit", id="trailtui.quit_checked",
                tooltip="quit (asks first when marks or bookmarks would be lost)"),
        Binding("escape", "escape", "Cancel", show=False, id="trailtui.escape",
                tooltip="cancel the running load or export; clear the marks"),
        Binding("A", "actors", "Actors", id="trailtui.actors",
                tooltip="actors (from a row: its actor; from a facet value: the actors behind "
                        "it)"),
        Binding("K", "sessions", "Sessions", show=False, id="trailtui.sessions",
                tooltip="sessions: temporary credentials, their chains and issuing events"),
        Binding("N", "new_values", "New/rare", show=False, id="trailtui.new_values",
                tooltip="new values (first seen in the last day, hour, week) and rare ones"),
        Binding("P", "params", "Parameters", show=False, id="trailtui.params",
                tooltip="requestParameters keys per API under the filter, then their values"),
        Binding("W", "coverage", "Coverage", show=False, id="trailtui.coverage",
                tooltip="what the loaded data covers (span per file, gaps, download cap...)"),
        Binding("left_square_bracket", "timeline_move(-1)", "Timeline left", show=False,
                id="trailtui.timeline.left", tooltip="timeline: previous bucket"),
        Binding("right_square_bracket", "timeline_move(1)", "Timeline right", show=False,
                id="trailtui.timeline.right", tooltip="timeline: next bucket"),
        Binding("z", "timeline_zoom", "Zoom into bucket", show=False, id="trailtui.timeline.zoom",
                tooltip="zoom into the timeline's bucket (a time chip)"),
        Binding("Z", "timeline_out", "Zoom out", show=False, id="trailtui.timeline.out",
                tooltip="zoom back out (remove the last zoom's time chip)"),
    ]

    def __init__(
        self, store: EventStore, paths: Sequence[str], *, local_time: bool = False,
        data: DataService | None = None, time_zone: TimeZone | None = None,
        resume: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.data = data or DataService(store)
        self.paths = list(paths)
        # One zone for the whole screen (table, status, dialogs); `L` flips it with UTC.
        self._other_zone = time_zone if time_zone and not time_zone.is_utc else (
            TimeZone.named("local"))
        self._x_init(self._other_zone if local_time or (time_zone and not time_zone.is_utc)
                     else TimeZone())
        self.resume = resume
        self._session_offered = False
        self.column_paths: list[str] = list(fields.DEFAULT_COLUMNS)
        self.facet_paths: list[str] = list(PANEL_FACETS)
        self._view_paths: tuple[str, ...] = ()
        self._last_facet: str | None = None
        self.filters = FilterState()
        self.sort_column = "eventTime"
        self.sort_descending = True
        self.generation = 0
        self.view: views.ViewInfo | None = None
        self.total = 0
        self.is_loading = False
        self.load_progress: LoadProgress | None = None
        self.span: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
        self._load_job: Job | None = None
        # Set once the view after a load is on screen: the work that follows a load
        # (compaction, cache, investigation tables, findings) waits for it, so the final
        # view does not compete with it for the two cores.
        self._load_shown = threading.Event()
        self._load_shown.set()
        self.exporter = Exporter(self, self.data, on_change=self._update_status)
        self.copier = EventCopier(self, self.data)
        self._old_views: list[str] = []
        self._widths: dict[str, int] = {}
        self._focused_once = False
        self._after_load_pending = False
        self._findings_ready = False  # findings of the loaded events are in the store
        self._finding_title = ""
        self._focus_before: Widget | None = None  # where escape from `:` or `/` goes back to
        self._last_live_refresh = 0.0
        # One repaint per filter change: the view waits (briefly) for its facets.
        self._paint = PairedPaint(self, lambda: self.generation, self._show_view,
                                  self._show_facets)
        # Facets counted first for the panels on screen: the generation whose view waits for
        # them (-1: none on screen, the view paints alone), and the counts of facets with a
        # pick of their own (counted under the other chips: the same answer pick after pick).
        self._facets_for = -1
        self._shown_generation = -1  # the filter generation of the view on screen
        self._shown = threading.Condition()
        self._early: list[Message] | None = []  # None once mounted
        self._early_lock = threading.Lock()
        self._early_load = bool(self.paths) and self._start_early_load()
        self._own_counts: dict[tuple[str, FilterState], list[tuple[object, int]]] = {}

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filters")
        with Horizontal(id="main"):
            with VerticalScroll(id="facets"):
                yield FindingsPanel(id="findings")
                yield Static(id="finding-title", markup=False)
                for key in self.facet_paths:
                    yield self._facet_panel(key)
            with Vertical(id="right"):
                yield Static(id="coverage")
                yield Timeline(id="timeline")
                yield VirtualTable(id="events", empty_message="loading…")
                yield SqlConsole(id="console")
        yield Input(placeholder="search the whole event text (enter adds a filter, escape "
                    "cancels)", id="search")
        yield StatusLine(id="status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#events", VirtualTable)
        table.mark_by = ("_file_id", "_line")  # marks belong to events: filters keep them
        self.query_one("#facets").can_focus = False  # the panels are the focus stops
        table.columns = self._columns()
        if self.app.size.width < 120:  # a narrow terminal: the table gets the width
            self.query_one("#facets").display = False
        self.query_one("#facets").styles.width = facet_column_width(self.app.size.width)
        self.runner = ConsoleWorker(self, self.data, self.query_one(SqlConsole), History(),
                                    self.exporter)
        self._update_status()
        with self._early_lock:  # what the load said before the screen was mounted
            early, self._early = self._early or [], None
            for message in early:
                self.post_message(message)
        if self.paths:
            if not self._early_load:  # made outside a running app: load once painted
                self.call_after_refresh(lambda: self.start_load(self.paths))
        elif self.data.event_count():
            self.refresh_all()
        else:
            table.empty_message = "no events loaded · o opens files"
            self.call_after_refresh(self.action_open)

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#facets").styles.width = facet_column_width(event.size.width)

    def _columns(self) -> list[Column]:
        """The table's columns, sized to the longest value in the current view (capped)."""

        def w(key: str, default: int, label: str) -> int:
            return max(len(label), self._widths.get(key, default))

        zone = self.time_zone.label
        fixed = {c.key: c for c in [
            Column("eventTime", f"Time ({zone})" if len(zone) <= 12 else "Time",
                   min_width=19, width=19, formatter=self._fmt_time),
            Column("actor", "User / role", min_width=8, width=w("actor", 28, "User / role"),
                   max_width=40),
            Column("eventName", "Event name", min_width=8,
                   width=w("eventName", 30, "Event name"), max_width=40, flex=True),
            Column("eventSource", "Service", min_width=8, width=w("eventSource", 26, "Service"),
                   max_width=34),
            Column("awsRegion", "Region", min_width=9, width=w("awsRegion", 14, "Region"),
                   max_width=20),
            Column("sourceIPAddress", "Source IP", min_width=7,
                   width=w("sourceIPAddress", 16, "Source IP"), max_width=39),
            Column("errorCode", "Error", min_width=5, width=w("errorCode", 16, "Error"),
                   max_width=32),
            Column("account_id", "Account", min_width=12, width=w("account_id", 12, "Account"),
                   max_width=20),
            Column("readOnly", "RO", min_width=3, width=3, max_width=3, formatter=_fmt_bool),
        ]}
        out: list[Column] = []
        for path in self.column_paths:
            col = fixed.get(path)
            if col is None:
                try:
                    fld = fields.field_for(path)
                except ValueError:
                    continue
                fmt = (self._fmt_time if fld.kind == "time" else
                       _fmt_bool if fld.kind == "bool" else None)
                col = Column(path, fld.title, min_width=6,
                             width=w(path, 16, fld.title), max_width=48, formatter=fmt)
            out.append(col)
        return out or list(fixed.values())

    @property
    def local_time(self) -> bool:
        """Times are shown in another zone than UTC (`L` flips)."""
        return not self.time_zone.is_utc

    def _fmt_time(self, value: object) -> str:
        return self.time_zone.format(value)

    def _facet_panel(self, path: str) -> FacetPanel:
        title = _FACET_TITLES.get(path) or fields.field_for(path).title
        return FacetPanel(path, title, id=_facet_id(path))

    # -- loading ----------------------------------------------------------------------------

    def start_load(self, paths: Sequence[str]) -> None:
        self.is_loading = True
        self._load_shown.clear()
        # Each load is a job of its own: escape cancels the loads, and nothing else.
        self._load_job = job = self.data.job(LOAD)
        self._update_status()
        self._load(job, list(paths))

    def _start_early_load(self) -> bool:
        """Load the files given now, while Textual composes and paints the screen (0.3-0.5 s
        that every load waited for); its messages wait until the screen is mounted. False
        when no app runs yet (the screen was made outside one): `on_mount` starts it then."""
        try:
            app = self.app
        except RuntimeError:  # NoActiveAppError: no app is running
            return False
        self.is_loading = True
        self._load_shown.clear()
        self._load_job = job = self.data.job(LOAD)
        paths = list(self.paths)
        app.run_worker(lambda: self._load_now(job, paths), thread=True, group="load",
                       exit_on_error=False, description="loading files")
        return True

    def _post_load(self, message: Message) -> None:
        """From the load worker: to the screen, or held until it is mounted."""
        with self._early_lock:
            if self._early is not None:
                self._early.append(message)
                return
        self.post_message(message)

    @work(thread=True, group="load", exit_on_error=False, description="loading files")
    def _load(self, job: Job, paths: list[str]) -> None:
        self._load_now(job, paths)

    def _load_now(self, job: Job, paths: list[str]) -> None:
        def progress(p: LoadProgress) -> None:
            if not job.is_cancelled:  # after escape, nothing more shows up
                self._post_load(LoadProgressed(p))

        first = self.data.event_count() == 0
        report = self.data.load(job, paths, progress, first_screen=first)
        self._post_load(LoadFinished(report))
        self._load_shown.wait(timeout=AFTER_LOAD_WAIT)
        problem = self.data.after_load(compact=report.events_added > 0)
        if problem:
            self._post_load(WorkFailed("cache", problem))
        if report.events_added:
            after_load(self.data, self._post_load)  # actors/sessions/first_seen, coverage

    @on(LoadProgressed)
    def _on_progress(self, message: LoadProgressed) -> None:
        self.load_progress = message.progress
        if message.progress.phase == "ready":
            # Show the first events at once, then each time the events at least doubled and
            # no more than every 2 s: recounting competes with the loader for the two cores
            # (the status line counts the events meanwhile). The recounts cost less than the
            # final one together.
            now = time.monotonic()
            if self.view is None or (message.progress.events >= 2 * max(1, self.total)
                                     and now - self._last_live_refresh > 2.0):
                self._last_live_refresh = now
                self._own_counts.clear()
                self.refresh_all()
        self._update_status()

    @on(LoadFinished)
    def _on_loaded(self, message: LoadFinished) -> None:
        self.is_loading = False
        report = message.report
        for line in report.errors[:8]:
            self.notify(safe_text(line), title="Not loaded", severity="error", markup=False,
                        timeout=12)
        if len(report.errors) > 8:  # every one is in the message log (m)
            self.notify(f"… and {len(report.errors) - 8:,} more errors · m lists them all",
                        title="Not loaded", severity="error", markup=False, timeout=12)
        if report.warnings:
            shown = report.warnings[:5]
            more = len(report.warnings) - len(shown)
            text = "\n".join(safe_text(w) for w in shown) + (
                f"\n… and {more} more · m lists them all" if more else "\nm shows them again")
            self.notify(text, title="Note", severity="warning", markup=False, timeout=10)
        if report.cancelled:
            self.notify("loading cancelled; the events loaded so far stay", markup=False)
        table = self.query_one("#events", VirtualTable)
        table.empty_message = "no events match the filter" if self.data.event_count() else (
            "no events loaded · o opens files")
        self._own_counts.clear()
        self.refresh_all()
        self.runner.refresh_completions()
        self.forget_catalog()
        if not self._session_offered and self.paths and not report.cancelled:
            self._session_offered = True  # once: the first load of the files given
            self.offer_restore(ask=not self.resume)
        self._after_load_pending = bool(self.data.event_count())

    def _after_load_view(self) -> None:
        """The view after a load is on screen: now the background work may start."""
        self._load_shown.set()
        if self._after_load_pending:
            self._after_load_pending = False
            self.set_timer(0.5, _tidy_memory)  # after the loaded view is painted, not before
            start_findings(self, self.data, getattr(self.app, "findings_options",
                                                    FindingsOptions()))

    @on(FindingsReady)
    def _on_findings(self, message: FindingsReady) -> None:
        self.query_one(FindingsPanel).findings = message.summaries
        self._findings_ready = True
        view = self.view
        if self.filters.chips and view is not None and view.filters == self.filters:
            self._count_findings(view.table, self.generation)
        self.runner.refresh_completions()  # the `findings` view now exists
        exclusions_note(message, self)
        if message.problems:
            shown = "\n".join(safe_text(p) for p in message.problems[:5])
            more = len(message.problems) - 5
            self.notify(shown + (f"\n… and {more} more" if more > 0 else ""),
                        title="Rules not used", severity="warning", markup=False, timeout=12)

    @work(thread=True, group="view-findings", exit_on_error=False)
    def _count_findings(self, table: str, generation: int) -> None:
        count_findings_under(self, self.data, table, generation)

    @on(FindingsCounted)
    def _on_findings_counted(self, message: FindingsCounted) -> None:
        if message.generation == self.generation:
            self.query_one(FindingsPanel).under = message.counts

    @on(FindingsPanel.Highlighted)
    def _on_finding_highlighted(self, message: FindingsPanel.Highlighted) -> None:
        line = self.query_one("#finding-title", Static)
        title = safe_text(message.finding.title) if message.finding is not None else ""
        if title != self._finding_title:  # a layout only when the title changes
            self._finding_title = title
            line.display = bool(title)
            line.update(title)  # the whole title: the panel's column cuts it

    @on(FindingsPanel.Picked)
    def _on_finding_picked(self, message: FindingsPanel.Picked) -> None:
        self.set_filters(self.filters.add(Chip.finding(message.finding.rule_id,
                                                       message.finding.title)))
        self._table().focus()

    # -- filter state -> workers ------------------------------------------------------------

    def set_filters(self, filters: FilterState) -> None:
        """A new filter: the chips change with the view that answers it (one repaint, one
        layout of the screen), or at once when no view is on screen to wait for."""
        self.filters = filters
        if self.view is None:
            self._sync_chips()
        self.refresh_all()

    def _sync_chips(self) -> None:
        labels = [c.label for c in self.filters.chips]
        bar = self.query_one(FilterBar)
        if list(bar.labels) != labels:
            bar.labels = labels

    def paint_pending(self) -> bool:
        """A filter change waits for its view (the footer holds its change until then)."""
        return self.view is not None and self.view.generation != self.generation

    def refresh_all(self, *, keep_event: bool = False) -> None:
        """A new filter or sort: interrupt the view and facet queries it supersedes and ask
        again (a late answer of an older generation would be dropped anyway). `keep_event`:
        the cursor stays on the same event in the new view (a re-sort)."""
        self.generation += 1
        keep: tuple[int, int] | None = None
        if keep_event:
            table = self._table()
            row = table.row_values(table.cursor_row) if table.row_count else None
            if row is not None:
                keep = (int(row["_file_id"]), int(row["_line"]))  # type: ignore[call-overload]
        self._update_status()
        self._materialize(self.data.job(VIEW, supersede=True), self.generation, self.filters,
                          self.sort_column, self.sort_descending, False, keep)
        # Facets on any field, each counted without its own pick (to OR more values in).
        # Under a search chip they wait for the view and find its events by key (the text
        # scan is paid once).
        if self.filters.has_search:
            self.data.cancel(FACETS)
            self._facets_for = self.generation if self._facet_order()[0] else -1
        else:
            self._count_facets()
        with self._shown:
            self._shown.notify_all()  # facet workers waiting for an older view: cancelled now

    @work(thread=True, group="view", exclusive=True, exit_on_error=False)
    def _materialize(self, job: Job, generation: int, filters: FilterState, sort: str,
                     desc: bool, with_facets: bool = False,
                     keep: tuple[int, int] | None = None) -> None:
        def ready(built: BuiltView) -> None:
            self.post_message(ViewReady(generation, built.view, built.total, built.span,
                                        built.widths, built.position, built.paths))

        try:
            built, counts = self.data.build_view(
                filters, sort, desc, generation, job,
                facet_keys=PANEL_FACETS if with_facets else (), on_view=ready, keep=keep,
                fields=list(self.column_paths))
        except JobCancelled:
            return
        except DataError as exc:
            self.post_message(WorkFailed("table", exc.line))
            return
        if counts is not None:
            self.post_message(FacetsReady(generation, counts))
        view_histogram(self.data, built.view.table, self.query_one(Timeline).size.width,
                       generation, self.post_message)
        if self._findings_ready:  # the findings panel counts under the filter
            count_findings_under(self, self.data, built.view.table if filters.chips else None,
                                 generation)

    def _facet_order(self) -> tuple[list[str], list[str]]:
        """(facets whose panels are on screen, the others), by the facet column's scroll
        position; none while the facet column is hidden (they are counted when it shows)."""
        box = self.query_one("#facets")
        panels = list(self.query(FacetPanel))
        if not box.display:
            return [], []
        top, height = box.scroll_y, box.size.height
        if height <= 0:  # not laid out yet (the first paint): all of them
            return [p.facet_key for p in panels], []
        on: list[str] = []
        off: list[str] = []
        for panel in panels:
            region = panel.virtual_region
            shown = panel.display and region.y < top + height and region.bottom > top
            (on if shown else off).append(panel.facet_key)
        return on, off

    def _count_facets(self, within: str | None = None, *, stale_only: bool = False) -> None:
        """Recount the facets for the current filter: the panels on screen first (their counts
        go on screen with the view, in one repaint), then those scrolled out of view. Hidden
        panels wait until they show (`_count_stale_facets`)."""
        on, off = self._facet_order()
        if self.is_loading:
            off = []  # while loading, only what is on screen: the rest once the load is done
        if stale_only:
            current = {p.facet_key for p in self.query(FacetPanel)
                       if p.counted_generation == self.generation}
            on = [k for k in on if k not in current]
            off = [k for k in off if k not in current]
        if not stale_only:
            self._facets_for = self.generation if on else -1
        if not on and not off:
            if not stale_only:
                self.data.cancel(FACETS)
            return
        first = self.data.job(FACETS, supersede=not stale_only)
        rest = self.data.job(FACETS) if on and off else None
        self._count_facets_work(first, rest, self.generation, self.filters, on or off,
                                off if on else [], within)

    def _count_stale_facets(self) -> None:
        """The facet column came back (or grew): count the panels the filter has outrun."""
        if not any(p.counted_generation != self.generation for p in self.query(FacetPanel)):
            return
        if not self.filters.has_search:
            self._count_facets(stale_only=True)
        elif self.view is not None and self.view.filters == self.filters:
            self._count_facets(self.view.table, stale_only=True)

    @work(thread=True, group="facets", exclusive=False, exit_on_error=False)
    def _count_facets_work(self, first: Job, rest: Job | None, generation: int,
                           filters: FilterState, paths: list[str], later: list[str],
                           within: str | None) -> None:
        for job, keys in ((first, paths), (rest, later)):
            if job is None or not keys:
                continue
            if job is rest:  # the panels out of view: once the view is painted, not against it
                with self._shown:
                    self._shown.wait_for(lambda: self._shown_generation >= generation
                                         or rest.is_cancelled, timeout=1.0)
            try:
                counts = self._facet_counts(job, keys, filters, within)
            except JobCancelled:
                if rest is not None:
                    rest.cancel()
                return
            except DataError as exc:
                self.post_message(WorkFailed("facets", exc.line))
                return
            self.post_message(FacetsReady(generation, counts))

    def _facet_counts(self, job: Job, keys: list[str], filters: FilterState,
                      within: str | None) -> dict[str, list[tuple[object, int]]]:
        """Counts of `keys` under `filters` (worker thread). A facet with values picked is
        counted under the other chips only, which the next pick of the same facet does not
        change: those counts are kept until the events change."""
        from trailtui.data.explore import own_chips

        known: dict[str, list[tuple[object, int]]] = {}
        ask: list[str] = []
        for key in keys:
            own = own_chips(filters, key)
            got = self._own_counts.get((key, own)) if own is not filters else None
            if got is not None:
                known[key] = got
            else:
                ask.append(key)
        counts: dict[str, list[tuple[object, int]]] = {}
        if ask:
            counts = {k: list(v) for k, v in self.data.field_facets(
                ask, filters, job, limit=FACET_VALUES, within=within).items()}
            for key in ask:
                own = own_chips(filters, key)
                if own is not filters and key in counts:
                    if len(self._own_counts) > 64:
                        self._own_counts.clear()
                    self._own_counts[(key, own)] = counts[key]
        else:
            job.cancel()  # nothing to ask: end the job
        return {k: counts[k] if k in counts else known[k] for k in keys
                if k in counts or k in known}

    def facets_on_screen_done(self, generation: int) -> bool:
        """The panels on screen show the counts of `generation` (the UI benchmark waits on
        this: a pick has settled when the view and these are painted)."""
        on = set(self._facet_order()[0])
        return all(p.counted_generation >= generation for p in self.query(FacetPanel)
                   if p.facet_key in on)

    @on(ViewReady)
    def _on_view(self, message: ViewReady) -> None:
        self._paint.view(message, hold=self.view is not None and not self.is_loading
                         and message.generation == self._facets_for)

    def _show_view(self, message: ViewReady) -> None:
        if message.generation != self.generation or not self.is_mounted:
            self._drop_later(message.view.table)
            return
        old = self.view
        self.view = message.view
        with self._shown:
            self._shown_generation = message.generation
            self._shown.notify_all()
        self.total = message.total
        self.span = message.span
        table = self.query_one("#events", VirtualTable)
        if message.widths and message.widths != self._widths:
            self._widths = message.widths
            table.columns = self._columns()
        table.sort_column = self.sort_column
        table.sort_descending = self.sort_descending
        self._view_paths = message.paths
        if self.filters.has_search and message.view.filters == self.filters:
            self._count_facets(message.view.table)
        table.set_source(self.data.page_source(message.view, message.paths),
                         cursor_row=message.position or 0)
        try:  # `filtered` in the SQL console: the events under the current chips
            self.data.set_filtered(message.view if self.filters.chips else None)
        except DataError as exc:
            self.notify(safe_text(f"view `filtered` not updated: {exc}"), markup=False)
        if not self._focused_once:
            # The first layout passes hide the table for a frame, which moves focus away;
            # the first events are where an investigator starts. Only when focus was lost:
            # focus belongs to the user (`:` pressed during a load keeps the console).
            self._focused_once = True
            if self.focused is None:
                table.focus()
        if old is not None:
            self._drop_later(old.table)
        self._update_status()
        self._sync_chips()
        self.query_one(SteadyFooter).release()
        if not self.is_loading and not self._load_shown.is_set():
            self._after_load_view()

    def _drop_later(self, table_name: str) -> None:
        self._old_views.append(table_name)
        self._drop_views()

    @work(thread=True, group="drop", exit_on_error=False)
    def _drop_views(self) -> None:
        names, self._old_views = self._old_views, []
        self.data.drop_views(names)

    @on(FacetsReady)
    def _on_facets(self, message: FacetsReady) -> None:
        self._paint.facets(message)  # with its view, in one batch (nine panels, one repaint)

    def _show_facets(self, message: FacetsReady) -> None:
        if message.generation != self.generation:
            return
        for panel in self.query(FacetPanel):
            if panel.facet_key in message.counts:
                panel.counts = message.counts[panel.facet_key]
                panel.counted_generation = message.generation

    @on(Worker.StateChanged)
    def _on_worker_state(self, event: Worker.StateChanged) -> None:
        """A worker that died of an unexpected error: say so; the app keeps running."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(safe_text(f"{type(error).__name__}: {error}"),
                        title=f"{event.worker.description or event.worker.name} failed",
                        severity="error", markup=False, timeout=12)

    @on(VirtualTable.FetchFailed)
    def _on_fetch_failed(self, message: VirtualTable.FetchFailed) -> None:
        """A page of rows could not be read (the table shows ⋯; the table says so once)."""
        lines = str(message.error).strip().splitlines()
        self.notify(safe_text(lines[0] if lines else type(message.error).__name__),
                    title="rows unavailable", severity="error", markup=False, timeout=10)

    @on(WorkFailed)
    def _on_failed(self, message: WorkFailed) -> None:
        self._paint.release()  # a view held for facets that will not come shows now
        self._sync_chips()
        self.query_one(SteadyFooter).release()
        if not self.is_loading and not self._load_shown.is_set():
            self._after_load_view()  # the view after the load failed: go on without it
        self.notify(safe_text(message.error), title=f"{message.what} failed", severity="error",
                    markup=False, timeout=10)

    # -- status line ------------------------------------------------------------------------

    def _update_status(self) -> None:
        lo, hi = self.span
        span = ""
        if lo is not None and hi is not None:
            zone = self.time_zone.label
            span = f"{self._fmt_time(lo)} → {self._fmt_time(hi)} {zone}"
        job = self._load_job
        self.query_one(StatusLine).status = Status(
            shown=self.view.row_count if self.view is not None else None,
            total=self.total,
            files=self.data.file_count,
            span=span,
            loading=self.is_loading,
            progress=self.load_progress,
            cancelling=job is not None and job.is_cancelled,
            exporting=self.exporter.running,
            marked=len(self.evidence.marks),
            duplicates=self.store.duplicates,
            time_range=self.data.range_note(),
        )

    @on(VirtualTable.MarksChanged)
    def _on_marks(self, message: VirtualTable.MarksChanged) -> None:
        """The table's marks (by event key) are the evidence's marks: keep the two in step."""
        if message.control.id != "events":
            return
        table = self._table()
        keys = {(int(f), int(n)) for f, n in table.marked_keys}  # type: ignore[call-overload]
        have = set(self.evidence.mark_keys)
        if keys - have:
            from trailtui.data.evidence import EventRef

            self.evidence.mark(EventRef(*k) for k in sorted(keys - have))
            self._x_fill_refs(sorted(keys - have))
        if have - keys:
            if not keys:
                self.evidence.clear_marks()
            else:
                self.evidence.unmark(have - keys)
        self._update_status()

    # -- facets and filters -----------------------------------------------------------------

    def action_focus_findings(self) -> None:
        self.query_one(FindingsPanel).focus()

    def action_focus_facets(self) -> None:
        """`f`: the facet used last (the first one the first time); shows hidden facets."""
        box = self.query_one("#facets")
        if not box.display:
            box.display = True
            self.call_after_refresh(self._count_stale_facets)
        panels = list(self.query(FacetPanel))
        if not panels:
            self.notify("no facet panels: F on a column adds one", markup=False)
            return
        last = next((p for p in panels if p.facet_key == self._last_facet), panels[0])
        last.focus()

    @on(events.DescendantFocus)
    def _on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, FacetPanel):
            self._last_facet = event.widget.facet_key

    def action_toggle_facets(self) -> None:
        box = self.query_one("#facets")
        box.display = not box.display
        if not box.display and box.has_focus_within:
            self._table().focus()
        if box.display:
            self.call_after_refresh(self._count_stale_facets)

    def action_remove_facet(self) -> None:
        panel = self.focused
        if not isinstance(panel, FacetPanel):
            self.notify("d removes a facet panel: focus one first (f)", markup=False)
            return
        key = panel.facet_key
        self.facet_paths = [p for p in self.facet_paths if p != key]
        panel.remove()
        self._table().focus()
        self.notify(safe_text(f"facet {key} removed · F on a column adds one"), markup=False)

    @on(FacetPanel.Picked)
    def _on_picked(self, message: FacetPanel.Picked) -> None:
        # Several values of one facet are ORed in one chip (`eventSource in (a, b)`); picking a
        # value again takes it out. Focus goes to the table; `f` comes back to this facet.
        try:
            state = toggle_field_value(self.filters, message.facet_key,
                                       message.value,  # type: ignore[arg-type]
                                       negate=message.exclude)
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="error", markup=False)
            return
        self.set_filters(state)
        self._table().focus()

    @on(FilterBar.ChipRemoved)
    def _on_chip_removed(self, message: FilterBar.ChipRemoved) -> None:
        if 0 <= message.index < len(self.filters.chips):
            self.set_filters(self.filters.remove(message.index))
            self.query_one("#events", VirtualTable).focus()

    def action_undo(self) -> None:
        if not self.filters.chips:
            self.notify("no filter to undo", markup=False)
            return
        self.set_filters(self.filters.undo())

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.value = ""
        self._remember_focus()
        box.focus()

    @on(Input.Submitted, "#search")
    def _on_search(self, message: Input.Submitted) -> None:
        box = self.query_one("#search", Input)
        box.display = False
        text = message.value
        if text.strip():
            self.set_filters(self.filters.add(Chip.search(text)))
        self.query_one("#events", VirtualTable).focus()

    def action_time_range(self) -> None:
        from trailtui.screens.time_range import TimeRangeScreen

        def done(result: tuple[dt.datetime | None, dt.datetime | None] | None) -> None:
            if result is None or result == (None, None):
                return
            self.set_filters(self.filters.add(Chip.time(*result)))

        self.app.push_screen(TimeRangeScreen(newest=self.span[1], zone=self.time_zone), done)

    def action_escape(self) -> None:
        console = self.query_one(SqlConsole)
        if console.display and console.has_focus_within:
            console.display = False
            self._focus_back()
            return
        box = self.query_one("#search", Input)
        if box.display:
            box.display = False
            self._focus_back()
            return
        # Escape cancels exactly what the status line says is running.
        if self.is_loading and self._load_job is not None and not self._load_job.is_cancelled:
            self.data.cancel(LOAD)
            self._update_status()
            return
        if self.exporter.running:
            self.exporter.cancel()
            return
        table = self.query_one("#events", VirtualTable)
        if table.marked_keys:
            n = len(table.marked_keys)
            table.clear_marks()
            self.notify(f"{n} mark{'s' if n != 1 else ''} cleared · M brings them back",
                        markup=False)

    # -- table actions ----------------------------------------------------------------------

    def _table(self) -> VirtualTable:
        return self.query_one("#events", VirtualTable)

    def action_sort(self, reverse: bool = False) -> None:
        col = self._table().current_column
        if col is None:
            return
        if col.key == self.sort_column and not reverse:
            self.sort_descending = not self.sort_descending
        else:
            self.sort_column = col.key
            self.sort_descending = reverse or col.key == "eventTime"
        self.refresh_all(keep_event=True)

    def action_sort_reverse(self) -> None:
        self.action_sort(reverse=True)

    @on(VirtualTable.SortRequested)
    def _on_sort_requested(self, message: VirtualTable.SortRequested) -> None:
        if message.column_key == self.sort_column:
            self.sort_descending = not self.sort_descending
        else:
            self.sort_column = message.column_key
            self.sort_descending = message.column_key == "eventTime"
        self.refresh_all(keep_event=True)

    def action_hide_column(self) -> None:
        table = self._table()
        col = table.current_column
        if col is None or len(table.visible_columns) <= 1:
            return
        table.hidden = set(table.hidden) | {col.key}
        self.notify(f"hid {col.label} · H shows every column", markup=False)

    def action_show_columns(self) -> None:
        self._table().hidden = set()

    def action_show_value(self) -> None:
        from trailtui.screens.value import ValueScreen

        if isinstance(self.focused, FacetPanel):  # the facet's value, whole
            panel = self.focused
            row = panel.row_values(panel.cursor_row)
            if row is None:
                self.notify("no value here", markup=False)
                return
            self.app.push_screen(ValueScreen(panel.facet_title, row.get("value")))
            return
        table = self._table()
        col = table.current_column
        if col is None or table.row_count == 0:
            return
        self.app.push_screen(ValueScreen(col.label, table.current_cell_value()))

    def action_toggle_local_time(self) -> None:
        self.time_zone = self._other_zone if self.time_zone.is_utc else TimeZone()
        table = self._table()
        table.columns = self._columns()
        self._update_status()
        self.notify(safe_text(f"times in {self.time_zone.offset_label(self.span[1])}"),
                    markup=False)

    # -- drill-down -------------------------------------------------------------------------

    @on(VirtualTable.RowActivated)
    def _on_row_activated(self, message: VirtualTable.RowActivated) -> None:
        if message.control.id != "events":
            return
        row = self._table().row_values(message.row_index)
        if not row:
            return
        self._open_detail(int(row["_file_id"]), int(row["_line"]))  # type: ignore[call-overload]

    @work(thread=True, group="detail", exclusive=True, exit_on_error=False)
    def _open_detail(self, file_id: int, line: int) -> None:
        self._open_detail_now(file_id, line)

    def _open_detail_now(self, file_id: int, line: int) -> None:
        """Read one event's row and original record (worker thread), then show it."""
        try:
            raw, row = self.data.event(file_id, line)
            if row is not None:  # the findings on it, for the detail header
                row["_findings"] = self.data.event_findings(file_id, line)
        except (DataError, JobCancelled) as exc:
            self.post_message(WorkFailed("open event", str(exc)))
            return
        self.app.call_from_thread(self._push_detail, raw, row)

    def _push_detail(self, raw: bytes, row: dict[str, object] | None) -> None:
        from trailtui.screens.detail import DetailScreen

        def pivot(chip: Chip | None) -> None:
            if chip is not None:
                self.set_filters(self.filters.add(chip))
                self._table().focus()

        self.app.push_screen(DetailScreen(raw, row, zone=self.time_zone), pivot)

    # -- copy -------------------------------------------------------------------------------

    def action_copy(self) -> None:
        """`y`: the current event's original JSON, or the marked ones as a JSON array."""
        table = self._table()
        if self.view is None or table.row_count == 0:
            self.notify("nothing to copy", markup=False)
            return
        marked = [r.key for r in self.evidence.marks]
        if marked:
            self.copier.copy_keys(marked)
            return
        self.copier.copy(self.view, [table.cursor_row], as_array=False)

    def action_copy_all(self) -> None:
        if self.view is None or self.view.row_count == 0:
            self.notify("nothing to copy", markup=False)
            return
        self.copier.copy(self.view, None, as_array=True)

    # -- files ------------------------------------------------------------------------------

    def action_open(self) -> None:
        from trailtui.screens.picker import PickerScreen

        def chosen(paths: list[Path] | None) -> None:
            if paths:
                self.start_load([str(p) for p in paths])

        self.app.push_screen(PickerScreen(), chosen)

    # -- SQL console ----------------------------------------------------------------------

    def action_console(self) -> None:
        """`:` opens the console under the table (again: back to the editor)."""
        console = self.query_one(SqlConsole)
        console.display = True
        self._remember_focus()
        console.editor.focus()

    def _remember_focus(self) -> None:
        """Escape from the console or search goes back where the user was, not always the table."""
        focused = self.focused
        if focused is not None and not (self.query_one(SqlConsole) in focused.ancestors_with_self
                                         or focused is self.query_one("#search")):
            self._focus_before = focused

    def _focus_back(self) -> None:
        before, self._focus_before = self._focus_before, None
        if before is not None and before.is_attached and before.visible and before.focusable:
            before.focus()
        else:
            self._table().focus()

    def on_unmount(self) -> None:
        self._load_shown.set()  # nothing will be shown: the load worker goes on and ends
        self.runner.close()
        self.data.cancel()

    @on(SqlConsole.RunRequested)
    def _on_run(self, message: SqlConsole.RunRequested) -> None:
        self.runner.run(message.sql, message.params)

    @on(SqlConsole.CancelRequested)
    def _on_cancel(self) -> None:
        self.runner.cancel()

    @on(SqlConsole.OpenEvent)
    def _on_console_event(self, message: SqlConsole.OpenEvent) -> None:
        if message.file_id is not None and message.line is not None:
            self._open_detail(message.file_id, message.line)
        elif message.event_id:
            self._locate_and_open(message.event_id, message.row)

    @work(thread=True, group="detail", exclusive=True, exit_on_error=False)
    def _locate_and_open(self, event_id: str, row: dict[str, object]) -> None:
        try:
            keys = self.data.locate_event(event_id, row)
        except (DataError, JobCancelled) as exc:
            self.post_message(WorkFailed("open event", str(exc)))
            return
        if not keys:
            self.post_message(WorkFailed("open event", f"no loaded event has eventID {event_id}"))
            return
        file_id, line = keys[0]
        self._open_detail_now(file_id, line)

    @on(SqlConsole.FilterTo)
    def _on_console_filter(self, message: SqlConsole.FilterTo) -> None:
        if message.field is None:
            self.notify(safe_text(f"{message.column} is computed by the query, not an event "
                                  "field: it cannot filter the table"), markup=False)
            return
        try:
            chip = Chip.include(message.field, message.value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="warning", markup=False)
            return
        self.set_filters(self.filters.add(chip))
        self._table().focus()

    def action_run_console_query(self, sql: str, params: dict[str, object] | None = None) -> None:
        console = self.query_one(SqlConsole)
        console.display = True
        console.set_query(sql, params)
        console.editor.focus()
        self.runner.run(sql, params)

    def action_run_library_query(self, query_id: str = "") -> None:
        from trailtui.screens.library import QueryLibraryScreen

        found, warnings = library()
        for w in warnings:
            self.notify(safe_text(w), severity="warning", markup=False)

        def chosen(result: tuple[str, dict[str, object]] | None) -> None:
            if result is not None:
                self.action_run_console_query(*result)

        if query_id:
            try:
                query = get_query(query_id, found)
            except KeyError:
                self.notify(safe_text(f"no library query {query_id}"), markup=False)
                return
            if not query.params:
                self.action_run_console_query(query.editor_text, {})
                return
            self.app.push_screen(QueryLibraryScreen(found, initial=query_id), chosen)
            return
        self.app.push_screen(QueryLibraryScreen(found), chosen)

    def action_copy_filter_sql(self, dialect: str = "duckdb") -> None:
        sql = self.filters.to_athena_sql() if dialect == "athena" else self.filters.to_duckdb_sql()
        result = clipboard.copy_text(self.app, sql, what=f"the filter as {dialect} SQL")
        self.notify(result.message, markup=False)

    def action_export(self, what: str = "events") -> None:
        """Export the filtered events (`e`) or the console's result to a file."""
        from trailtui.screens.confirm import SavePathScreen

        events = what != "result"

        def save(path: str | None) -> None:
            if not path:
                return
            fmt = guess_format(path, events=events) or (
                ExportFormat.RECORDS if events else ExportFormat.CSV)
            if events:
                where, params = self.filters.where()
                self.exporter.export_events(
                    path, fmt, where=where, params=params,
                    order_by=views.order_by(self.sort_column, self.sort_descending)
                    if self.sort_column in views.SORT_COLUMNS else views.order_by())
            else:
                self.runner.export(path, fmt)

        title = ("Export the filtered events (.json = {\"Records\":[...]}, .ndjson, .csv, "
                 ".parquet; .gz compresses) to:" if events else
                 "Export the query result (.csv, .json, .ndjson, .parquet) to:")
        default = "trailtui_events.json" if events else "trailtui_result.csv"
        self.app.push_screen(SavePathScreen(default=default, title=title), save)

    # -- exploring and evidence (issue 12; the actions live in ExploreActions) -------------

    def _x_current(self) -> tuple[str | None, tuple[int, int] | None, object]:
        table = self._table()
        col = table.current_column
        row = table.row_values(table.cursor_row) if table.row_count else None
        key = None
        if row is not None and isinstance(row.get("_file_id"), int):
            key = (int(row["_file_id"]), int(row["_line"]))  # type: ignore[call-overload]
        if isinstance(self.focused, FacetPanel):  # F on a facet: that facet's field
            return self.focused.facet_key, key, None
        return (col.key if col is not None else None), key, (
            table.current_cell_value() if key is not None else None)

    def _x_apply_columns(self, paths: list[str]) -> None:
        self.column_paths = list(paths)
        self._table().hidden = set()
        self._table().columns = self._columns()
        if self.sort_column not in self.column_paths and self.sort_column != "eventTime":
            self.sort_column, self.sort_descending = "eventTime", True
        self.refresh_all(keep_event=True)

    def _x_columns(self) -> list[str]:
        return list(self.column_paths)

    def _x_add_facet(self, path: str) -> None:
        box = self.query_one("#facets")
        if not box.display:
            box.display = True
            self.call_after_refresh(self._count_stale_facets)
        if path in self.facet_paths:
            for panel in self.query(FacetPanel):
                if panel.facet_key == path:
                    panel.focus()
            return
        self.facet_paths.insert(0, path)
        panel = self._facet_panel(path)
        box.mount(panel, before=0)
        panel.focus()
        self.call_after_refresh(self._count_stale_facets)  # once it has its place

    def _x_facets(self) -> list[str]:
        return list(self.facet_paths)

    def _x_default_facets(self) -> list[str]:
        return list(PANEL_FACETS)

    def _x_view_table(self) -> str | None:
        view = self.view
        return view.table if view is not None and view.filters == self.filters else None

    def _x_evidence_changed(self) -> None:
        self._table().marked_keys = set(self.evidence.mark_keys)
        self._update_status()

    def action_restore_marks(self) -> None:
        n = self.evidence.restore_marks()
        self._x_evidence_changed()
        self.notify(f"{n} mark{'s' if n != 1 else ''} back" if n else "no cleared marks",
                    markup=False)

    def action_quit_checked(self) -> None:
        self.request_quit()

    def on_key(self, event: events.Key) -> None:
        """Typing in a facet searches its values; any other key nothing uses says so."""
        focused = self.focused
        if (isinstance(focused, FacetPanel) and event.is_printable and event.character
                and event.character.isalnum() and event.character not in _FACET_OWN_KEYS):
            event.stop()
            event.prevent_default()
            self.open_frequency(focused.facet_key, search=event.character)
            return
        self.say_unbound_key(event)
