"""Set a time range: two bounds typed as dates, times or offsets from the newest event.

Relative bounds (`-1h`, `-24h`, `-7d`) count back from the newest event loaded, not from now:
an investigation is usually of yesterday's download, where "the last hour" means the last hour
of the data. Times are read and shown in the app's one time zone (`data.tz.TimeZone`, UTC by
default) and returned as naive UTC (the `eventTime` column is a UTC TIMESTAMP).
The range is half-open, [from, to), as `filters.Chip.time` filters it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import ClassVar, Final, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from trailtui.data.tz import TimeZone
from trailtui.sanitize import safe_text

TimeRange = tuple[dt.datetime | None, dt.datetime | None]
Bound = Literal["from", "to"]

_RELATIVE: Final = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([smhdw])$", re.IGNORECASE)
_DATE_ONLY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNITS: Final[dict[str, str]] = {
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}
FORMATS_HINT: Final = "2024-01-01 · 2024-01-01 10:00 · 2024-01-01T10:00:00Z · -1h · -24h · -7d"


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    """Aware times converted to UTC; naive ones are taken to be UTC already."""
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_bound(
    text: str, bound: Bound, newest: dt.datetime | None, zone: TimeZone | None = None
) -> dt.datetime | None:
    """One bound as a naive UTC datetime; empty text means open-ended (None).

    A date alone covers the whole day: as `from` it is that midnight, as `to` (exclusive) the
    next midnight, so `2024-01-01` to `2024-01-01` is that one day. Relative offsets count back
    from `newest` (the current time when nothing is loaded). Raises ValueError with a message
    for the user.
    """
    if zone is not None:  # the app's time zone: typed times are read in it
        return zone.parse(text, bound, newest)
    text = text.strip()
    if not text:
        return None
    relative = _RELATIVE.match(text)
    if relative:
        amount = float(relative.group(1))
        unit = _UNITS[relative.group(2).lower()]
        anchor = to_utc_naive(newest) if newest is not None else _utc_now()
        try:
            return anchor - dt.timedelta(**{unit: amount})
        except OverflowError:
            raise ValueError(f"{text!r} reaches before year 1") from None
    if _DATE_ONLY.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
        start = dt.datetime.combine(day, dt.time())
        if bound == "to":
            return start + dt.timedelta(days=1)
        return start
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: try {FORMATS_HINT}") from None
    return to_utc_naive(parsed)


def parse_range(
    from_text: str, to_text: str, newest: dt.datetime | None, zone: TimeZone | None = None
) -> TimeRange:
    """Both bounds, checked against each other. Raises ValueError with a message."""
    try:
        start = parse_bound(from_text, "from", newest, zone)
    except ValueError as error:
        raise ValueError(f"from: {error}") from None
    try:
        end = parse_bound(to_text, "to", newest, zone)
    except ValueError as error:
        raise ValueError(f"to: {error}") from None
    if start is not None and end is not None and start >= end:
        raise ValueError("to must be after from")
    return start, end


def format_bound(value: dt.datetime | None, zone: TimeZone | None = None) -> str:
    """A bound as text the parser reads back (seconds kept only when set), in `zone`."""
    if value is None:
        return ""
    value = to_utc_naive(value)
    if zone is not None and not zone.is_utc:
        value = zone.local(value).replace(tzinfo=None)
    if value.microsecond:
        return value.isoformat(sep=" ")
    if value.second:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.strftime("%Y-%m-%d %H:%M")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class TimeRangeScreen(ModalScreen[TimeRange | None]):
    """Two inputs (from, to); enter applies, escape cancels.

    Dismisses with naive UTC bounds [from, to) for `Chip.time`; either may be None (open);
    (None, None) means "no time filter".
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="trailtui.time.cancel"),
        Binding("enter", "apply", "Apply", priority=False, id="trailtui.time.apply"),
    ]

    DEFAULT_CSS = """
    TimeRangeScreen {
        align: center middle;
        & > #time {
            width: 80;
            max-width: 100%;
            height: auto;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
            padding: 0 1;
        }
        & .time-row { height: auto; }
        & .time-row > Label { width: 6; padding: 1 0 0 0; }
        & .time-row > Input { width: 1fr; }
        & #time-hint { color: $text-muted; }
        & #time-error { color: $text-error; height: auto; }
    }
    """

    def __init__(
        self,
        newest: dt.datetime | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        zone: TimeZone | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`newest`: the newest event time (anchor of `-1h`); `start`/`end`: prefilled bounds."""
        super().__init__(name=name, id=id, classes=classes)
        self.newest = newest
        self.zone = zone or TimeZone()
        self._start = start
        self._end = end

    def compose(self) -> ComposeResult:
        with Vertical(id="time") as box:
            label = safe_text(self.zone.label)
            box.border_title = f"Time range ({label})"
            newest = (f"newest event {format_bound(self.newest, self.zone)} {label}"
                      if self.newest else "no events")
            hint = f"{FORMATS_HINT}\n-1h etc. count back from the {newest}; empty = open"
            yield Static(Content(hint), id="time-hint")
            with Horizontal(classes="time-row"):
                yield Label("from")
                yield Input(format_bound(self._start, self.zone), placeholder="open",
                            id="time-from")
            with Horizontal(classes="time-row"):
                yield Label("to")
                yield Input(format_bound(self._end, self.zone), placeholder="open",
                            id="time-to")
            yield Static(Content(""), id="time-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#time-from", Input).focus()
        self._on_changed()

    def _values(self) -> tuple[str, str]:
        return (
            self.query_one("#time-from", Input).value,
            self.query_one("#time-to", Input).value,
        )

    def _show_error(self, message: str) -> None:
        self.query_one("#time-error", Static).update(Content(safe_text(message)))

    @on(Input.Changed)
    def _on_changed(self) -> None:
        """Say what the typed range means (or why it is wrong) while typing."""
        try:
            start, end = parse_range(*self._values(), self.newest, self.zone)
        except ValueError as error:
            self._show_error(str(error))
            return
        if start is None and end is None:
            text = "no time filter"
        else:
            text = (f"{format_bound(start, self.zone) or '…'}  →  "
                    f"{format_bound(end, self.zone) or '…'}  {safe_text(self.zone.label)}")
        self.query_one("#time-error", Static).update(Content.styled(text, "$text-success"))

    @on(Input.Submitted)
    def _on_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self.action_apply()

    def action_apply(self) -> None:
        try:
            result = parse_range(*self._values(), self.newest, self.zone)
        except ValueError as error:
            self._show_error(str(error))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
