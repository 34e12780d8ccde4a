"""The key footer, updated in place when the focus moves.

Textual's `Footer` recomposes on every change of the active bindings: it removes its keys and
mounts new ones, each styled from the stylesheet, then lays the screen out again. On the
browser screen that is 60-250 ms on this 2-core machine, and a facet pick moves the focus
(facet -> table), so every pick paid it on top of the new view (issue 9, a snappy screen).
This footer gives its existing keys their new key, label and action when the shape is the
same (as many keys, no groups), which is the case between the table, the facets and the
findings; anything else recomposes as before. While the screen waits for the view of a new
filter (`paint_pending()`), the change waits too and comes with the view (`release()`), so a
pick lays the screen out once.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

_Key = tuple[str, str, str, str, bool, str]  # key, display, description, action, disabled, tip


class SteadyFooter(Footer):
    """A `Footer` that relabels its keys instead of rebuilding them when it can."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update_keys)

    def _wanted(self) -> list[_Key] | None:
        """The keys compose would show, in order (None: a shape only compose can make)."""
        keys: list[_Key] = []
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show:
                continue
            if binding.group is not None:
                return None  # grouped keys: compose builds them
            if binding.action in seen:
                continue  # compose shows the first binding of each action
            seen.add(binding.action)
            keys.append((binding.key, self.app.get_key_display(binding), binding.description,
                         binding.action, not enabled, tooltip))
        return keys

    _held = False

    def release(self) -> None:
        """The screen painted what the footer waited for: update the keys now."""
        if self._held:
            self._held = False
            self._update_keys()

    def _update_keys(self) -> None:
        if not self.is_attached:
            return
        pending = getattr(self.screen, "paint_pending", None)
        if pending is not None and pending():
            # A filter change is being counted: change with its view, in the same layout.
            self._held = True
            return
        wanted = self._wanted()
        have = [k for k in self.query_children(FooterKey) if not k.has_class("-command-palette")]
        if wanted is None or len(wanted) != len(have) or not have:
            self.call_later(self.recompose)
            return
        relayout = False
        for widget, (key, display, description, action, disabled, tooltip) in zip(
                have, wanted, strict=True):
            if (widget.key, widget.key_display, widget.description, widget.action,
                    widget._disabled, widget.tooltip or "") == (
                    key, display, description, action, disabled, tooltip or ""):
                continue
            # A key keeps the widest width it had: labels that come and go with the focus
            # (`Open` / `Filter to`) do not move the keys after them, nor lay the screen out.
            width = widget.size.width
            padding = width - cell_len(widget.key_display) - cell_len(widget.description)
            if width and (widget.styles.min_width is None
                          or widget.styles.min_width.cells != width):
                widget.styles.min_width = width
            grows = cell_len(display) + cell_len(description) + padding > width
            relayout |= grows or not width
            widget.key, widget.key_display = key, display
            widget.description, widget.action = description, action
            widget._disabled = disabled
            widget.set_class(disabled, "-disabled")
            widget.tooltip = tooltip or None
            widget.refresh(layout=grows or not width)
        if relayout:
            self.refresh(layout=True)
