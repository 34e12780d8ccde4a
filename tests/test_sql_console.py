"""The SQL console in a tiny host app: run, history, errors shown literally, cancel, results that
open events or filter, completion, the library screen and the command palette entries."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import CommandList
from textual.message import Message
from textual.widgets import Input, OptionList

from trailtui.commands import ConsoleCommands, history_commands, library_commands
from trailtui.data.export import ExportFormat
from trailtui.data.history import History, HistoryEntry
from trailtui.data.queries import BUILTIN_QUERIES, get_query
from trailtui.data.service import DataService
from trailtui.data.store import EventStore
from trailtui.screens.library import QueryLibraryScreen
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.sql_editor import match_completions
from trailtui.widgets.virtual_table import VirtualTable
from trailtui.workers.console import ConsoleWorker

EVENTS = [
    {
        "eventVersion": "1.08",
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "eventID": "id-1",
        "readOnly": False,
        "userIdentity": {
            "type": "IAMUser",
            "userName": "alice",
            "arn": "arn:aws:iam::111122223333:user/alice",
        },
        "responseElements": {"ConsoleLogin": "Success"},
    },
    {
        "eventVersion": "1.08",
        "eventTime": "2024-05-01T10:05:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "eventID": "id-2",
        "readOnly": False,
        "userAgent": "[bold]evil[/] \u001b]52;c;aGVsbG8=\u0007",
        "userIdentity": {
            "type": "IAMUser",
            "userName": "alice",
            "arn": "arn:aws:iam::111122223333:user/alice",
        },
    },
    {
        "eventVersion": "1.08",
        "eventTime": "2024-05-01T11:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.9",
        "eventID": "id-3",
        "readOnly": True,
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/R/s",
            "sessionContext": {"sessionIssuer": {"userName": "R"}},
        },
    },
]

LONG_QUERY = "SELECT sum(hash(range)) FROM range(10000000000)"  # ~30 s; count(*) alone is ~2 s


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EventStore]:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"Records": EVENTS}))
    s = EventStore(cache=False)
    s.load([str(path)])
    assert s.event_count() == 3
    yield s
    s.close()


class Host(App[None]):
    """Mounts one console, records what it posts, and (with a store) wires a runner the way
    the browser screen does."""

    def __init__(self, store: EventStore | None = None, history: History | None = None) -> None:
        super().__init__()
        self.store = store
        self.history = history
        self.posted: list[Message] = []
        self.runner: ConsoleWorker | None = None
        self.actions: list[tuple[str, tuple[Any, ...]]] = []

    def compose(self) -> ComposeResult:
        yield SqlConsole(id="console")

    @property
    def sql(self) -> SqlConsole:
        return self.query_one(SqlConsole)

    def on_mount(self) -> None:
        if self.store is not None:
            data = DataService(self.store)
            self.runner = ConsoleWorker(self.screen, data, self.sql, self.history)
            self.runner.refresh_completions()
        self.sql.focus_editor()

    def on_unmount(self) -> None:
        if self.runner is not None:
            self.runner.close()  # interrupts a running query: the store can then close

    def on_sql_console_run_requested(self, message: SqlConsole.RunRequested) -> None:
        self.posted.append(message)
        if self.runner is not None:
            self.runner.run(message.sql, message.params)

    def on_sql_console_cancel_requested(self, message: SqlConsole.CancelRequested) -> None:
        self.posted.append(message)
        if self.runner is not None:
            self.runner.cancel()

    def on_sql_console_open_event(self, message: SqlConsole.OpenEvent) -> None:
        self.posted.append(message)

    def on_sql_console_filter_to(self, message: SqlConsole.FilterTo) -> None:
        self.posted.append(message)

    def on_virtual_table_row_activated(self, message: VirtualTable.RowActivated) -> None:
        self.posted.append(message)  # must not happen for the console's own table

    # The screen actions the command palette calls.
    def action_run_library_query(self, query_id: str = "") -> None:
        self.actions.append(("run_library_query", (query_id,)))

    def action_run_console_query(self, sql: str, params: dict[str, object] | None = None) -> None:
        self.actions.append(("run_console_query", (sql, params)))

    def action_export(self, what: str = "result") -> None:
        self.actions.append(("export", (what,)))

    def action_copy_filter_sql(self, dialect: str) -> None:
        self.actions.append(("copy_filter_sql", (dialect,)))

    def of(self, kind: type[Message]) -> list[Any]:
        return [m for m in self.posted if isinstance(m, kind)]


async def type_text(pilot: Any, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def wait_until(pilot: Any, condition: Any, limit: float = 5.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    return time.monotonic() - start


# -- editor: run, history, error, cancel ---------------------------------------------------------


async def test_ctrl_r_and_f5_post_the_editor_text_and_keep_focus() -> None:
    app = Host()
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query(
            "SELECT *\nFROM events WHERE sourceIPAddress = $ip", {"ip": "10.0.0.1", "gone": "x"}
        )
        await pilot.press("ctrl+r")
        await pilot.pause()
        (first,) = app.of(SqlConsole.RunRequested)
        assert first.sql == "SELECT *\nFROM events WHERE sourceIPAddress = $ip"
        assert first.params == {"ip": "10.0.0.1"}  # only values the text still uses
        assert app.focused is console.editor
        await pilot.press("f5")
        await pilot.pause()
        assert len(app.of(SqlConsole.RunRequested)) == 2
        assert app.focused is console.editor


async def test_empty_editor_does_not_run() -> None:
    app = Host()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.of(SqlConsole.RunRequested) == []
        assert "nothing to run" in app.sql.status_text


async def test_up_on_first_line_recalls_history_and_down_returns() -> None:
    app = Host()
    async with app.run_test() as pilot:
        console = app.sql
        console.history = [
            HistoryEntry("SELECT 1"),
            HistoryEntry("SELECT $ip AS ip\nFROM events", {"ip": "1.2.3.4"}),
        ]
        await type_text(pilot, "SELECT 3")
        await pilot.press("up")
        assert console.sql == "SELECT $ip AS ip\nFROM events"
        assert console.params == {"ip": "1.2.3.4"}
        assert console.editor.cursor_location == (0, 0)
        await pilot.press("up")
        assert console.sql == "SELECT 1"
        await pilot.press("up")  # oldest: stays
        assert console.sql == "SELECT 1"
        await pilot.press("down")
        assert console.sql == "SELECT $ip AS ip\nFROM events"
        assert console.editor.cursor_location[0] == 1  # at the end: down walks on
        await pilot.press("down")
        assert console.sql == "SELECT 3"  # back to what was being typed
        assert console.params == {}
        await pilot.press("down")
        assert console.sql == "SELECT 3"


async def test_up_inside_a_multi_line_query_moves_the_cursor() -> None:
    app = Host()
    async with app.run_test() as pilot:
        console = app.sql
        console.history = [HistoryEntry("SELECT 1")]
        console.set_query("SELECT a\nFROM b")
        await pilot.press("up")  # from line 2 to line 1: plain cursor movement
        assert console.sql == "SELECT a\nFROM b"
        assert console.editor.cursor_location[0] == 0
        await pilot.press("up")  # now on the first line: history
        assert console.sql == "SELECT 1"


async def test_errors_are_shown_literally() -> None:
    app = Host()
    async with app.run_test() as pilot:
        console = app.sql
        message = 'Binder Error: column "[bold]x[/]" not found \x1b]52;c;aGk=\x07 [link=x]y'
        console.show_error(message)
        await pilot.pause()
        text = console.status_text
        assert "[bold]x[/]" in text and "[link=x]y" in text
        assert "\x1b" not in text and "\x07" not in text and "␛" in text
        assert console.status.has_class("-error")


class EscapeHost(Host):
    """A host whose own `escape` binding stands for the browser screen's."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "host_escape", "Back")]

    def action_host_escape(self) -> None:
        self.actions.append(("host_escape", ()))


async def test_escape_cancels_only_while_running() -> None:
    app = EscapeHost()
    async with app.run_test() as pilot:
        console = app.sql
        await pilot.press("escape")
        await pilot.pause()
        assert app.of(SqlConsole.CancelRequested) == []
        assert app.actions == [("host_escape", ())]  # idle: escape is the screen's
        console.show_running()
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.of(SqlConsole.CancelRequested)) == 1
        assert app.actions == [("host_escape", ())]
        assert app.focused is console.editor


# -- with a store: the runner ---------------------------------------------------------------------


async def test_run_shows_rows_and_time_and_enter_filters(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test(size=(120, 40)) as pilot:
        console = app.sql
        console.set_query("SELECT eventName, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not console.running and console.result is not None)
        assert console.status_text.startswith("3 rows in ")
        assert "enter filters" in console.status_text
        assert console.results.row_count == 3
        assert app.focused is console.editor
        await pilot.press("tab")
        assert app.focused is console.results  # type: ignore[comparison-overlap]
        await pilot.press("down", "enter")
        await pilot.pause()
        (message,) = app.of(SqlConsole.FilterTo)
        assert (message.column, message.value, message.field) == (
            "eventName",
            "CreateUser",
            "eventName",
        )
        assert app.of(VirtualTable.RowActivated) == []


async def test_enter_on_an_event_row_opens_it(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test(size=(120, 40)) as pilot:
        console = app.sql
        console.set_query(
            "SELECT eventID, _file_id, _line, userAgent FROM events ORDER BY eventTime"
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        await pilot.press("tab", "down", "enter")
        await pilot.pause()
        (message,) = app.of(SqlConsole.OpenEvent)
        expected = (
            store.cursor()
            .execute("SELECT _file_id, _line FROM events WHERE eventID = 'id-2'")
            .fetchall()[0]
        )
        assert (message.file_id, message.line) == expected
        assert message.event_id == "id-2"
        # The hostile user agent went to the screen as safe text only.
        screen_text = "".join(str(console.results.render_line(y).text) for y in range(4))
        assert "\x1b" not in screen_text and "[bold]evil[/]" in screen_text
        console.set_query("SELECT eventid FROM cloudtrail_logs.cloudtrail_partitioned")
        await pilot.press("shift+tab", "ctrl+r")
        await wait_until(
            pilot, lambda: console.result is not None and console.result.columns == ("eventid",)
        )
        await pilot.press("tab", "enter")
        await pilot.pause()
        last = app.of(SqlConsole.OpenEvent)[-1]
        assert last.file_id is None and last.event_id == "id-1"
        assert last.row == {"eventid": "id-1"}


async def test_a_duckdb_error_is_shown_beside_the_query(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query('SELECT "[bold]nope[/]" FROM events')
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not console.running and console.status.has_class("-error"))
        assert 'Referenced column "[bold]nope[/]" not found' in console.status_text
        console.set_query("SELECT 1 AS fine")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        assert not console.status.has_class("-error")
        assert console.status_text.startswith("1 row in ")


async def test_statements_report_ok(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query("CREATE TEMP TABLE scratch AS SELECT 1 AS a")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not console.running and "OK" in console.status_text)
        # The console keeps its session: the temporary table is still there.
        console.set_query("SELECT * FROM scratch")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        assert console.status_text.startswith("1 row in ")
        # A new table is offered by the completion popup once created.
        console.set_query("CREATE TABLE my_notes AS SELECT 1 AS note_id")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "note_id" in console.completions)
        assert "my_notes" in console.completions
        assert app.runner is not None
        app.runner.close()
    assert store.cursor().execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'sql_result_%'"
    ).fetchall() == [(0,)]


async def test_escape_cancels_a_running_query(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query(LONG_QUERY)
        # While DuckDB keeps the CPUs busy, Pilot's "wait until idle" makes each key press
        # take up to a second: that is the test harness, not the UI.
        await pilot.press("ctrl+r")
        await asyncio.sleep(0.2)
        assert console.running, console.status_text
        assert app.runner is not None and not app.runner.run("SELECT 1")  # no overlap
        await pilot.press("escape")
        await wait_until(pilot, lambda: not console.running, limit=30)
        assert console.status_text.startswith("cancelled")
        assert console.status.has_class("-cancelled")
        console.set_query("SELECT 42 AS answer")  # the console works again
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)


async def test_store_interrupt_all_cancels_too(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query(LONG_QUERY)
        await pilot.press("ctrl+r")
        await asyncio.sleep(0.2)
        assert console.running
        store.interrupt_all()
        await wait_until(pilot, lambda: not console.running, limit=30)
        assert console.status_text.startswith("cancelled")


async def test_history_across_a_restart(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    app = Host(store, History(path))
    async with app.run_test() as pilot:
        console = app.sql
        console.set_query(
            "SELECT eventName FROM events WHERE sourceIPAddress = $ip", {"ip": "198.51.100.7"}
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        assert console.result is not None and console.result.row_count == 2
    restarted = Host(store, History(path))
    async with restarted.run_test() as pilot:
        console = restarted.sql
        assert console.sql == ""
        await pilot.press("up")
        assert console.sql == "SELECT eventName FROM events WHERE sourceIPAddress = $ip"
        assert console.params == {"ip": "198.51.100.7"}
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        assert console.result is not None and console.result.row_count == 2


async def test_runner_exports_the_result_and_the_events(store: EventStore, tmp_path: Path) -> None:
    app = Host(store)
    done: list[tuple[Any, Any]] = []
    async with app.run_test() as pilot:
        console = app.sql
        runner = app.runner
        assert runner is not None
        assert not runner.export(str(tmp_path / "none.csv"), ExportFormat.CSV)  # no result yet
        console.set_query("SELECT eventID, sourceIPAddress FROM events ORDER BY eventID")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.result is not None)
        assert runner.export(
            str(tmp_path / "r.csv"), ExportFormat.CSV, on_done=lambda o, e: done.append((o, e))
        )
        runner.export_events(
            str(tmp_path / "e.json"),
            ExportFormat.RECORDS,
            where="sourceIPAddress = ?",
            params=["198.51.100.7"],
            on_done=lambda o, e: done.append((o, e)),
        )
        runner.export_events(
            str(tmp_path / "missing" / "x.json"),
            ExportFormat.RECORDS,
            on_done=lambda o, e: done.append((o, e)),
        )
        await wait_until(pilot, lambda: len(done) == 3)
    outcomes = {str(o.path.name) if o else "error": (o, e) for o, e in done}
    assert outcomes["r.csv"][0].rows == 3
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "eventID,sourceIPAddress"
    assert outcomes["e.json"][0].rows == 2
    assert len(json.loads((tmp_path / "e.json").read_text())["Records"]) == 2
    assert "does not exist" in outcomes["error"][1]


# -- completion ------------------------------------------------------------------------------------


def test_match_completions() -> None:
    names = [
        "userIdentity",
        "userIdentity.arn",
        "userIdentity.sessionContext",
        "userIdentity.sessionContext.sessionIssuer.userName",
        "events",
        "eventName",
    ]
    assert [s for s, _ in match_completions(names, "userIdentity.")] == [
        "userIdentity.arn",
        "userIdentity.sessionContext",
        "userIdentity.sessionContext.sessionIssuer.userName",
    ]
    assert match_completions(names, "EVE") == [("eventName", "eventName"), ("events", "events")]
    assert match_completions(names, "e.userIdentity.a") == [
        ("userIdentity.arn", "e.userIdentity.arn")
    ]
    assert match_completions(names, "zzz") == []
    both = ["userIdentity.arn", "useridentity.arn", "useridentity.type"]
    assert [s for s, _ in match_completions(both, "userI")] == [
        "userIdentity.arn",
        "useridentity.type",
    ]
    assert [s for s, _ in match_completions(both, "useri")] == [
        "useridentity.arn",
        "useridentity.type",
    ]


async def test_recalled_and_pasted_text_cannot_drive_the_terminal() -> None:
    app = Host()
    async with app.run_test() as pilot:
        console = app.sql
        console.history = [HistoryEntry("SELECT '\x1b]52;c;aGk=\x07'\tAS x\nFROM t")]
        await pilot.press("up")
        assert console.sql == "SELECT '␛]52;c;aGk=␇'\tAS x\nFROM t"
        console.set_query("")
        app.post_message(events.Paste("SELECT '\x9b31m'"))  # as the terminal driver does
        await pilot.pause()
        assert console.sql == "SELECT '\\x9b31m'"


async def test_completion_popup_inserts_struct_fields(store: EventStore) -> None:
    app = Host(store)
    async with app.run_test(size=(120, 40)) as pilot:
        console = app.sql
        await wait_until(pilot, lambda: bool(console.completions))
        assert "userIdentity.sessionContext.sessionIssuer.userName" in console.completions
        console.set_query("SELECT userIdentity")
        await pilot.press(".")  # typing a dot after a name opens the popup
        await pilot.pause()
        assert console.completion_open
        await type_text(pilot, "sessionContext.sessionIssuer.u")
        await pilot.pause()
        assert console.completion_open  # refiltered while typing
        await pilot.press("enter")
        await pilot.pause()
        assert console.sql == "SELECT userIdentity.sessionContext.sessionIssuer.userName"
        assert not console.completion_open
        console.set_query(console.sql + " FROM cloudtrail_l")
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert console.completion_open
        await pilot.press("down", "tab")
        await pilot.pause()
        assert console.sql.endswith("FROM cloudtrail_logs.cloudtrail_partitioned")
        assert app.focused is console.editor
        console.set_query("SELECT e.userIdentity.ar")
        await pilot.press("ctrl+space")
        await pilot.pause()
        await pilot.press("enter")
        assert console.sql == "SELECT e.userIdentity.arn"
        await pilot.press("ctrl+space")  # nothing left to complete: no popup
        await pilot.pause()
        assert not console.completion_open
        console.set_query("SELECT eventN")
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert console.completion_open
        await pilot.press("escape")
        await pilot.pause()
        assert not console.completion_open
        assert app.of(SqlConsole.CancelRequested) == []
        assert app.focused is console.editor


# -- the library screen ----------------------------------------------------------------------------


async def test_library_screen_asks_for_values_and_binds_them() -> None:
    app = Host()
    chosen: list[Any] = []
    async with app.run_test(size=(140, 45)) as pilot:
        app.push_screen(
            QueryLibraryScreen(BUILTIN_QUERIES, initial="athena.source_ip"), chosen.append
        )
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueryLibraryScreen)
        assert isinstance(app.focused, Input)
        await pilot.press("enter", "enter", "enter")  # empty IP: refused
        await pilot.pause()
        assert chosen == []
        assert "a value is required" in str(screen.query_one("#library-error").render())
        await type_text(pilot, "10.0.0.1' OR 1=1 --")
        await pilot.press("tab")
        await type_text(pilot, "2024-05-01")
        await pilot.press("ctrl+r")
        await pilot.pause()
    ((sql, params),) = chosen
    assert sql == get_query("athena.source_ip").editor_text
    assert "10.0.0.1" not in sql
    assert params == {"ip": "10.0.0.1' OR 1=1 --", "start": "2024-05-01 00:00:00", "end": None}


async def test_library_screen_runs_a_query_without_values() -> None:
    app = Host()
    chosen: list[Any] = []
    async with app.run_test(size=(140, 45)) as pilot:
        app.push_screen(QueryLibraryScreen(BUILTIN_QUERIES), chosen.append)
        await pilot.pause()
        option_list = app.screen.query_one("#library-list", OptionList)
        assert app.focused is option_list
        await pilot.press("down", "enter")  # second entry: "Events by eventName"
        await pilot.pause()
        assert app.focused is not option_list  # it has a time range: the form opens
        await pilot.press("ctrl+r")
        await pilot.pause()
        app.push_screen(QueryLibraryScreen(BUILTIN_QUERIES), chosen.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert chosen[0][0] == get_query("duckdb.by_event_name").editor_text
    assert chosen[0][1] == {"start": None, "end": None}
    assert chosen[1] is None


# -- the command palette --------------------------------------------------------------------------


async def test_command_palette_entries_call_screen_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRAILTUI_CONFIG_DIR", str(tmp_path / "config"))
    History().add("SELECT '[bold]x[/]' AS y -- from history", {"ip": "1.1.1.1"})
    app = Host()
    async with app.run_test() as pilot:
        provider = ConsoleCommands(app.screen)
        provider._post_init()

        async def hits(query: str) -> list[Any]:
            return [hit async for hit in provider._search(query)]

        discovered = await hits("")
        texts = [h.text for h in discovered]
        assert "Query library…" in texts and "Copy filter as Athena SQL" in texts
        assert not any(t.startswith("History:") for t in texts)
        for query, action in [
            ("athena sql", ("copy_filter_sql", ("athena",))),
            ("export filtered", ("export", ("events",))),
            ("console sign", ("run_library_query", ("athena.console_logins",))),
            (
                "from history",
                (
                    "run_console_query",
                    ("SELECT '[bold]x[/]' AS y -- from history", {"ip": "1.1.1.1"}),
                ),
            ),
        ]:
            found = await hits(query)
            assert found, query
            best = max(found, key=lambda h: h.score)
            best.command()
            await pilot.pause()
            assert app.actions[-1] == action, query
        history_hit = (await hits("from history"))[0]
        assert "[bold]x[/]" in str(history_hit.text)  # shown literally
        await asyncio.sleep(0)


def test_palette_entries_are_plain_text() -> None:
    entries = [
        HistoryEntry("SELECT 1"),
        HistoryEntry("SELECT \x1b[31mred"),
        HistoryEntry("SELECT 1"),
    ]
    commands = history_commands(entries)
    assert [c.text for c in commands] == ["History: SELECT 1", "History: SELECT ␛[31mred"]
    library = library_commands(BUILTIN_QUERIES)
    assert len(library) == len(BUILTIN_QUERIES)
    assert all(c.action == "run_library_query" for c in library)


class PaletteHost(Host):
    COMMANDS = App.COMMANDS | {ConsoleCommands}


async def test_ctrl_p_finds_a_library_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRAILTUI_CONFIG_DIR", str(tmp_path / "config"))
    app = PaletteHost()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "root account")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.actions))
    assert app.actions[0] == ("run_library_query", ("athena.root_activity",))
