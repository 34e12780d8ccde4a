"""`trailtui --athena/--trino`: the app over a remote CloudTrail table.

The file app with another first screen: `RemoteBrowserScreen` over the backend. The app's own
(empty) local store receives what `p` pulls down, and the file browser opens over it.
"""

from __future__ import annotations

from textual.screen import Screen

from trailtui.app import TrailApp
from trailtui.data.backend import Backend
from trailtui.data.filters import FilterState


class RemoteApp(TrailApp):
    """The browser over `backend`, starting from `filters` (which hold the time range)."""

    def __init__(self, backend: Backend, filters: FilterState, *, local_time: bool = False) -> None:
        super().__init__((), cache=False, local_time=local_time)
        self.backend = backend
        self.filters = filters
        self.sub_title = backend.description

    def get_default_screen(self) -> Screen[None]:  # type: ignore[override]
        from trailtui.screens.remote_browser import RemoteBrowserScreen

        return RemoteBrowserScreen(self.backend, self.filters)

    def on_unmount(self) -> None:
        self.backend.cancel()  # no query left running (and billed) after the app has gone
        super().on_unmount()
