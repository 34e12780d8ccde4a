"""One repaint per filter change: the new view and its facet counts go on screen together.

The view and the facets are counted by two workers and arrive as two messages a few ms apart;
painted separately, every pick redraws the table, then all the panels (issue 9). The view is
held until the facets of the same generation arrive, at most `WAIT` seconds (a slow facet
count never holds the table back longer), and the first view of a screen is never held.
The facets that pair with the view are those of the panels on screen (the browser counts them
first); the panels out of view arrive later and are painted on their own. Counts that arrive
before their view are merged until it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from textual.screen import Screen

from trailtui.messages import FacetsReady, ViewReady

WAIT: Final = 0.15


class PairedPaint:
    """Pairs a ViewReady with the FacetsReady of its generation and paints both in one batch."""

    def __init__(self, screen: Screen[Any], generation: Callable[[], int],
                 paint_view: Callable[[ViewReady], None],
                 paint_facets: Callable[[FacetsReady], None]) -> None:
        self._screen = screen
        self._generation = generation
        self._paint_view = paint_view
        self._paint_facets = paint_facets
        self._held: ViewReady | None = None
        self._early: FacetsReady | None = None
        self._shown = -1  # generation of the view on screen

    def view(self, message: ViewReady, *, hold: bool) -> None:
        """A view is ready; `hold` False paints it at once (the screen's first view)."""
        self.release()  # an older held view: painted now, so its table is dropped in turn
        early = self._early if (self._early is not None
                                and self._early.generation == message.generation) else None
        if early is None and hold and message.generation == self._generation():
            self._held = message
            self._screen.set_timer(WAIT, lambda: self._timeout(message))
            return
        self._paint(message, early)

    def facets(self, message: FacetsReady) -> None:
        held = self._held
        if held is not None and held.generation == message.generation:
            self._paint(held, message)
        elif self._shown == message.generation or message.generation != self._generation():
            with self._screen.app.batch_update():
                self._paint_facets(message)  # stale ones are dropped by the painter
        else:  # the view of this generation is still being built
            early = self._early
            if early is not None and early.generation == message.generation:
                message = FacetsReady(message.generation, {**early.counts, **message.counts})
            self._early = message

    def release(self) -> None:
        """Paint a held view now (its facets failed, or a newer view came)."""
        held, self._held = self._held, None
        if held is not None:
            self._paint(held, None)

    def _timeout(self, message: ViewReady) -> None:
        if self._held is message:
            self.release()

    def _paint(self, view: ViewReady, facets: FacetsReady | None) -> None:
        if self._held is view:
            self._held = None
        with self._screen.app.batch_update():
            self._paint_view(view)
            self._shown = view.generation
            if facets is not None:
                self._early = None
                self._paint_facets(facets)
