"""Fetch from AWS inside the app: region, since and output file, then the same fetch as
`trailtui fetch` in a thread worker with its progress; the written file is loaded after.

Escape while fetching stops it at a checkpoint (the file holds what arrived; the same fetch
again resumes); escape otherwise closes the dialog.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from trailtui.sanitize import safe_text


def fetch_namespace(regions: str, since: str, out: str, profile: str) -> argparse.Namespace:
    """The dialog's fields as `trailtui fetch` arguments (`all` = every region), filled in
    directly: argparse's own errors would print over the screen."""
    from trailtui.fetch.cli import build_parser

    args = build_parser().parse_args(["--out", out.strip(), "--progress", "none"])
    names = regions.replace(",", " ").split()
    args.all_regions = [n.lower() for n in names] == ["all"]
    args.region = None if args.all_regions or not names else names
    args.since = since.strip() or None
    args.profile = profile.strip() or None
    args.dialog = True  # messages name the dialog's fields, not command-line flags
    return args


class FetchScreen(ModalScreen[Path | None]):
    """Asks what to fetch, fetches it, dismisses with the file (None: nothing to open)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel / stop", id="trailtui.fetch.cancel"),
    ]

    DEFAULT_CSS = """
    FetchScreen {
        align: center middle;
        & > #fetch {
            width: 80%; max-width: 100; height: auto;
            border: round $primary; background: $surface; padding: 0 1;
        }
        & Label { color: $text-muted; margin-top: 1; }
        & Input { border: none; height: 1; padding: 0 1; background: $boost; }
        & Input:focus { border: none; background: $primary 30%; }
        & #fetch-status { height: auto; margin-top: 1; }
        & #fetch-status.-error { color: $text-error; }
    }
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self._stop = threading.Event()
        self.running = False

    def compose(self) -> ComposeResult:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
        with Vertical(id="fetch") as box:
            box.border_title = "Fetch from AWS (CloudTrail Event history)"
            yield Label("Regions (space separated, or all)")
            yield Input(region, placeholder="us-east-1 eu-west-1 · empty: the profile's",
                        id="fetch-region")
            yield Label("Since (90 days at most)")
            yield Input("7d", placeholder="7d, 12h, 90d", id="fetch-since")
            yield Label("Profile")
            yield Input(os.environ.get("AWS_PROFILE", ""), placeholder="default",
                        id="fetch-profile")
            yield Label("Write to (an existing file resumes or tops up)")
            yield Input(str(self.folder / f"cloudtrail-{stamp}.json"), id="fetch-out")
            yield Static(Content("enter starts · 2 requests/s per region, 50 events a page"),
                         id="fetch-status")
        yield Footer()

    def _status(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#fetch-status", Static)
        widget.set_class(error, "-error")
        widget.update(Content(safe_text(text) if "\n" not in text else "\n".join(
            safe_text(line) for line in text.splitlines())))

    @on(Input.Submitted)
    def _start(self, message: Input.Submitted) -> None:
        message.stop()
        if self.running:
            return
        value = {i.id: i.value for i in self.query(Input)}
        if not value["fetch-out"].strip():
            self._status("give a file to write", error=True)
            return
        self.running = True
        self._stop.clear()
        self._status("starting…")
        self._fetch(fetch_namespace(value["fetch-region"] or "", value["fetch-since"] or "",
                                    value["fetch-out"] or "", value["fetch-profile"] or ""))

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def _fetch(self, args: argparse.Namespace) -> None:
        """boto3's import and every request happen here, never on the UI thread."""
        try:
            self._fetch_now(args)
        except Exception as exc:  # one message in the dialog, never a dead "running" state
            self.app.call_from_thread(self._done, None, f"fetch failed: {exc}")

    def _fetch_now(self, args: argparse.Namespace) -> None:
        from trailtui.fetch.cli import describe, prepare, summarise
        from trailtui.fetch.engine import RegionProgress

        lines: list[str] = []
        fetcher = prepare(args, lines.append)
        if isinstance(fetcher, int):
            self.app.call_from_thread(self._done, None, "\n".join(lines))
            return
        fetcher.stop = self._stop
        last = [0.0]

        def progress(regions: dict[str, RegionProgress]) -> None:
            now = time.monotonic()
            if now - last[0] < 0.25:
                return
            last[0] = now
            text = "\n".join(describe(p, now) for p in regions.values())
            self.app.call_from_thread(self._status, text + "\nescape stops (resumable)")

        fetcher.on_progress = progress
        result = fetcher.run()
        code = summarise(result, args.out, lines.append, all_regions=args.all_regions)
        self.app.call_from_thread(self._done, Path(args.out) if code == 0 else None,
                                  "\n".join(lines[-6:]))

    def _done(self, path: Path | None, text: str) -> None:
        self.running = False
        if path is not None:
            self.dismiss(path)
            return
        self._status(text, error=True)

    def on_unmount(self) -> None:
        self._stop.set()  # leaving the app must not wait for a fetch

    def action_cancel(self) -> None:
        if self.running:
            self._stop.set()
            self._status("stopping at the next checkpoint…")
            return
        self.dismiss(None)
