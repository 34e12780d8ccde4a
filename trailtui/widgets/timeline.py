"""The timeline: a histogram of the filtered events over time, above the event table.

Two rows of block characters for the events per bucket (16 heights), one row for errors in
their own colour and scale, and a line saying what the selected bucket holds. The screen hands
down a `Histogram`; a click (or the screen's keys) zooms into a bucket, which the widget reports
with `Zoom` and the screen turns into a time chip. Every text here is ours (times, counts).
"""

from __future__ import annotations

import math
from datetime import datetime

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from trailtui.data.timeline import Histogram, bucket_label

BLOCKS = " ▁▂▃▄▅▆▇█"


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


class Timeline(Widget):
    """Bars of events per bucket; `selected` is the bucket the zoom keys act on."""

    DEFAULT_CSS = """
    Timeline { height: 4; width: 100%; padding: 0 1; }
    """

    histogram: reactive[Histogram | None] = reactive(None)
    selected: reactive[int] = reactive(0)

    class Zoom(Message):
        """Zoom into [start, end) (a bucket was clicked or chosen)."""

        def __init__(self, start: datetime, end: datetime) -> None:
            super().__init__()
            self.start = start
            self.end = end

    def watch_histogram(self, hist: Histogram | None) -> None:
        # Start on the busiest bucket: the spike is what one zooms into first.
        self.selected = hist.peak if hist else 0

    def move(self, step: int) -> None:
        if self.histogram:
            self.selected = max(0, min(len(self.histogram) - 1, self.selected + step))

    def zoom(self) -> None:
        if self.histogram:
            self.post_message(self.Zoom(*self.histogram.bounds(self.selected)))

    # -- drawing ----------------------------------------------------------------------------

    def _cell_width(self) -> int:
        hist = self.histogram
        usable = max(1, self.content_size.width)
        return max(1, min(4, usable // max(1, len(hist)))) if hist else 1

    def _rows(self) -> list[Text]:
        hist = self.histogram
        if not hist:
            return [Text(""), Text(""), Text(""), Text("no event times to chart", style="dim")]
        cw = self._cell_width()
        usable = max(1, self.content_size.width)
        shown = min(len(hist), usable // cw)
        top, low, err = Text(), Text(), Text()
        peak = max(hist.counts) or 1
        peak_err = max(hist.errors) or 1
        for i in range(shown):
            n, e = hist.counts[i], hist.errors[i]
            h = math.ceil(16 * n / peak) if n else 0
            he = math.ceil(8 * e / peak_err) if e else 0
            bar = "bold" if i == self.selected else ""
            colour = "reverse " if i == self.selected else ""
            top.append(BLOCKS[max(0, h - 8)] * cw, style=f"{colour}{bar} cyan".strip())
            low.append(BLOCKS[min(8, h)] * cw, style=f"{colour}{bar} cyan".strip())
            err.append(BLOCKS[he] * cw, style=f"{colour}red".strip())
        start, _end = hist.bounds(self.selected)
        n, e = hist.counts[self.selected], hist.errors[self.selected]
        cut = f" (first {shown} of {len(hist)} buckets)" if shown < len(hist) else ""
        info = Text()
        info.append(f"{_fmt(start)} +{bucket_label(hist.bucket)}: ", style="bold")
        info.append(f"{n:,} event" if n == 1 else f"{n:,} events")
        info.append(f", {e:,} errors" if e else "", style="red")
        info.append(f" · peak {peak:,}/{bucket_label(hist.bucket)}{cut} · [ ] move · "
                    "z zoom in · Z out · T time range", style="dim")
        return [top, low, err, info]

    def render(self) -> Text:
        return Text("\n").join(self._rows())

    def on_click(self, event: events.Click) -> None:
        hist = self.histogram
        if not hist or event.y > 2:
            return
        index = (event.x - self.styles.padding.left) // self._cell_width()
        if 0 <= index < len(hist):
            self.selected = index
            self.zoom()
