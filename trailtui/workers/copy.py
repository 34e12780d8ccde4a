"""Copying events: original records read in a worker, then to the clipboard, or to a file when
the copy is large and the user prefers that.

`y` copies the current event (or the marked ones as a JSON array), `Y` every filtered event.
The records are the original bytes joined as a JSON array: wrapped, never re-dumped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from textual.widget import Widget

from trailtui import clipboard
from trailtui.data.service import DataError, DataService, JobCancelled
from trailtui.data.views import ViewInfo
from trailtui.sanitize import safe_text


class EventCopier:
    """Copies events of a view for `host` (whose workers read them)."""

    def __init__(self, host: Widget, data: DataService) -> None:
        self.host = host
        self.data = data

    def copy(self, view: ViewInfo, positions: Sequence[int] | None, *, as_array: bool) -> None:
        """Copy the view rows at `positions` (every row if None), in a worker."""
        self.host.run_worker(
            lambda: self._read(view, positions, as_array), name="copy", group="copy",
            thread=True, exclusive=True, exit_on_error=False, description="copy")

    def copy_keys(self, keys: Sequence[tuple[int, int]]) -> None:
        """Copy events by row key (marked events, whichever view they are in) as an array."""
        self.host.run_worker(
            lambda: self._read_keys(list(keys)), name="copy", group="copy",
            exclusive=True, thread=True, exit_on_error=False)

    def _read_keys(self, keys: list[tuple[int, int]]) -> None:
        try:
            records = self.data.records_by_key(keys)
        except (DataError, JobCancelled) as exc:
            self._call_ui(self._failed, str(exc))
            return
        if not records:
            return
        text = "[\n" + ",\n".join(records) + "\n]"
        what = f"{len(records):,} event{'s' if len(records) != 1 else ''}"
        self._call_ui(self.copy_text, text, what)

    def _read(self, view: ViewInfo, positions: Sequence[int] | None, as_array: bool) -> None:
        try:
            records = self.data.records(view, positions)
        except (DataError, JobCancelled) as exc:
            self._call_ui(self._failed, str(exc))
            return
        if not records:
            return
        text = "[\n" + ",\n".join(records) + "\n]" if as_array else records[0]
        what = f"{len(records):,} event{'s' if len(records) != 1 else ''}"
        self._call_ui(self.copy_text, text, what)

    def _call_ui(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.host.app.call_from_thread(callback, *args)

    def _failed(self, error: str) -> None:
        self.host.notify(safe_text(error), title="copy failed", severity="error", markup=False,
                         timeout=10)

    def copy_text(self, text: str, what: str) -> None:
        """On the UI thread: copy, asking first above `clipboard.LARGE_COPY_BYTES`."""
        size = len(text.encode("utf-8"))
        if size > clipboard.LARGE_COPY_BYTES:
            from trailtui.screens.confirm import ConfirmCopyScreen

            def chosen(choice: str | None) -> None:
                if choice == "copy":
                    result = clipboard.copy_text(self.host.app, text, what=what)
                    self.host.notify(result.message, markup=False)
                elif choice == "save":
                    self._ask_save_path(text, what)

            self.host.app.push_screen(ConfirmCopyScreen(what, size), chosen)
            return
        result = clipboard.copy_text(self.host.app, text, what=what)
        self.host.notify(result.message, markup=False)

    def _ask_save_path(self, text: str, what: str) -> None:
        from trailtui.screens.confirm import SavePathScreen

        def save(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            # The records are the original bytes joined as a JSON array: wrap, never re-dump.
            body = text if text.startswith("[") else f"[{text}]"
            try:
                with target.open("x", encoding="utf-8") as fh:
                    fh.write('{"Records":' + body + "}\n")
            except FileExistsError:
                self.host.notify(safe_text(f"{target} exists: choose another name"),
                                 severity="warning", markup=False)
                return
            except OSError as exc:
                self.host.notify(safe_text(f"could not save {target}: {exc.strerror or exc}"),
                                 severity="error", markup=False)
                return
            self.host.notify(safe_text(f"saved {what} to {target}"), markup=False)

        self.host.app.push_screen(SavePathScreen(default="trailtui_events.json"), save)
