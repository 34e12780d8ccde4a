"""Messages posted by the app's thread workers to the screen (results flow up as messages).

Each carries the generation it was computed for, so a late result of a superseded filter is
dropped instead of overwriting a newer one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual.message import Message

from trailtui.data.store import LoadProgress, LoadReport
from trailtui.data.views import ViewInfo


@dataclass
class LoadProgressed(Message):
    """Bytes and events so far; `phase == "ready"` means the first events are queryable."""

    progress: LoadProgress


@dataclass
class LoadFinished(Message):
    """A load ended (or was cancelled); the report says what loaded and what was skipped."""

    report: LoadReport


@dataclass
class ViewReady(Message):
    """A filtered, sorted view table is materialised and can be paged."""

    generation: int
    view: ViewInfo
    total: int
    span: tuple[dt.datetime | None, dt.datetime | None]
    widths: dict[str, int]
    position: int | None = None  # where the event under the cursor is now (after a re-sort)
    paths: tuple[str, ...] = ()  # extra field columns of the view (page with these keys)


@dataclass
class FacetsReady(Message):
    """Every facet recounted under the filter of `generation`."""

    generation: int
    counts: Mapping[str, Sequence[tuple[object, int]]]


@dataclass
class WorkFailed(Message):
    """A worker failed: one line for the user; the app keeps running."""

    what: str
    error: str
