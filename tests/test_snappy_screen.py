"""A snappy screen (issue 9, part 5), as a user sees it: the facet panels on screen are counted
with the view and the others after it, hidden panels never hold the table back, a wide panel
shows long values whole, the findings panel counts under the filter and shows a title whole,
and the footer follows the focus. No timing here: the figures are in bench/bench_ui.py."""

from __future__ import annotations

from pathlib import Path

from _fixtures import record, write_ndjson
from textual.widgets._footer import FooterKey

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.messages import FacetsReady, ViewReady
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.repaint import PairedPaint
from trailtui.screens.value import ValueScreen
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.findings_panel import FindingsPanel
from trailtui.widgets.virtual_table import VirtualTable

LONG = "an-exactly-forty-char-name.amazonaws.com"  # 40 characters


def _lines(widget: VirtualTable) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y))
            for y in range(widget.size.height)]


def _browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


def _long_values(tmp_path: Path) -> Path:
    rows = [record(i, eventSource=LONG if i % 2 else "s3.amazonaws.com") for i in range(40)]
    return write_ndjson(rows, tmp_path / "long.ndjson")


async def test_a_wide_panel_shows_a_40_char_value_whole(tmp_path: Path) -> None:
    assert len(LONG) == 40
    app = TrailApp([str(_long_values(tmp_path))], cache=False)
    async with app.run_test(size=(240, 50)) as pilot:
        await settle(pilot)
        panel = _browser(app).query_one("#facet-eventSource", FacetPanel)
        assert any(LONG in line for line in _lines(panel)), _lines(panel)


async def test_a_narrow_panel_cuts_a_long_value_and_v_shows_it_whole(tmp_path: Path) -> None:
    app = TrailApp([str(_long_values(tmp_path))], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = _browser(app)
        panel = screen.query_one("#facet-eventSource", FacetPanel)
        assert not any(LONG in line for line in _lines(panel))
        assert any(LONG[:20] in line for line in _lines(panel))
        panel.focus()
        panel.highlighted = next(i for i, (v, _) in enumerate(panel.counts) if v == LONG)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        assert LONG in str(app.screen.query_one("#value-static").render())


async def test_panels_on_screen_are_counted_with_the_view_and_the_others_after() -> None:
    painted: list[tuple[int, frozenset[str] | None]] = []
    real = PairedPaint._paint

    def spy(self: PairedPaint, view: ViewReady, facets: FacetsReady | None) -> None:
        painted.append((view.generation, None if facets is None else frozenset(facets.counts)))
        real(self, view, facets)

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = _browser(app)
        on, off = screen._facet_order()
        assert on and off  # at 48 lines some panels are scrolled out of view
        PairedPaint._paint = spy  # type: ignore[method-assign]
        try:
            await pilot.press("f", "enter")  # pick the first value of the first facet
            await settle(pilot)
        finally:
            PairedPaint._paint = real  # type: ignore[method-assign]
        generation = screen.generation
        assert screen.filters.chips
        # the view went on screen with the counts of the panels on screen, in one paint
        assert [p for p in painted if p[0] == generation] == [(generation, frozenset(on))]
        # the panels out of view were counted too, after, for the same filter
        panels = list(screen.query(FacetPanel))
        assert all(p.counted_generation == generation for p in panels)


async def test_hidden_panels_do_not_hold_the_view_and_count_when_shown() -> None:
    holds: list[bool] = []
    real = PairedPaint.view

    def spy(self: PairedPaint, message: ViewReady, *, hold: bool) -> None:
        holds.append(hold)
        real(self, message, hold=hold)

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = _browser(app)
        table = screen.query_one("#events", VirtualTable)
        before = screen.query_one("#facet-eventSource", FacetPanel).counted_generation
        await pilot.press("backslash")  # hide the facets
        await pilot.pause()
        assert not screen.query_one("#facets").display
        table.focus()
        table.move_cursor(row=0, column=[c.key for c in table.visible_columns].index(
            "eventSource"))
        PairedPaint.view = spy  # type: ignore[method-assign]
        try:
            await pilot.press("equals_sign")  # keep this cell's service: a filter change
            await settle(pilot)
        finally:
            PairedPaint.view = real  # type: ignore[method-assign]
        assert screen.filters.chips
        assert holds == [False]  # the view was painted at once, waiting for no facet
        assert screen.view is not None and screen.view.generation == screen.generation
        panel = screen.query_one("#facet-eventSource", FacetPanel)
        assert panel.counted_generation == before  # nobody counted hidden panels

        await pilot.press("backslash")  # show them: counted now, for the current filter
        await settle(pilot)
        assert panel.counted_generation == screen.generation
        kept = screen.filters.chips[0]
        assert [v for v, _ in screen.query_one("#facet-eventName", FacetPanel).counts]
        assert sum(n for _, n in screen.query_one("#facet-awsRegion", FacetPanel).counts) == (
            screen.view.row_count), kept


async def test_findings_counts_follow_the_filter_and_titles_show_whole() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = _browser(app)
        panel = screen.query_one(FindingsPanel)
        found = list(panel.findings)
        assert len(found) >= 2
        totals = {f.rule_id: f.events for f in found}

        def shown() -> dict[str, int]:
            out: dict[str, int] = {}
            for i, f in enumerate(found):
                row = panel.row_values(i)
                if row is not None and isinstance(row["events"], int):
                    out[f.rule_id] = row["events"]
            return out

        assert shown() == totals  # no filter: every event
        title = screen.query_one("#finding-title")
        assert found[0].title in str(title.render())  # whole, not cut at the column

        top = found[0]
        await pilot.press("I", "enter")  # filter to the top finding's events
        await settle(pilot)
        under = shown()
        assert under[top.rule_id] == top.events
        assert all(under[r] <= totals[r] for r in totals)
        assert under != totals  # the other findings count only the events under the chip
        assert "under the filter" in str(panel.border_subtitle)

        await pilot.press("u")  # the chip goes: every event again
        await settle(pilot)
        assert shown() == totals

        panel.focus()
        panel.move_cursor(row=1)
        await pilot.pause()
        assert found[1].title in str(title.render())


async def test_the_footer_follows_the_focus() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)

        def keys() -> list[str]:
            return [k.description for k in app.screen.query(FooterKey)]

        assert "Open" in keys()
        await pilot.press("f")
        await settle(pilot)
        assert "Filter to" in keys() and "Open" not in keys()
        await pilot.press("enter")  # a pick: focus goes back to the table
        await settle(pilot)
        assert "Open" in keys() and "Filter to" not in keys()
        await pilot.press("I")
        await settle(pilot)
        assert "Filter to finding" in keys()
