"""The status line under the table: what is shown, from where, and what is running.

The screen hands it a `Status` (attributes down); it only renders. What it says is running is
exactly what escape cancels (a load, an export).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from trailtui.data.store import LoadProgress


@dataclass(frozen=True)
class Status:
    """Everything the status line shows; `shown is None` means no view yet."""

    shown: int | None = None
    total: int = 0
    files: int = 0
    span: str = ""  # "2024-05-01 10:00:00 → 2024-05-01 11:00:00 UTC", or ""
    loading: bool = False
    progress: LoadProgress | None = None
    cancelling: bool = False  # escape was pressed; the load is winding down
    exporting: bool = False
    marked: int = 0
    duplicates: int = 0  # records merged as exact copies (overlapping downloads)
    time_range: str = ""  # `--since/--until` and what it left out


class StatusLine(Static):
    """One line of facts; never markup (file names and counts are built as Content)."""

    status: reactive[Status] = reactive(Status, always_update=True)

    DEFAULT_CSS = "StatusLine { width: 1fr; height: 1; }"

    def watch_status(self, status: Status) -> None:
        # One line of fixed size: a repaint, no layout of the whole screen (it is updated on
        # every filter change and load progress message).
        self.update(render_status(status), layout=False)


def render_status(s: Status) -> Content:
    parts: list[Content] = []
    if s.shown is not None:
        parts.append(Content.styled(f"{s.shown:,} of {s.total:,} events", "bold"))
    if s.files:
        parts.append(Content(f"{s.files:,} file{'s' if s.files != 1 else ''}"))
    if s.span:
        parts.append(Content(s.span))
    if s.time_range:
        parts.append(Content(s.time_range))
    if s.loading:
        p = s.progress
        if s.cancelling:
            parts.append(Content.styled("cancelling the load…", "italic"))
        elif p is not None and p.bytes_total:
            pct = 100 * p.bytes_done // max(1, p.bytes_total)
            n = min(p.file_index + 1, p.file_count)
            parts.append(Content.styled(
                f"loading {pct}% · {p.events:,} events · file {n}/{p.file_count} "
                "(escape cancels)", "italic"))
        else:
            parts.append(Content.styled("loading…", "italic"))
    if s.exporting:
        parts.append(Content.styled("exporting… (escape cancels)", "italic"))
    if s.duplicates:
        parts.append(Content(f"{s.duplicates:,} duplicate{'s' if s.duplicates != 1 else ''} "
                             "merged"))
    if s.marked:
        parts.append(Content.styled(f"{s.marked:,} marked", "bold"))
    return Content(" · ").join(parts) if parts else Content("no events")
