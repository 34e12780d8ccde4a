"""The browser's exploring and evidence keys, kept out of browser.py (a mixin it inherits).

`C` column chooser, `F` frequency of the current column as a facet, `=`/`!` on the cell,
`b` bookmark with a note, `B` bookmarks list, `R` report, `q` asks before throwing away marks
and bookmarks, sessions saved and restored per data set. The host screen provides a few
hooks (`_x_*` methods below) that name its table's current cell and apply columns/facets;
everything else (screens, workers, data calls) lives here.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.events import Key

from trailtui.data import fields
from trailtui.data import session as sessions
from trailtui.data.evidence import EventRef, Evidence, RowKey
from trailtui.data.filters import (
    FacetValue,
    FieldChip,
    FilterState,
    field_values,
    set_field_values,
)
from trailtui.data.service import DataError, DataService, JobCancelled
from trailtui.data.tz import TimeZone
from trailtui.sanitize import safe_text

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object


class ExploreActions(_Base):
    """Mixin for the browser screen. The host sets `data`, `filters`, `paths` and calls
    `_x_init()` in its constructor."""

    data: DataService
    filters: FilterState
    paths: list[str]

    # -- hooks the host implements ------------------------------------------------------------

    def set_filters(self, filters: FilterState) -> None:  # pragma: no cover - host's
        raise NotImplementedError

    def _x_current(self) -> tuple[str | None, RowKey | None, object]:
        """(column key, row key, cell value) under the table's cursor."""
        raise NotImplementedError  # pragma: no cover

    def _x_apply_columns(self, paths: list[str]) -> None:
        raise NotImplementedError  # pragma: no cover

    def _x_add_facet(self, path: str) -> None:
        raise NotImplementedError  # pragma: no cover

    def _x_view_table(self) -> str | None:
        """The view table built for `self.filters` (frequency counts use it), if any."""
        return None

    def _x_columns(self) -> list[str]:
        return list(fields.DEFAULT_COLUMNS)

    def _x_facets(self) -> list[str]:
        return []

    def _x_default_facets(self) -> list[str]:
        """The facet panels a new screen starts with (a session keeps only a change to them)."""
        return []

    def _x_evidence_changed(self) -> None:
        """Marks or bookmarks changed: repaint marks, update the status line."""

    # -- state --------------------------------------------------------------------------------

    def _x_init(self, time_zone: TimeZone | None = None) -> None:
        self.evidence = Evidence()
        self.time_zone = time_zone or TimeZone()
        self._catalog: fields.FieldCatalog | None = None
        self._saved_version = 0

    # -- columns --------------------------------------------------------------------------------

    def action_choose_columns(self) -> None:
        """`C`: every field, nested ones included (the catalog is built once per load)."""
        if self._catalog is not None:
            self._x_push_chooser(self._catalog)
        else:
            self._x_build_catalog()

    def forget_catalog(self) -> None:
        """New files loaded: the next `C` samples the data again."""
        self._catalog = None

    @work(thread=True, group="catalog", exclusive=True, exit_on_error=False)
    def _x_build_catalog(self) -> None:
        try:
            cat = self.data.field_catalog()
        except (DataError, JobCancelled) as exc:
            self.app.call_from_thread(self.notify, safe_text(f"fields not listed: {exc}"),
                                      severity="error", markup=False)
            return
        self._catalog = cat
        self.app.call_from_thread(self._x_push_chooser, cat)

    def _x_push_chooser(self, cat: fields.FieldCatalog) -> None:
        from trailtui.screens.columns import ColumnChooserScreen

        def chosen(paths: list[str] | None) -> None:
            if paths:
                self._x_apply_columns(paths)

        self.app.push_screen(ColumnChooserScreen(cat, self._x_columns()), chosen)

    # -- frequency ------------------------------------------------------------------------------

    def action_frequency(self) -> None:
        """`F`: the current column's values with counts under the filter, as a facet."""
        path, _key, _value = self._x_current()
        if path is None:
            self.notify("F needs a column: move the cursor onto one", markup=False)
            return
        self.open_frequency(path)

    def open_frequency(self, path: str, search: str = "") -> None:
        from trailtui.screens.frequency import FrequencyChoice, FrequencyScreen

        try:
            fld = fields.field_for(path)
        except ValueError:
            self.notify(safe_text(f"{path} is not an event field"), markup=False)
            return

        def chosen(choice: FrequencyChoice | None) -> None:
            if choice is None:
                return
            if choice.add_facet:
                self._x_add_facet(choice.path)
                return
            self.set_filters(set_field_values(self.filters, choice.path, choice.values,
                                              negate=choice.exclude))

        screen = FrequencyScreen(self.data, fld, self.filters,
                                 ticked=field_values(self.filters, fld.path),
                                 within=self._x_view_table(), search=search)
        self.app.push_screen(screen, chosen)

    # -- from the cell ----------------------------------------------------------------------------

    def action_filter_cell(self, negate: bool = False) -> None:
        """`=` keeps events whose field equals the cell; `!` excludes them."""
        path, key, value = self._x_current()
        if path is None or key is None:
            self.notify(f"{'!' if negate else '='} needs a cell: no event under the cursor",
                        markup=False)
            return
        self._x_filter_cell(path, key, negate, value)

    def _x_filter_cell(self, path: str, key: RowKey, negate: bool, value: object) -> None:
        try:
            fld = fields.field_for(path)
        except ValueError:
            self.notify(safe_text(f"{path} cannot filter the events"), markup=False)
            return
        if fld.kind == "time":
            from trailtui.data.filters import Chip

            if not hasattr(value, "isoformat"):
                self.notify("this event has no time to filter on", markup=False)
                return
            self.notify("= on a time keeps the 15 minutes around it", markup=False)
            self.set_filters(self.filters.add(Chip.around(value)))  # type: ignore[arg-type]
            return
        if fld.kind == "json" or fld.nested or not isinstance(value, str | bool | None):
            # The cell shows a formatted or cut value: read the stored one.
            self._x_read_and_filter(fld, key, negate)
            return
        self._x_add_cell_chip(fld.path, value, negate)

    @work(thread=True, group="cell", exclusive=True, exit_on_error=False)
    def _x_read_and_filter(self, fld: fields.Field, key: RowKey, negate: bool) -> None:
        try:
            found, value = self.data.field_value(fld, *key)
        except (DataError, JobCancelled) as exc:
            self.app.call_from_thread(self.notify, safe_text(str(exc).splitlines()[0]),
                                      severity="error", markup=False)
            return
        if found:
            self.app.call_from_thread(self._x_add_cell_chip, fld.path, value, negate)

    def _x_add_cell_chip(self, path: str, value: FacetValue, negate: bool) -> None:
        try:
            chip = FieldChip.not_equals(path, value) if negate else FieldChip.equals(path, value)
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="warning", markup=False)
            return
        self.set_filters(self.filters.add(chip))

    # -- marks and bookmarks ----------------------------------------------------------------------

    def toggle_mark_key(self, key: RowKey) -> bool:
        """Mark or unmark one event by its row key; True when now marked."""
        marked = self.evidence.toggle_mark(EventRef(*key))
        self._x_fill_refs([key])
        self._x_evidence_changed()
        return marked

    @work(thread=True, group="refs", exit_on_error=False)
    def _x_fill_refs(self, keys: list[RowKey]) -> None:
        """Look up eventID and time for new marks (what finds them again after a reload)."""
        try:
            refs = self.data.event_refs(keys)
        except (DataError, JobCancelled):
            return
        self.app.call_from_thread(self._x_set_refs, refs)

    def _x_set_refs(self, refs: list[EventRef]) -> None:
        self.evidence.update_refs(refs)

    def action_bookmark(self) -> None:
        """`b`: bookmark the event under the cursor with a note (again: edit the note)."""
        _path, key, _value = self._x_current()
        if key is None:
            self.notify("b needs an event: the table is empty", markup=False)
            return
        self._x_ask_note(key)

    def _x_ask_note(self, key: RowKey) -> None:
        from trailtui.screens.bookmarks import NoteScreen

        old = self.evidence.bookmark_of(key)

        def done(note: str | None) -> None:
            if note is None:
                return
            self.evidence.set_bookmark(old.ref if old else EventRef(*key), note)
            self._x_fill_refs([key])
            self._x_evidence_changed()
            n = len(self.evidence.bookmarks)
            self.notify(f"bookmarked ({n} bookmark{'s' if n != 1 else ''}) · B lists them",
                        markup=False)

        title = "Edit the bookmark's note" if old else "Bookmark this event with a note"
        self.app.push_screen(NoteScreen(title, old.note if old else ""), done)

    def action_bookmarks(self) -> None:
        """`B`: the bookmarks list."""
        if not self.evidence.bookmarks:
            self.notify("no bookmarks yet: b on an event adds one", markup=False)
            return
        self._x_list_bookmarks()

    @work(thread=True, group="bookmarks", exclusive=True, exit_on_error=False)
    def _x_list_bookmarks(self) -> None:
        from trailtui.screens.bookmarks import BookmarkRow

        books = self.evidence.bookmarks
        try:
            facts = self.data.event_summaries([b.ref.key for b in books])
        except (DataError, JobCancelled):
            facts = {}
        listed = []
        for b in books:
            when, name, actor = facts.get(b.ref.key, (b.ref.event_time, None, None))
            summary = f"{name or '?'} by {actor or '?'}" if name else "(not loaded)"
            listed.append(BookmarkRow(b, self.time_zone.format(when), summary))
        self.app.call_from_thread(self._x_push_bookmarks, listed)

    def _x_push_bookmarks(self, rows: list[Any]) -> None:
        from trailtui.screens.bookmarks import BookmarkAction, BookmarksScreen

        def chosen(action: BookmarkAction | None) -> None:
            if action is None:
                return
            if action.action == "report":
                self.action_report()
            elif action.key is None:
                return
            elif action.action == "remove":
                self.evidence.remove_bookmark(action.key)
                self._x_evidence_changed()
                self.notify("bookmark removed", markup=False)
            elif action.action == "note":
                self._x_ask_note(action.key)
            elif action.action == "open":
                self._x_open_event(action.key)

        self.app.push_screen(BookmarksScreen(rows, self.time_zone.label), chosen)

    def _x_open_event(self, key: RowKey) -> None:
        opener = getattr(self, "_open_detail", None)
        if callable(opener):
            opener(*key)

    # -- report ---------------------------------------------------------------------------------

    def action_report(self) -> None:
        """`R`: write the investigation report (.md, or .json by the name's extension)."""
        from trailtui.screens.confirm import SavePathScreen

        if not self.evidence:
            self.notify("nothing to report yet: b bookmarks an event, space marks one",
                        markup=False)
            return

        def save(path: str | None) -> None:
            if path:
                self._x_write_report(path, self.filters, self._x_snapshot())

        self.app.push_screen(SavePathScreen(
            default="trailtui_report.md",
            title="Write the investigation report (.md Markdown, .json JSON) to:"), save)

    def _x_snapshot(self) -> Evidence:
        """A copy of the evidence for a worker (the UI thread keeps changing the original)."""
        return Evidence.from_json(self.evidence.to_json())

    @work(thread=True, group="report", exclusive=True, exit_on_error=False)
    def _x_write_report(self, path: str, filters: FilterState, evidence: Evidence) -> None:
        target = Path(path).expanduser()
        try:
            rep = self.data.report(filters, evidence)
        except (DataError, JobCancelled, OSError, KeyError) as exc:
            self.app.call_from_thread(self.notify, safe_text(f"report failed: {exc}"),
                                      severity="error", markup=False)
            return
        text = rep.to_json() if target.suffix.lower() == ".json" else rep.to_markdown()
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            self.app.call_from_thread(self.notify, safe_text(f"{target} exists: choose "
                                      "another name"), severity="warning", markup=False)
            return
        except OSError as exc:
            self.app.call_from_thread(self.notify, safe_text(
                f"could not write {target}: {exc.strerror or exc}"), severity="error",
                markup=False)
            return
        n = len(rep.events)
        self.app.call_from_thread(self.notify, safe_text(
            f"report with {n} event{'s' if n != 1 else ''} written to {target}"), markup=False)

    # -- sessions -------------------------------------------------------------------------------

    def session_file(self) -> Path | None:
        return sessions.session_path(self.paths) if self.paths else None

    def current_session(self) -> sessions.Session:
        return self._x_without_defaults(sessions.Session(
            paths=list(self.paths), filters=self.filters, columns=self._x_columns(),
            facets=self._x_facets(), evidence=self.evidence, time_zone=self.time_zone.name,
        ))

    def _x_without_defaults(self, session: sessions.Session) -> sessions.Session:
        """The columns and facet panels a new screen has anyway count as nothing to restore:
        otherwise every reopen asked "restore that session?" and the dialog took the first
        key, after a session in which nothing was changed."""
        if session.columns == list(fields.DEFAULT_COLUMNS):
            session.columns = []
        if session.facets == self._x_default_facets():
            session.facets = []
        return session

    def save_session(self) -> None:
        path = self.session_file()
        if path is None:
            return
        problem = sessions.save_session(self.current_session(), path)
        if problem:
            self.notify(safe_text(problem), severity="warning", markup=False)
        else:
            self._saved_version = self.evidence.version

    def _x_save_quietly(self) -> None:
        path = self.session_file()
        if path is None:
            return
        current = self.current_session()
        if current.is_empty:
            sessions.delete_session(path)
        else:
            sessions.save_session(current, path)

    def saved_session(self) -> sessions.Session | None:
        path = self.session_file()
        if path is None:
            return None
        saved, notes = sessions.load_session(path)
        for note in notes:
            self.notify(safe_text(note), severity="warning", markup=False)
        if saved is None:
            return None
        saved = self._x_without_defaults(saved)
        return None if saved.is_empty else saved

    def offer_restore(self, *, ask: bool = True) -> None:
        """After the load: bring back the saved session (`--resume`), or ask first."""
        saved = self.saved_session()
        if saved is None:
            if not ask:
                self.notify("no saved session for these files", markup=False)
            return
        if not ask:
            self.restore_session(saved)
            return
        from trailtui.screens.bookmarks import ConfirmRestoreScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.restore_session(saved)

        self.app.push_screen(ConfirmRestoreScreen(saved), answer)

    def restore_session(self, saved: sessions.Session) -> None:
        with contextlib.suppress(ValueError):
            self.time_zone = TimeZone.named(saved.time_zone)
        self.evidence = saved.evidence
        if saved.columns:
            self._x_apply_columns(saved.columns)
        for path in saved.facets:
            if path not in self._x_facets():
                self._x_add_facet(path)
        self.set_filters(saved.filters)
        self._x_resolve_refs()
        self._x_evidence_changed()
        m, b = len(self.evidence.marks), len(self.evidence.bookmarks)
        self.notify(f"session restored: {len(saved.filters)} filters, {m} marks, {b} bookmarks",
                    markup=False)

    @work(thread=True, group="refs", exit_on_error=False)
    def _x_resolve_refs(self) -> None:
        refs = list(self.evidence.refs())
        try:
            mapping, missing = self.data.resolve_refs(refs)
        except (DataError, JobCancelled):
            return
        self.app.call_from_thread(self._x_rekey, mapping, missing)

    def _x_rekey(self, mapping: dict[RowKey, EventRef], missing: list[RowKey]) -> None:
        self.evidence.rekey(mapping, missing)
        self._x_evidence_changed()
        if missing:
            self.notify(f"{len(missing)} kept event(s) are not in these files any more",
                        severity="warning", markup=False)

    # -- keys that do nothing ------------------------------------------------------------------

    def say_unbound_key(self, event: Key) -> None:
        """A printable key nothing here uses: say so in a short message instead of silence.

        Called from the host's `on_key`; keys a focused input types, or any binding on the
        focus chain handles, never get here as unbound.
        """
        if not event.is_printable or event.character is None or event.character.isspace():
            return
        if event.key in self.app.active_bindings:
            return
        focused = self.app.focused
        where = getattr(focused, "HELP_PLACE", None) or ("the table" if focused is not None
                                                          else "here")
        self.notify(f"{event.character} does nothing in {where} · ? lists the keys",
                    markup=False, timeout=3)

    # -- quit -----------------------------------------------------------------------------------

    def request_quit(self) -> None:
        """`q`: with unsaved marks or bookmarks, ask (save for next time, discard, or stay).

        Filters, columns and facets are saved for the data set on every quit (no question:
        nothing is lost by keeping them); reopening asks before restoring, or `--resume`.
        """
        if not self.evidence or self.evidence.version == self._saved_version:
            self._x_save_quietly()
            self.app.exit()
            return
        from trailtui.screens.bookmarks import ConfirmQuitScreen

        def answer(choice: str | None) -> None:
            if choice == "save":
                self.save_session()
                self.app.exit()
            elif choice == "discard":
                self.evidence = Evidence()
                self._x_save_quietly()
                self.app.exit()

        self.app.push_screen(ConfirmQuitScreen(len(self.evidence.marks),
                                               len(self.evidence.bookmarks)), answer)
