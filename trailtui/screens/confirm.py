"""Small dialogs: confirm a large copy (or save it instead), and ask for a file path."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from trailtui.clipboard import human_size


class ConfirmCopyScreen(ModalScreen[str | None]):
    """Terminals cap or silently drop large OSC 52 copies: say so and offer a file instead."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("c", "choose('copy')", "Copy anyway"),
        Binding("s", "choose('save')", "Save to file"),
    ]

    def __init__(self, what: str, size: int) -> None:
        super().__init__(classes="dialog")
        self.what = what
        self.byte_size = size

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(
                f"Copy {self.what} ({human_size(self.byte_size)})?\n\n"
                "Many terminals drop clipboard writes this large without a word "
                "(tmux, kitty and others cap OSC 52). Saving to a file is safer.",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save to file (s)", id="save", variant="primary")
                yield Button("Copy anyway (c)", id="copy")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)


class SavePathScreen(ModalScreen[str | None]):
    """Ask where to write a file; enter accepts, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, default: str, title: str = "Save events as {\"Records\":[...]} to:") -> None:
        super().__init__(classes="dialog")
        self.default = default
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, markup=False)
            yield Input(value=self.default, id="path")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
