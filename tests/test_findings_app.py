"""The findings panel as a user drives it: findings appear after the load, `F` then `enter`
filters the table to a finding's events as a chip, the detail of an event lists its findings,
and a bad rules folder or exclusions file is one message, not a broken session."""

from __future__ import annotations

from pathlib import Path

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.detail import DetailScreen
from trailtui.screens.findings import FindingsOptions
from trailtui.widgets.findings_panel import FindingsPanel
from trailtui.widgets.virtual_table import VirtualTable

SIZE = (160, 48)
LEVELS = ("informational", "low", "medium", "high", "critical")


async def test_findings_panel_filters_and_detail() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        panel = screen.query_one(FindingsPanel)
        found = list(panel.findings)
        assert found, "the demo has findings"
        ranks = [LEVELS.index(f.level) for f in found]
        assert ranks == sorted(ranks, reverse=True)  # most severe first
        top = found[0]

        await pilot.press("I")
        assert app.focused is panel
        await pilot.press("enter")
        await settle(pilot)
        table = screen.query_one("#events", VirtualTable)
        assert screen.filters.labels == (f"finding: {top.title}",)
        assert table.row_count == top.events
        assert app.focused is table

        # the detail of one of those events names the finding
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        header = str(app.screen.query_one("#detail-header").render())
        assert "findings" in header and top.title in header
        await pilot.press("escape")
        await settle(pilot)

        # undo removes the chip: the whole table again
        await pilot.press("u")
        await settle(pilot)
        assert not screen.filters.labels
        assert table.row_count == 3000


async def test_bad_rules_and_exclusions_leave_the_app_working(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "broken.yml").write_text("title: broken\nlogsource: {product: aws}\n"
                                                   "detection: {s: {eventName|nope: x}, "
                                                   "condition: s}\n")
    bad_ex = tmp_path / "ex.toml"
    bad_ex.write_text("this is = = not toml")
    options = FindingsOptions((str(tmp_path / "rules"),), True, str(bad_ex))
    app = TrailApp([str(demo_path())], cache=False, findings=options)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app.notify

        def spy(message: str, **kwargs: object) -> None:
            notes.append(message)
            original(message, **kwargs)  # type: ignore[arg-type]

        app.notify = spy  # type: ignore[method-assign]
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        assert screen.query_one(FindingsPanel).findings  # the pack still ran
        assert screen.query_one("#events", VirtualTable).row_count == 3000
        text = "\n".join(notes)
        assert "broken.yml" in text and "nope" in text
        assert "ex.toml" in text and "TOML" in text

