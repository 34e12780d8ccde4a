"""Copying always reaches the terminal clipboard, uses the system clipboard only where it is the
user's own, and never breaks the app or scribbles on the screen when a clipboard is missing."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pyperclip
import pytest
from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.widgets import Static

from trailtui import clipboard
from trailtui.clipboard import (
    LARGE_COPY_BYTES,
    TMUX_HINT,
    copy_text,
    human_size,
    is_local_session,
)

LOCAL_MAC = {"PATH": ""}
SSH = {"PATH": "", "SSH_CONNECTION": "10.0.0.1 50000 10.0.0.2 22", "SSH_TTY": "/dev/pts/1"}


class CopyApp(App[None]):
    """Records notifications so tests can see what the user was told."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[tuple[str, SeverityLevel]] = []

    def compose(self) -> ComposeResult:
        yield Static("x")

    def notify(self, message: Any, *, severity: SeverityLevel = "information", **kw: Any) -> None:
        self.notes.append((str(message), severity))
        super().notify(message, severity=severity, **kw)


@pytest.fixture
def pyperclip_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", calls.append)
    return calls


async def _finish(result: clipboard.CopyResult) -> bool | None:
    if result.system is None:
        return None
    return await asyncio.wait_for(asyncio.wrap_future(result.system), timeout=10)


async def test_copy_sets_app_clipboard_and_says_how(pyperclip_calls: list[str]) -> None:
    app = CopyApp()
    async with app.run_test():
        text = '{"eventName":"AssumeRole"}\n' * 160
        result = copy_text(app, text, "3 events", env=SSH, platform="linux")
        assert app.clipboard == text
        assert result.channels == ("osc52",)
        assert result.size == len(text.encode())
        assert result.message == (
            f"copied 3 events, {human_size(len(text))}, to the terminal clipboard (OSC 52)"
        )
        assert await _finish(result) is None
    assert pyperclip_calls == []


async def test_over_ssh_the_system_clipboard_is_never_touched(
    pyperclip_calls: list[str],
) -> None:
    app = CopyApp()
    async with app.run_test():
        for platform in ("darwin", "linux", "win32"):
            result = copy_text(app, "x", env={**SSH, "DISPLAY": ":0"}, platform=platform)
            assert result.channels == ("osc52",)
            assert result.system is None
    assert pyperclip_calls == []


async def test_local_copy_also_goes_to_the_system_clipboard(pyperclip_calls: list[str]) -> None:
    app = CopyApp()
    async with app.run_test():
        result = copy_text(app, "arn:aws:iam::1:role/x", "1 cell", env=LOCAL_MAC, platform="darwin")
        assert result.channels == ("osc52", "system")
        assert "and the system clipboard" in result.message
        assert await _finish(result) is True
        assert app.clipboard == "arn:aws:iam::1:role/x"
    assert pyperclip_calls == ["arn:aws:iam::1:role/x"]


async def test_a_raising_pyperclip_is_swallowed_and_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(text: str) -> None:
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    app = CopyApp()
    async with app.run_test() as pilot:
        result = copy_text(app, "hello", env=LOCAL_MAC, platform="darwin")
        assert await _finish(result) is False
        await pilot.pause()
        assert app.clipboard == "hello"  # OSC 52 still happened
        assert app.is_running
        warnings = [note for note, severity in app.notes if severity == "warning"]
        assert len(warnings) == 1
        assert "could not find a copy/paste mechanism" in warnings[0]
        assert "OSC 52" in warnings[0]


def _fake_tool(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


async def test_a_stale_display_does_not_print_onto_the_screen(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], pyperclip_calls: list[str]
) -> None:
    # xclip with a display that is gone prints to its stderr (the terminal) and exits 1.
    _fake_tool(tmp_path, "xclip", 'echo "Error: Can\'t open display: :99" >&2\nexit 1\n')
    env = {"PATH": str(tmp_path), "DISPLAY": ":99"}
    app = CopyApp()
    async with app.run_test() as pilot:
        result = copy_text(app, "secret", env=env, platform="linux")
        assert result.channels == ("osc52", "system")
        assert await _finish(result) is False
        await pilot.pause()
        assert any("xclip exited with status 1" in note for note, _ in app.notes)
    captured = capfd.readouterr()
    assert "Can't open display" not in captured.err + captured.out
    assert pyperclip_calls == []


async def test_linux_copy_runs_the_display_tool(tmp_path: Path) -> None:
    out = tmp_path / "clip.txt"
    _fake_tool(tmp_path, "xclip", f'printf "%s" "$*" > "{tmp_path}/args"\ncat > "{out}"\n')
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "DISPLAY": ":0"}
    app = CopyApp()
    async with app.run_test():
        result = copy_text(app, "ünïcode ✓", env=env, platform="linux")
        assert await _finish(result) is True
    assert out.read_text(encoding="utf-8") == "ünïcode ✓"
    assert (tmp_path / "args").read_text() == "-selection clipboard"


async def test_env_var_forces_the_channels(
    monkeypatch: pytest.MonkeyPatch, pyperclip_calls: list[str]
) -> None:
    osc52_writes: list[str] = []
    app = CopyApp()
    async with app.run_test():
        monkeypatch.setattr(app, "copy_to_clipboard", osc52_writes.append)
        forced = copy_text(
            app, "a", env={**LOCAL_MAC, "TRAILTUI_CLIPBOARD": "osc52"}, platform="darwin"
        )
        assert forced.channels == ("osc52",)
        both = copy_text(app, "b", env={**SSH, "TRAILTUI_CLIPBOARD": "both"}, platform="darwin")
        assert both.channels == ("osc52", "system")
        assert await _finish(both) is True
        system = copy_text(app, "c", env={**SSH, "TRAILTUI_CLIPBOARD": "system"}, platform="darwin")
        assert system.channels == ("system",)
        assert await _finish(system) is True
        assert system.message == "copied 1 B to the system clipboard"
        assert app.clipboard == "c"  # in-app paste still sees it
    assert osc52_writes == ["a", "b"]  # no OSC 52 written in system-only mode
    assert pyperclip_calls == ["b", "c"]


async def test_tmux_hint_and_large_copy_warning() -> None:
    app = CopyApp()
    async with app.run_test():
        env = {**SSH, "TMUX": "/tmp/tmux-1000/default,1,0"}
        small = copy_text(app, "x", "1 event", env=env, platform="linux")
        assert small.message.endswith(TMUX_HINT)
        assert not small.large
        big = copy_text(app, "y" * (LARGE_COPY_BYTES + 1), env=SSH, platform="linux")
        assert big.large
        assert "drop" in big.message
        assert TMUX_HINT not in big.message


async def test_lone_surrogate_does_not_crash_the_copy() -> None:
    app = CopyApp()
    async with app.run_test():
        result = copy_text(app, '{"a": "\ud800"}', env=SSH, platform="linux")
        assert app.clipboard == '{"a": "\\ud800"}'
        assert result.size == len(app.clipboard)


def test_the_description_cannot_smuggle_control_characters() -> None:
    message = clipboard._message(("osc52",), 10, "x\x1b]52;c;SGk=\x07", False, tmux=False)
    assert "\x1b" not in message and "␛" in message


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (812, "812 B"), (1024, "1.0 KB"), (4300, "4.2 KB"), (1_363_149, "1.3 MB")],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


@pytest.mark.parametrize(
    ("env", "platform", "local"),
    [
        ({}, "darwin", True),
        ({}, "win32", True),
        ({}, "linux", False),  # a console without X/Wayland has no clipboard
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": ":0", "SSH_CLIENT": "10.0.0.1 5 22"}, "linux", False),
        ({"SSH_TTY": "/dev/pts/0"}, "darwin", False),
    ],
)
def test_is_local_session(env: dict[str, str], platform: str, local: bool) -> None:
    assert is_local_session(env, platform) is local
