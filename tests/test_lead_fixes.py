"""Small things found by using the merged app: one key row per key, plural words that agree,
and dialog messages that name the dialog's fields."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.app import App, ComposeResult

from trailtui.data.timeline import Histogram
from trailtui.fetch.cli import UsageError, _regions
from trailtui.keys import key_rows
from trailtui.screens.fetch import fetch_namespace
from trailtui.widgets.timeline import Timeline


def test_help_lists_q_once_under_global() -> None:
    quits = [row for row in key_rows() if row.group == "Global" and row.keys == "q"]
    assert len(quits) == 1
    assert "ask" in quits[0].description  # the browser's binding, which asks before losing marks


class _TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Timeline(id="timeline")


async def test_timeline_says_one_event_not_one_events() -> None:
    app = _TimelineApp()
    async with app.run_test(size=(80, 6)) as pilot:
        line = app.query_one(Timeline)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        line.histogram = Histogram(start, timedelta(minutes=1), (1, 0), (0, 0))
        await pilot.pause()
        text = str(line.render())
        assert "1 event ·" in text
        assert "1 events" not in text


class _NoRegionSession:
    region_name = None

    def get_available_partitions(self) -> list[str]:
        return ["aws"]

    def get_available_regions(self, service: str, partition: str = "aws") -> list[str]:
        return ["us-east-1", "eu-west-1"]


def _regions_error(args: argparse.Namespace) -> str:
    session: Any = _NoRegionSession()
    with pytest.raises(UsageError) as exc:
        _regions(session, args)
    return str(exc.value)


def test_fetch_dialog_without_a_region_names_its_field_not_a_flag() -> None:
    message = _regions_error(fetch_namespace("", "7d", "/tmp/out.json", ""))
    assert "--region" not in message and "--all-regions" not in message
    assert "type one or more regions, or all" in message


def test_fetch_command_without_a_region_names_the_flags() -> None:
    from trailtui.fetch.cli import build_parser

    args = build_parser().parse_args(["--out", "/tmp/out.json"])
    assert "--region R" in _regions_error(args)
