"""One event's whole original JSON: coloured, searchable, every value visible, and pivots.

The screen is thin: `widgets.json_view.JsonView` draws and searches the lines that
`trailtui.jsontext` prints (faithful to the file, every string made safe); this screen adds the
header, the status line with the JSON path under the cursor, copy and the pivot keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import ClassVar, Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from trailtui.clipboard import copy_text
from trailtui.data.filters import Chip, pivot_chips
from trailtui.data.tz import TimeZone
from trailtui.jsontext import (
    JsonObject,
    clipboard_text,
    format_path,
    json_lines,
    parse_json,
    text_lines,
)
from trailtui.sanitize import cell_fit, safe_cell, safe_text
from trailtui.widgets.json_view import JsonView

PIVOT_KEYS: Final[dict[str, str]] = {
    "actor": "same actor",
    "access_key": "same access key",
    "source_ip": "same source IP",
    "session": "same session (this credential)",
    "role": "same role (every session)",
    "around": "±15 minutes around",
}
"""The keys of `filters.pivot_chips` this screen offers (the action parameter of each key)."""


def _format_time(value: object, zone: TimeZone | None = None) -> str:
    """`2024-01-01 10:00:00 UTC` for a datetime (naive means UTC, as stored), in the app's
    zone when one is given (its name shown, the UTC time beside it); text as given."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        stamp = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            stamp += f".{value.microsecond // 1000:03d}"
        if zone is not None and not zone.is_utc:
            return f"{zone.format(value)} {safe_text(zone.label)} ({stamp} UTC)"
        return stamp + " UTC"
    return safe_text(value)


class DetailScreen(ModalScreen[Chip | None]):
    """The whole original record of one event; dismisses with a pivot `Chip` or None."""

    PIVOT_GROUP: ClassVar[Binding.Group] = Binding.Group(
        "same actor·key·IP·session·role / ±15 min", compact=False
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="trailtui.detail.close", tooltip="close"),
        Binding("y", "copy_event", "Copy JSON", id="trailtui.detail.copy",
                tooltip="copy the original event JSON"),
        Binding("a", "pivot('actor')", "Same actor", group=PIVOT_GROUP, id="trailtui.detail.actor",
                tooltip="filter: same actor"),
        Binding(
            "k",
            "pivot('access_key')",
            "Same access key",
            tooltip="filter: same access key",
            group=PIVOT_GROUP,
            id="trailtui.detail.access_key",
        ),
        Binding(
            "i",
            "pivot('source_ip')",
            "Same source IP",
            tooltip="filter: same source IP",
            group=PIVOT_GROUP,
            id="trailtui.detail.source_ip",
        ),
        Binding(
            "s",
            "pivot('session')",
            "Same session",
            tooltip="filter: same session (this credential, its access key)",
            group=PIVOT_GROUP,
            id="trailtui.detail.session",
        ),
        Binding("r", "pivot('role')", "Same role", group=PIVOT_GROUP, id="trailtui.detail.role",
                tooltip="filter: same role (every session of it)"),
        Binding(
            "t",
            "pivot('around')",
            "±15 minutes around",
            tooltip="filter: ±15 minutes around this event",
            group=PIVOT_GROUP,
            id="trailtui.detail.time",
        ),
        Binding("slash", "find", "Find", id="trailtui.detail.find",
                tooltip="find text in this event"),
        Binding("n", "next_match", "Next", id="trailtui.detail.next", tooltip="next match"),
        Binding("N", "previous_match", "Previous", show=False, id="trailtui.detail.previous",
                tooltip="previous match"),
        Binding("c", "copy_value", "Copy value", id="trailtui.detail.copy_value",
                tooltip="copy the value under the cursor"),
        Binding("w", "toggle_wrap", "Wrap", id="trailtui.detail.wrap",
                tooltip="wrap long values on or off"),
    ]

    DEFAULT_CSS = """
    DetailScreen {
        align: center middle;
        & > #detail {
            width: 1fr;
            height: 1fr;
            margin: 1 2 0 2;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
        }
        & #detail-header { padding: 0 1; height: auto; max-height: 4; }
        & #detail-status { padding: 0 1; height: 1; color: $text-muted; background: $panel; }
        & #detail-find { display: none; border: tall $accent; }
        & #detail-find.-shown { display: block; }
    }
    """

    def __init__(
        self,
        raw: bytes | str,
        row: Mapping[str, object] | None = None,
        title: str | None = None,
        *,
        zone: TimeZone | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`raw`: the record exactly as stored; `row`: its table columns (header, pivots)."""
        super().__init__(name=name, id=id, classes=classes)
        self.raw_text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        self.row: Mapping[str, object] = dict(row or {})
        self._title = title
        self.zone = zone
        try:
            self._parsed: object = parse_json(self.raw_text)
        except (ValueError, RecursionError):
            self._parsed = None
            self._lines = text_lines(self.raw_text)
        else:
            self._lines = json_lines(self._parsed)
        try:
            chips = pivot_chips(self.row)
        except Exception:  # a missing column must not stop the event from opening
            chips = {}
        self.pivots: dict[str, Chip] = {k: v for k, v in chips.items() if k in PIVOT_KEYS}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="detail") as box:
            box.border_title = self._title_content()
            yield Static(self._header(), id="detail-header")
            yield JsonView(self._lines, id="detail-json")
            yield Input(
                placeholder="find in this event · enter search · esc close",
                id="detail-find",
                select_on_focus=True,
            )
            yield Static(Content(""), id="detail-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(JsonView).focus()
        self._update_status()

    def _field(self, *names: str) -> object:
        """A value from the row, else from the record's top level."""
        for name in names:
            value = self.row.get(name)
            if value not in (None, ""):
                return value
        if isinstance(self._parsed, JsonObject):
            for name in names:
                value = self._parsed.get(name)
                if value not in (None, ""):
                    return value
        return None

    def _title_content(self) -> Content:
        if self._title is not None:
            return Content(safe_text(self._title))
        return Content(safe_text(self._field("eventName") or "event"))

    def _header(self) -> Content:
        # Each value is cut to a budget: the header holds 4 lines, and one forged 500-character
        # name pushed the source/IP and findings lines out of sight (the JSON has it whole).
        name = safe_cell(self._field("eventName") or "(no eventName)", 48)
        stamp = self._field("eventTime")
        when = _format_time(stamp, self.zone)
        if not isinstance(stamp, dt.datetime):  # text as given: forged, any length
            when = cell_fit(when, 40)
        actor = self._field("actor")
        if actor is None and isinstance(self._parsed, JsonObject):
            identity = self._parsed.get("userIdentity")
            if isinstance(identity, JsonObject):
                actor = identity.get("arn") or identity.get("type")
        parts: list[str | Content | tuple[str, str]] = [
            (name, "bold"),
            ("  ·  ", "dim"),
            when or "(no time)",
            ("  ·  ", "dim"),
            (safe_cell(actor or "(unknown actor)", 64), "bold"),
        ]
        extra: list[str | Content | tuple[str, str]] = []
        for label, value in (
            ("source", self._field("eventSource")),
            ("region", self._field("awsRegion", "region")),
            ("ip", self._field("sourceIPAddress")),
        ):
            if value is not None:
                if extra:
                    extra.append(("  ·  ", "dim"))
                extra.extend([(f"{label} ", "dim"), safe_cell(value, 48)])
        error = self._field("errorCode")
        if error is not None:
            if extra:
                extra.append(("  ·  ", "dim"))
            extra.append((safe_cell(error, 40), "bold $text-error"))
        if extra:
            parts.append("\n")
            parts.extend(extra)
        found = self.row.get("_findings")
        if isinstance(found, list) and found:
            parts.append("\n")
            parts.append(("findings ", "dim"))
            for i, (level, title, _rule) in enumerate(found[:4]):
                if i:
                    parts.append(("  ·  ", "dim"))
                style = "bold $text-error" if level in ("high", "critical") else (
                    "bold $text-warning" if level == "medium" else "")
                parts.extend([(f"{level} ", style), safe_cell(title, 60)])
            if len(found) > 4:
                parts.append((f"  (+{len(found) - 4})", "dim"))
        return Content.assemble(*parts)

    def _update_status(self) -> None:
        view = self.query_one(JsonView)
        line = view.current
        pieces: list[str | tuple[str, str]] = []
        if line.path or line.value is not None:
            pieces.append(format_path(line.path))
        else:
            pieces.append("$")
        if view.search_text:
            found = f"{view.current_match + 1}/{view.matches}" if view.matches else "no match"
            pieces.extend([("   find ", "dim"), safe_text(view.search_text), (f"  {found}", "dim")])
        pieces.append(("   wrap on" if view.wrap else "   wrap off", "dim"))
        self.query_one("#detail-status", Static).update(Content.assemble(*pieces))

    @on(JsonView.CursorMoved)
    def _on_cursor_moved(self, message: JsonView.CursorMoved) -> None:
        self._update_status()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pivots this event has no value for show dimmed in the footer and do nothing."""
        if action == "pivot" and parameters and parameters[0] not in self.pivots:
            return None
        return True

    def action_close(self) -> None:
        find = self.query_one("#detail-find", Input)
        if find.has_class("-shown"):
            find.remove_class("-shown")
            self.query_one(JsonView).focus()
            return
        self.dismiss(None)

    def action_copy_event(self) -> None:
        result = copy_text(self.app, self.raw_text, what="the event JSON")
        self.notify(result.message, markup=False)

    def action_copy_value(self) -> None:
        view = self.query_one(JsonView)
        line = view.current
        if self._parsed is None:
            text, encoded = clipboard_text(self.raw_text)
            what = "the record"
        else:
            text, encoded = clipboard_text(line.value)
            what = format_path(line.path)
        result = copy_text(self.app, text, what=what)
        message = result.message
        if encoded:
            message += " (as a JSON string: the value holds control characters)"
        self.notify(message, markup=False)

    def action_pivot(self, which: str) -> None:
        chip = self.pivots.get(which)
        if chip is not None:
            self.dismiss(chip)

    def action_find(self) -> None:
        find = self.query_one("#detail-find", Input)
        find.add_class("-shown")
        find.value = self.query_one(JsonView).search_text
        find.focus()

    @on(Input.Submitted, "#detail-find")
    def _on_find(self, message: Input.Submitted) -> None:
        message.stop()
        find = self.query_one("#detail-find", Input)
        find.remove_class("-shown")
        view = self.query_one(JsonView)
        view.focus()
        count = view.search(message.value)
        if message.value and not count:
            self.notify(f"not found: {safe_text(message.value)}", markup=False)
        self._update_status()

    def action_next_match(self) -> None:
        view = self.query_one(JsonView)
        if not view.next_match():
            self.action_find()
            return
        self._update_status()

    def action_previous_match(self) -> None:
        if self.query_one(JsonView).next_match(backward=True):
            self._update_status()

    def action_toggle_wrap(self) -> None:
        self.query_one(JsonView).toggle_wrap()
        self._update_status()
