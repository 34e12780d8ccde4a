"""The trailtui App: owns the EventStore, the stylesheet and the global keys.

The browser screen does the work (filters, workers, drill-down); the app only starts it, shows
help, and closes DuckDB and the temporary files on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from trailtui.commands import ConsoleCommands
from trailtui.data.store import EventStore
from trailtui.screens.browser import BrowserScreen


class TrailApp(App[int]):
    """`trailtui PATH...`: every event in one table, facets, drill-down, SQL."""

    CSS_PATH = "app.tcss"
    TITLE = "trailtui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", id="trailtui.help"),
        Binding("q", "quit", "Quit", id="trailtui.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        paths: Sequence[str] = (),
        *,
        cache: bool = True,
        local_time: bool = False,
        store: EventStore | None = None,
    ) -> None:
        super().__init__()
        self.paths = list(paths)
        self.store = store or EventStore(cache=cache)
        self.local_time = local_time

    def get_default_screen(self) -> BrowserScreen:
        return BrowserScreen(self.store, self.paths, local_time=self.local_time)

    def action_help(self) -> None:
        from trailtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        self.store.interrupt_all()
        self.store.close()
