"""The picker's "fetch from AWS" (f): the dialog runs the fetch in a worker and the file loads.

Against the local CloudTrail double at the real 2 requests/s (botocore reads
AWS_ENDPOINT_URL_CLOUDTRAIL), with dummy credentials only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_cloudtrail import FakeCloudTrail, make_events
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from trailtui.screens.fetch import FetchScreen
from trailtui.screens.picker import PickerScreen


class Host(App[None]):
    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._make(), self.results.append)


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> Iterator[FakeCloudTrail]:
    with FakeCloudTrail(tps=2.0, lifetime=60) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", server.url)
        yield server


async def _fill(pilot: Pilot[None], app: Host, out: Path) -> FetchScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(app.screen, FetchScreen))
    screen = app.screen
    assert isinstance(screen, FetchScreen)
    screen.query_one("#fetch-region", Input).value = "us-east-1"
    screen.query_one("#fetch-since", Input).value = "1h"
    screen.query_one("#fetch-out", Input).value = str(out)
    screen.query_one("#fetch-out", Input).focus()
    await pilot.press("enter")
    return screen


async def test_fetch_from_the_picker_loads_the_file(fake: FakeCloudTrail, tmp_path: Path) -> None:
    now = int(time.time())
    texts = fake.add("us-east-1", make_events("us-east-1", 80, now - 60, spacing=30))
    out = tmp_path / "fetched.json"
    app = Host(lambda: PickerScreen(tmp_path))
    async with app.run_test(size=(110, 36)) as pilot:
        await _fill(pilot, app, out)
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [[out]]
    records = json.loads(out.read_text())["Records"]
    assert sorted(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records) \
        == sorted(texts)
    assert fake.violations == []


async def test_fetch_without_credentials_says_so_and_keeps_the_picker(
        aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    app = Host(lambda: PickerScreen(tmp_path))
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await _fill(pilot, app, tmp_path / "x.json")
        status = screen.query_one("#fetch-status", Static)
        await wait_for(pilot, lambda: status.has_class("-error"))
        assert "no AWS credentials" in str(status.render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert app.results == []
