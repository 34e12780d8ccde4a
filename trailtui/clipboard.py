"""The one way to copy: OSC 52 always, the system clipboard only where it is local, guarded.

Why this shape (research/aesthetics.md B.2): `App.copy_to_clipboard` writes OSC 52, which
reaches the user's own terminal even over SSH but fails silently in some terminals and inside
tmux unless `set -s set-clipboard on`. pyperclip raises without a clipboard, copies to the wrong
machine over SSH (pbcopy on the remote Mac), and with a stale `$DISPLAY` xclip prints errors onto
the terminal Textual draws on. So the system copy runs only for local sessions, off the UI thread,
with the X/Wayland tools' output sent to /dev/null, and every failure is caught and reported.

`TRAILTUI_CLIPBOARD=osc52|system|both|auto` forces a choice (default `auto`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import pyperclip

from trailtui.sanitize import safe_text

if TYPE_CHECKING:
    from textual.app import App

LARGE_COPY_BYTES: Final = 100 * 1024
"""Above this many bytes callers should confirm or offer save-to-file: terminals cap OSC 52
payloads and drop bigger ones without a word (reported: Tabby ~1 KB, Termux ~6-7 KB;
vim-oscyank stops at 100,000 characters)."""

ENV_VAR: Final = "TRAILTUI_CLIPBOARD"
TMUX_HINT: Final = "(in tmux: set -s set-clipboard on)"
SYSTEM_COPY_TIMEOUT: Final = 5.0

Channel = Literal["osc52", "system"]

_SSH_VARS: Final = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")


@dataclass(frozen=True)
class CopyResult:
    """What a copy did, so the UI can tell the user which way the text went."""

    channels: tuple[Channel, ...]
    size: int
    """UTF-8 bytes copied."""
    message: str
    """For `notify(..., markup=False)`: e.g. "copied 3 events, 4.2 KB, to the terminal ..."."""
    large: bool
    """True above `LARGE_COPY_BYTES`."""
    system: Future[bool] | None = None
    """Resolves to True/False when the background system copy finishes (None if not tried)."""


def human_size(n: int) -> str:
    """Bytes as a short human size: 812 B, 4.2 KB, 1.3 MB (1024-based, like the threshold)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def is_local_session(env: Mapping[str, str], platform: str) -> bool:
    """True when a system clipboard copy would land on the user's own screen.

    Over SSH it would land on the remote machine (or fail); on Linux/BSD without a display
    server there is no clipboard at all.
    """
    if any(env.get(name) for name in _SSH_VARS):
        return False
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return True
    return bool(env.get("WAYLAND_DISPLAY") or env.get("DISPLAY"))


def resolve_mode(env: Mapping[str, str], platform: str) -> tuple[bool, bool]:
    """Return (use OSC 52, use the system clipboard) from `TRAILTUI_CLIPBOARD` and the session."""
    raw = env.get(ENV_VAR, "auto").strip().lower()
    if raw == "osc52":
        return True, False
    if raw == "system":
        return False, True
    if raw == "both":
        return True, True
    return True, is_local_session(env, platform)


def _tool_command(env: Mapping[str, str]) -> list[str] | None:
    """The wl-copy/xclip/xsel command for this display, if installed.

    Run by us (not pyperclip) so that stderr goes to /dev/null and the exit code is checked:
    pyperclip lets xclip print "Can't open display" onto the TUI and reports success.
    """
    path = env.get("PATH", os.defpath)
    if env.get("WAYLAND_DISPLAY") and (exe := shutil.which("wl-copy", path=path)):
        return [exe]
    if env.get("DISPLAY"):
        if exe := shutil.which("xclip", path=path):
            return [exe, "-selection", "clipboard"]
        if exe := shutil.which("xsel", path=path):
            return [exe, "--clipboard", "--input"]
    return None


def system_copy(text: str, env: Mapping[str, str], platform: str) -> None:
    """Copy to the system clipboard, blocking; raises on any failure. Call off the UI thread."""
    command = _tool_command(env) if not platform.startswith(("darwin", "win", "cygwin")) else None
    if command is not None:
        completed = subprocess.run(
            command,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=SYSTEM_COPY_TIMEOUT,
            check=False,
            env=dict(env),
            start_new_session=True,  # never reads or writes the terminal the TUI draws on
        )
        if completed.returncode != 0:
            name = os.path.basename(command[0])
            raise RuntimeError(f"{name} exited with status {completed.returncode}")
        return
    pyperclip.copy(text)


# Copies run one at a time in the order they were asked for; a copy superseded by a newer one
# before it started is skipped, so the system clipboard always ends with the latest text.
_copy_lock = threading.Lock()  # held while a system copy runs (may take seconds)
_sequence_lock = threading.Lock()  # held only to bump/read the counter: never blocks the UI
_latest = 0


def _system_worker(
    app: App[Any],
    text: str,
    env: Mapping[str, str],
    platform: str,
    sequence: int,
    osc52: bool,
    future: Future[bool],
) -> None:
    """Thread body: run the system copy, report a failure to the user, never raise."""
    try:
        with _copy_lock:
            with _sequence_lock:
                superseded = sequence != _latest
            if superseded:
                future.set_result(False)
                return
            system_copy(text, env, platform)
    except Exception as error:  # PyperclipException, OSError, timeouts: never break the app
        reason = safe_text(str(error) or type(error).__name__)[:200]
        also = "; the terminal clipboard (OSC 52) was still written" if osc52 else ""
        _notify_from_thread(app, f"system clipboard copy failed: {reason}{also}")
        future.set_result(False)
        return
    future.set_result(True)


def _notify_from_thread(app: App[Any], message: str) -> None:
    """Show a warning from the copy thread; quietly give up if the app has gone."""
    with contextlib.suppress(Exception):
        app.call_from_thread(app.notify, message, severity="warning", markup=False)


def copy_text(
    app: App[Any],
    text: str,
    what: str = "",
    *,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> CopyResult:
    """Copy `text` to the clipboard(s) and describe what was done.

    `what` names the payload for the message ("3 events", "eventID"). Returns at once: the
    system copy (when used) finishes in a background thread and warns via `notify` on failure.
    `env`/`platform` default to the real ones (parameters so tests need no monkeypatching).
    """
    global _latest
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    use_osc52, use_system = resolve_mode(env, platform)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        # A lone surrogate (legal in JSON text) would make Textual's OSC 52 encoder raise;
        # spell it as `\udXXX`, which is also what it means inside a JSON string.
        text = text.encode("utf-8", errors="backslashreplace").decode("utf-8")
        size = len(text.encode("utf-8"))
    large = size > LARGE_COPY_BYTES

    channels: list[Channel] = []
    if use_osc52:
        app.copy_to_clipboard(text)
        channels.append("osc52")
    else:
        # Keep Textual's in-app paste (Input, TextArea) consistent without writing OSC 52.
        app._clipboard = text

    future: Future[bool] | None = None
    if use_system:
        future = Future()
        with _sequence_lock:
            _latest += 1
            sequence = _latest
        thread = threading.Thread(
            target=_system_worker,
            args=(app, text, dict(env), platform, sequence, use_osc52, future),
            name="trailtui-clipboard",
            daemon=True,
        )
        thread.start()
        channels.append("system")

    return CopyResult(
        channels=tuple(channels),
        size=size,
        message=_message(tuple(channels), size, what, large, tmux=bool(env.get("TMUX"))),
        large=large,
        system=future,
    )


def _message(
    channels: tuple[Channel, ...], size: int, what: str, large: bool, *, tmux: bool
) -> str:
    """The sentence shown to the user, naming every clipboard written."""
    places: list[str] = []
    if "osc52" in channels:
        places.append("the terminal clipboard (OSC 52)")
    if "system" in channels:
        places.append("the system clipboard")
    where = " and ".join(places)
    what = safe_text(what).strip()
    head = f"copied {what}, {human_size(size)}," if what else f"copied {human_size(size)}"
    message = f"{head} to {where}"
    if "osc52" in channels:
        if tmux:
            message += f" {TMUX_HINT}"
        if large:
            message += "; some terminals silently drop copies this large"
    return message
