"""The actors screen, the timeline and the coverage banner, driven like a user with Pilot,
plus their SVG snapshots (regenerate with `--snapshot-update` after an intended change)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from _fixtures import RECORDS, record
from textual.pilot import Pilot
from textual.widgets import Static

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.data.timeline import Histogram, choose_bucket
from trailtui.pilot import settle
from trailtui.screens.actors import ActorsScreen
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.value import ValueScreen
from trailtui.widgets.event_table import EventTable
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.timeline import Timeline

SIZE = (160, 48)
SnapCompare = Callable[..., bool]


def browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


async def test_actors_screen_from_a_row_sort_and_filter() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        table = screen.query_one("#events", EventTable)
        row = table.row_values(table.cursor_row)
        assert row is not None
        actor = row["actor"]
        await pilot.press("A")
        await settle(pilot)
        actors = app.screen
        assert isinstance(actors, ActorsScreen)
        # The row's actor is selected, its detail pane shows what it did.
        grid = actors.query_one("#actors-table")
        assert actors.rows[grid.cursor_row]["actor"] == actor  # type: ignore[attr-defined]
        detail = str(actors.query_one("#actors-detail").render())
        assert str(actor) in detail and "per day from" in detail
        events = [r["events"] for r in actors.rows]
        assert events == sorted(events, reverse=True)
        assert sum(events) == 3000
        # s: the next sort (last seen), the same actor kept under the cursor
        await pilot.press("s")
        await settle(pilot)
        assert actors.sort == "last_seen"
        seen = [r["last_seen"] for r in actors.rows]
        assert seen == sorted(seen, reverse=True)
        assert actors.rows[grid.cursor_row]["actor"] == actor  # type: ignore[attr-defined]
        expected = next(r["events"] for r in actors.rows if r["actor"] == actor
                        and r["account_id"] == row["account_id"])
        # enter: the table filters to that actor
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert f"actor = {actor}" in screen.filters.labels
        assert table.row_count == expected


async def test_actors_screen_from_a_facet_value_and_escape() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        ips = screen.query_one("#facet-sourceIPAddress", FacetPanel)
        ips.focus()
        ip, n = ips.counts[0]
        await pilot.press("A")
        await settle(pilot)
        actors = app.screen
        assert isinstance(actors, ActorsScreen)
        assert sum(r["events"] for r in actors.rows) == n  # the actors behind that IP
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and not screen.filters
        assert ip is not None


async def test_timeline_follows_filters_zooms_in_and_out() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        line = screen.query_one("#timeline", Timeline)
        hist = line.histogram
        assert hist is not None and sum(hist.counts) == 3000
        assert line.selected == hist.peak
        table = screen.query_one("#events", EventTable)
        # [ and ] move the selected bucket; z zooms into it as a time chip
        await pilot.press("right_square_bracket", "left_square_bracket")
        start, end = hist.bounds(line.selected)
        await pilot.press("z")
        await settle(pilot)
        assert screen.filters.chips[-1].kind == "time"
        assert (screen.filters.chips[-1].start, screen.filters.chips[-1].end) == (start, end)
        zoomed = line.histogram
        assert zoomed is not None and sum(zoomed.counts) == table.row_count
        assert zoomed.bucket < hist.bucket  # finer buckets inside the zoom
        assert sum(zoomed.errors) <= sum(zoomed.counts)
        # Z: back out
        await pilot.press("Z")
        await settle(pilot)
        assert not screen.filters and table.row_count == 3000
        assert line.histogram is not None and sum(line.histogram.counts) == 3000


async def test_coverage_banner_and_detail(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    recs = [*RECORDS, record(99, eventTime="2024-05-09T10:00:00Z",
                                        awsRegion="\x1b[31m[bold]evil[/]")]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        banner = str(screen.query_one("#coverage").render())
        assert banner.startswith(f"coverage: {len(recs)} events")
        assert "1 gap" in banner and "W details" in banner
        await pilot.press("W")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        shown = str(app.screen.query_one("#value-static").render())
        assert "gaps longer than" in shown and "[bold]evil[/]" in shown  # as text, not markup
        assert "\x1b" not in shown


def test_bucket_sizes_fill_the_width() -> None:
    from datetime import timedelta

    assert choose_bucket(timedelta(minutes=30), 100) == timedelta(minutes=1)
    assert choose_bucket(timedelta(days=30), 140) == timedelta(hours=6)
    assert choose_bucket(timedelta(days=3650), 140) == timedelta(days=30)
    h = Histogram(datetime(2024, 1, 1), timedelta(hours=1), (1, 5, 5, 0), (0, 1, 0, 0))
    assert h.peak == 1 and h.bounds(2) == (datetime(2024, 1, 1, 2), datetime(2024, 1, 1, 3))


# -- snapshots -----------------------------------------------------------------------------------


async def _settle(pilot: Pilot[int]) -> None:
    await settle(pilot)


def test_snapshot_main_screen_with_timeline(snap_compare: SnapCompare) -> None:
    app = TrailApp([str(demo_path())], cache=False)
    assert snap_compare(app, terminal_size=(160, 44), run_before=_settle)


def test_snapshot_actors_screen(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        # A selects the actor of the event under the cursor: wait until its row is fetched
        # (the table pages rows in a worker), or A now and then opens with no actor selected.
        events = pilot.app.screen.query_one("#events", EventTable)
        await _until(pilot, lambda: events.row_values(events.cursor_row) is not None)
        events.focus()  # from the table (on a facet panel A takes that panel's value)
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        # The detail pane is a second question, asked once a row is highlighted: wait for it,
        # or the snapshot catches it empty now and then.
        await _until(pilot, lambda: bool(str(
            pilot.app.screen.query_one("#actors-detail", Static).render()).strip()))
        await settle(pilot)

    app = TrailApp([str(demo_path())], cache=False)
    assert snap_compare(app, terminal_size=(160, 44), run_before=run_before)


async def _until(pilot: Pilot[int], condition: Callable[[], bool], limit: float = 10) -> None:
    """Pause until `condition()` holds (work finishing in a thread)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def test_new_and_rare_screen_filters_on_enter() -> None:
    from trailtui.screens.new_values import NewValuesScreen

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        await pilot.press("N")
        await settle(pilot)
        new = app.screen
        assert isinstance(new, NewValuesScreen)
        assert new.values and new.values[0].new
        first_seen = [v.first_seen for v in new.values if v.new and v.first_seen]
        assert first_seen == sorted(first_seen, reverse=True)  # newest first
        await pilot.press("w")  # 7 days: the whole demo is newer than that, all values new
        await settle(pilot)
        assert all(v.new for v in new.values if not v.rare)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        chosen = new.values[0]
        assert screen.filters.chips == tuple(chosen.chips())
        assert screen.query_one("#events", EventTable).row_count == chosen.events


async def test_params_screen_keys_values_and_filter() -> None:
    from trailtui.screens.params import ParamsScreen

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        await pilot.press("P")
        await settle(pilot)
        params = app.screen
        assert isinstance(params, ParamsScreen)
        index = next(i for i, (api, key, _n) in enumerate(params.keys)
                     if (api, key) == ("AssumeRole", "roleArn"))
        params.query_one("#params-table").move_cursor(row=index)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert params.key == ("AssumeRole", "roleArn")
        value, n = params.values[0]
        assert sum(c for v, c in params.values if v is not None) == params.keys[index][2]
        await pilot.press("escape")  # back to the keys
        await settle(pilot)
        assert params.key is None and app.screen is params
        assert params.query_one("#params-table").cursor_row == index
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.filters.labels == ("eventName = AssumeRole",
                                         f"requestParameters.roleArn = {value}")
        assert screen.query_one("#events", EventTable).row_count == n


def test_snapshot_new_and_rare_screen(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)

    app = TrailApp([str(demo_path())], cache=False)
    assert snap_compare(app, terminal_size=(160, 44), run_before=run_before)


def test_snapshot_params_screen(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)

    app = TrailApp([str(demo_path())], cache=False)
    assert snap_compare(app, terminal_size=(160, 44), run_before=run_before)


async def test_sessions_screen_chain_filter_and_issuer(tmp_path: Path) -> None:
    from test_investigate import CHAIN

    from trailtui.screens.sessions import SessionsScreen

    path = tmp_path / "chain.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in CHAIN), encoding="utf-8")
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        await pilot.press("K")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        by_key = {r["access_key"]: i for i, r in enumerate(sessions.rows)}
        assert set(by_key) == {"ASIAHOPA", "ASIAHOPB", "ASIAHOPC", "ASIAORPHAN"}
        table = sessions.query_one("#sessions-table")
        chain = table.get_row_at(by_key["ASIAHOPB"])[0]  # type: ignore[attr-defined]
        assert chain.plain == "alice -> RoleA@111111111111 -> RoleB@222222222222"
        table.move_cursor(row=by_key["ASIAHOPB"])  # type: ignore[attr-defined]
        await pilot.press("i")  # the AssumeRole that issued it
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#events", EventTable).row_count == 1
        assert screen.filters.labels == (f"eventID = {CHAIN[1]['eventID']}",)
        await pilot.press("u", "K")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, SessionsScreen)
        again.query_one("#sessions-table").move_cursor(  # type: ignore[attr-defined]
            row=next(i for i, r in enumerate(again.rows) if r["access_key"] == "ASIAHOPB"))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.filters.labels == ("access_key = ASIAHOPB",)
        assert screen.query_one("#events", EventTable).row_count == 2


def test_snapshot_sessions_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    from test_investigate import CHAIN

    path = tmp_path / "chain.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in CHAIN), encoding="utf-8")

    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)

    app = TrailApp([str(path)], cache=False)
    assert snap_compare(app, terminal_size=(160, 44), run_before=run_before)


async def test_params_screen_shows_hostile_keys_and_values_as_text(tmp_path: Path) -> None:
    from trailtui.screens.params import ParamsScreen

    evil = "[/x]\x1b]52;c;AAAA\x07[bold]"
    recs = [record(1, eventName=f"Put{evil}", requestParameters={evil: evil})]
    path = tmp_path / "evil.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        await pilot.press("P")
        await settle(pilot)
        params = app.screen
        assert isinstance(params, ParamsScreen) and params.keys == [(f"Put{evil}", evil, 1)]
        await pilot.press("enter")
        await settle(pilot)
        assert params.values == [(evil, 1)]
        from trailtui.sanitize import safe_text

        table = params.query_one("#params-table")
        label = next(iter(table.columns.values())).label  # type: ignore[attr-defined]
        assert label.plain == safe_text(f"Put{evil} · requestParameters.{evil}")
        assert "\x1b" not in label.plain and "[/x]" in label.plain  # shown, not parsed
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#events", EventTable).row_count == 1


async def test_sessions_and_new_values_follow_the_filter_chips(tmp_path: Path) -> None:
    """K and N count the events under the chips, say so, and recount when the chips change."""
    from test_investigate import CHAIN

    from trailtui.data.filters import Chip, FilterState
    from trailtui.screens.new_values import NewValuesScreen
    from trailtui.screens.sessions import SessionsScreen

    path = tmp_path / "chain.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in CHAIN), encoding="utf-8")
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        screen.set_filters(FilterState().add(Chip.include("actor", "alice")))
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        # alice's two AssumeRole calls: the credentials they issued, nothing done under it
        assert {r["access_key"] for r in sessions.rows} == {"ASIAHOPA", "ASIAHOPC"}
        assert all(r["events"] == 0 for r in sessions.rows)
        title = str(sessions.query_one("#sessions").border_title)
        assert title.startswith("Sessions under 1 filter · 2 credentials")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        new = app.screen
        assert isinstance(new, NewValuesScreen)
        assert not new.values  # alice's last day holds nothing she had not done before
        await pilot.press("w")  # the last 7 days: all of alice's values are new
        await settle(pilot)
        assert {v.value for v in new.values if v.field == "actor"} == {"alice"}
        assert str(new.query_one("#new-values").border_title).startswith("Under 1 filter")
        await pilot.press("escape")
        await settle(pilot)
        # Another filter: both lists are counted again.
        screen.set_filters(FilterState().add(Chip.include("actor", "RoleB")))
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, SessionsScreen)
        assert [(r["access_key"], r["events"]) for r in again.rows] == [("ASIAHOPB", 2)]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, NewValuesScreen)
        assert {v.value for v in app.screen.values if v.field == "actor"} == {"RoleB"}
        await pilot.press("escape")
        await settle(pilot)
        # No chips: every credential, and the title says nothing about filters.
        screen.set_filters(FilterState())
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)
        every = app.screen
        assert isinstance(every, SessionsScreen)
        assert len(every.rows) == 4
        assert str(every.query_one("#sessions").border_title).startswith("Sessions · 4 ")


async def test_actors_screen_says_it_counts_under_the_filter() -> None:
    from trailtui.data.filters import Chip

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        screen.set_filters(screen.filters.add(Chip.include("eventName", "ListBuckets")))
        await settle(pilot)
        count = screen.query_one("#events", EventTable).row_count
        await pilot.press("A")
        await settle(pilot)
        actors = app.screen
        assert isinstance(actors, ActorsScreen)
        assert sum(r["events"] for r in actors.rows) == count
        assert "under 1 filter" in str(actors.query_one("#actors").border_title)
