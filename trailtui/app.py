"""The trailtui App: owns the EventStore, the stylesheet and the global keys.

The browser screen does the work (filters, workers, drill-down); the app only starts it, shows
help, and closes DuckDB and the temporary files on the way out.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from trailtui.commands import ConsoleCommands
from trailtui.data.service import DataService
from trailtui.data.store import EventStore
from trailtui.data.timerange import TimeRange
from trailtui.data.tz import TimeZone
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.findings import FindingsOptions

_DEFAULT_GC = gc.get_threshold()


class TrailApp(App[int]):
    """`trailtui PATH...`: every event in one table, facets, drill-down, SQL."""

    CSS_PATH = "app.tcss"
    TITLE = "trailtui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", id="trailtui.help", tooltip="help (this screen)"),
        Binding("q", "quit", "Quit", id="trailtui.quit", tooltip="quit"),
        Binding("m", "messages", "Messages", id="trailtui.messages",
                tooltip="messages: every load error and note of the session"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, tooltip="quit"),
    ]

    def __init__(
        self,
        paths: Sequence[str] = (),
        *,
        cache: bool = True,
        local_time: bool = False,
        store: EventStore | None = None,
        findings: FindingsOptions | None = None,
        time_range: TimeRange | None = None,
        time_zone: TimeZone | None = None,
        resume: bool = False,
    ) -> None:
        super().__init__()
        self.findings_options = findings or FindingsOptions()
        self.paths = list(paths)
        self.store = store or EventStore(cache=cache, time_range=time_range)
        self.data = DataService(self.store)  # the one way screens reach the events
        self.local_time = local_time
        self.time_zone = time_zone
        self.resume = resume

    def on_mount(self) -> None:
        # Python's full garbage collections walked every object (facet counts, page caches,
        # strips): 30-150 ms with the UI frozen, every few key presses. Run them only when
        # nobody is typing.
        gc.set_threshold(700, 10, 1_000_000)
        self._last_input = time.monotonic()
        self.set_interval(5, self._collect_when_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _collect_when_idle(self) -> None:
        if time.monotonic() - self._last_input > 3 and gc.get_count()[2] > 0:
            gc.collect()

    def get_default_screen(self) -> BrowserScreen:
        return BrowserScreen(self.store, self.paths, local_time=self.local_time, data=self.data,
                             time_zone=self.time_zone, resume=self.resume)

    def action_help(self) -> None:
        from trailtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_messages(self) -> None:
        from trailtui.screens.messages import MessagesScreen

        if not isinstance(self.screen, MessagesScreen):
            self.push_screen(MessagesScreen(self.store.log))

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """A toast, also kept in the session log (load reports are logged whole by the store,
        so their summary toasts are not logged twice)."""
        if title not in ("Not loaded", "Note"):
            self.store.log.add(message, severity, title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_unmount(self) -> None:
        self.data.close()
        self.store.interrupt_all()
        self.store.close()
        gc.unfreeze()  # let everything be freed normally at exit (DuckDB reports leaks else)
        gc.set_threshold(*_DEFAULT_GC)
