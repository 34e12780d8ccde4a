"""Command line past one machine: `--athena DATABASE.TABLE` or `--trino URL`.

  --explain   print the SQL each screen action would send (count, facets, first page) for the
              given filters and time range, without calling AWS: for reviews and cost checks;
  --pull      run the filter once, load the matching events into the local store, open them
              (or answer `--sql` over them headless);
  --sql       send the user's Athena/Trino SQL as is and print the result (asks first when it
              would read the whole table).

Imports no Textual and no boto3 until a path needs them (`trailtui --help` stays fast).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Final

from trailtui.data.filters import COLUMNS, Chip, FilterState

if TYPE_CHECKING:  # imported when used: boto3 and the UI stay unloaded for --help
    from trailtui.data.remote import RemoteBackend
    from trailtui.data.trino_sql import TableInfo

DEFAULT_SINCE: Final[str] = "1d"
_DURATION: Final[re.Pattern[str]] = re.compile(r"(\d+)\s*([mhdw])")
_UNITS: Final[dict[str, str]] = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(ValueError):
    """A command-line value that cannot be used; the message says which and why."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of this mode, in their own group of `trailtui --help`."""
    g = p.add_argument_group(
        "past one machine",
        "query a CloudTrail table in Athena or Trino instead of files "
        "(pip install 'trailtui[athena]' or 'trailtui[trino]')",
    )
    g.add_argument("--athena", metavar="DATABASE.TABLE", help="the Athena CloudTrail table")
    g.add_argument("--trino", metavar="URL", help="http(s)://host:port/catalog/schema.table")
    g.add_argument("--workgroup", metavar="W", help="Athena workgroup (default: primary)")
    g.add_argument("--output-location", metavar="S3URL",
                   help="s3://... for query results, when the workgroup sets none")  # fmt: skip
    g.add_argument("--region", metavar="R", help="AWS region of the table")
    g.add_argument("--profile", metavar="P", help="AWS profile")
    # --since/--from/--to are defined once for files and tables: data/timerange.py.
    g.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="a filter chip, COLUMN=VALUE or COLUMN!=VALUE (repeatable); columns: "
                   + ", ".join(COLUMNS))  # fmt: skip
    g.add_argument("--search", metavar="TEXT", help="free-text search chip")
    g.add_argument("--explain", action="store_true",
                   help="print the SQL the screen would send, without calling AWS")  # fmt: skip
    g.add_argument("--partitions", choices=("timestamp", "ymd", "none"), default="timestamp",
                   help="with --explain: the table's partition scheme (the AWS guide's projected "
                   "timestamp, or region/year/month/day); otherwise read from Glue")  # fmt: skip
    g.add_argument("--pull", action="store_true",
                   help="load the filter's events into the local store and open them")  # fmt: skip
    g.add_argument("--pull-limit", type=int, default=200_000, metavar="N",
                   help="events --pull loads at most (default 200000)")  # fmt: skip
    g.add_argument("--yes", action="store_true",
                   help="run --sql even when it reads the whole table (no question)")  # fmt: skip


def wanted(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "athena", None) or getattr(args, "trino", None))


# -- filters from the command line -------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w`, or combined `1d12h`."""
    raw = text.strip().lower()
    parts = _DURATION.findall(raw)
    if not parts or _DURATION.sub("", raw).strip():
        raise UsageError(f"--since takes a duration like 30m, 12h, 7d or 2w, not {text!r}")
    total = timedelta()
    for n, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(n)})
    return total


def parse_moment(text: str, *, end: bool = False) -> datetime:
    """An ISO date or date-time as naive UTC; a bare date as `end` is the next midnight."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise UsageError(f"not a date or time: {text!r} (use 2024-05-01 or 2024-05-01T10:00Z)") \
            from exc  # fmt: skip
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if end and re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", raw):
        value += timedelta(days=1)
    return value


def time_chip(args: argparse.Namespace, now: datetime | None = None) -> Chip:
    """The range from --since or --from/--to (default: the last day)."""
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if args.since and (args.from_ or args.to):
        raise UsageError("give either --since or --from/--to, not both")
    if args.from_ or args.to:
        start = parse_moment(args.from_) if args.from_ else None
        end = parse_moment(args.to, end=True) if args.to else now
        if start is None:
            raise UsageError("--to needs --from (a range with no start reads the whole table)")
        if end <= start:
            raise UsageError("--to must be after --from")
        return Chip.time(start, end)
    return Chip.time(now - parse_duration(args.since or DEFAULT_SINCE), now)


def filters_from(args: argparse.Namespace, now: datetime | None = None) -> FilterState:
    state = FilterState().add(time_chip(args, now))
    for text in args.where:
        m = re.fullmatch(r"\s*(\w+)\s*(!=|=)(.*)", text, re.S)
        if not m or m.group(1) not in COLUMNS:
            raise UsageError(
                f"--where takes COLUMN=VALUE or COLUMN!=VALUE with a column of: "
                f"{', '.join(COLUMNS)} (not {text!r})"
            )
        column, op, value = m.groups()
        try:
            chip = (Chip.include if op == "=" else Chip.exclude)(column, value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"--where {text!r}: {exc}") from exc
        state = state.add(chip)
    if args.search:
        state = state.add(Chip.search(args.search))
    return state


def _table_name(text: str) -> tuple[str, str]:
    from trailtui.data.trino_sql import SqlError, check_ident

    parts = text.split(".")
    if len(parts) != 2:
        raise UsageError(f"--athena takes DATABASE.TABLE, not {text!r}")
    try:
        return check_ident(parts[0]), check_ident(parts[1])
    except SqlError as exc:
        raise UsageError(str(exc)) from exc


# -- modes ----------------------------------------------------------------------------------------


def main(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """0 ok, 1 a query failed or was refused, 2 bad arguments or no connection."""
    from trailtui.data.backend import BackendError, QueryCancelled
    from trailtui.data.trino_sql import SqlError
    from trailtui.sanitize import safe_multiline

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.athena and args.trino:
            raise UsageError("give either --athena or --trino")
        if args.paths:
            raise UsageError("files and --athena/--trino do not mix: pull down, then add files")
        state = filters_from(args)
        if args.explain:
            return explain(args, state, out)
        backend = connect(args, err)
        if args.pull:
            return pull(args, backend, state, out, err)
        if args.sql is not None:
            return console(args, backend, out, err)
        return browse(args, backend, state)
    except (UsageError, SqlError) as exc:
        print(f"trailtui: {safe_multiline(str(exc))}", file=err)
        return 2
    except QueryCancelled as exc:
        print(f"trailtui: {safe_multiline(str(exc))}", file=err)
        return 1
    except BackendError as exc:
        print(f"trailtui: {safe_multiline(str(exc))}", file=err)
        return 1


def explain_table(args: argparse.Namespace) -> TableInfo:
    from trailtui.data.trino_engine import parse_url
    from trailtui.data.trino_sql import guide_table

    if args.trino:
        t = parse_url(args.trino)
        return guide_table(t.schema, t.table, args.partitions, catalog=t.catalog)
    database, table = _table_name(args.athena)
    return guide_table(database, table, args.partitions)


def explain(args: argparse.Namespace, state: FilterState, out: IO[str]) -> int:
    """The statements of count, facets and first page, as the screen would send them."""
    from trailtui.data import views
    from trailtui.data.trino_sql import SqlBuilder
    from trailtui.sanitize import safe_text

    info = explain_table(args)
    builder = SqlBuilder(info)
    out.write(f"-- {info.qualified}: {info.partitions.describe()}\n")
    # One comment line whatever the user typed: a newline in a label would end the comment.
    out.write(f"-- filter: {safe_text('; '.join(state.labels))}\n")
    out.write("-- (without calling AWS; the columns are those of AWS's CloudTrail table)\n")
    for title, sql in builder.explain(state, views.FACET_KEYS):
        out.write(f"\n-- {title}\n{sql};\n")
    return 0


def connect(args: argparse.Namespace, err: IO[str]) -> RemoteBackend:
    from trailtui.data import athena, trino_engine
    from trailtui.data.backend import QueryStatus
    from trailtui.data.remote import RemoteBackend as Remote
    from trailtui.sanitize import safe_text

    engine: athena.Engine
    if args.trino:
        engine, target = trino_engine.connect(args.trino)
        info = engine.describe_table(target.schema, target.table)
    else:
        database, table = _table_name(args.athena)
        engine = athena.connect(region=args.region, profile=args.profile,
                                workgroup=args.workgroup, output_location=args.output_location,
                                database=database)  # fmt: skip
        info = engine.describe_table(database, table)
    backend: Remote | None = None

    def on_status(status: QueryStatus) -> None:
        if status.state in ("succeeded", "failed", "cancelled", "cached") and backend:
            total = backend.session.describe()
            print(f"trailtui: {engine.label} query {safe_text(status.describe())} ({total})",
                  file=err)  # fmt: skip

    backend = Remote(engine, info, on_status)
    print(f"trailtui: {backend.description}: {info.partitions.describe()}", file=err)
    return backend


def pull(
    args: argparse.Namespace,
    backend: RemoteBackend,
    state: FilterState,
    out: IO[str],
    err: IO[str],
) -> int:
    from trailtui.data.remote import default_pull_dir

    result = backend.pull(state, default_pull_dir(), limit=max(1, args.pull_limit))
    more = " (the filter matches more: narrow it or raise --pull-limit)" if result.truncated else ""
    print(f"trailtui: pulled {result.events:,} events into {result.path}{more}", file=err)
    if args.sql is not None:
        from trailtui.cli import headless

        return headless([str(result.path)], args.sql, args.format, cache=False, out=out, err=err)
    from trailtui.app import TrailApp  # the UI only when it is used

    app = TrailApp([str(result.path)], cache=False, local_time=args.local_time)
    app.run()
    return app.return_code or 0


def browse(args: argparse.Namespace, backend: RemoteBackend, state: FilterState) -> int:
    """The facet browser over the remote table (statuses go to the status line)."""
    from trailtui.remote_app import RemoteApp

    backend.on_status = None  # the screen takes them over: nothing may print under the UI
    app = RemoteApp(backend, state, local_time=args.local_time)
    app.run()
    return app.return_code or 0


def console(args: argparse.Namespace, backend: RemoteBackend, out: IO[str], err: IO[str]) -> int:
    from trailtui.cli import write_result
    from trailtui.sanitize import safe_multiline

    result = backend.console(args.sql, confirmed=args.yes)
    if result.warnings and not result.columns and not result.status.query_id:
        warning = safe_multiline(result.warnings[0])
        if not _ask(f"{warning}\nRun it anyway? [y/N] ", err):
            print(f"trailtui: {warning}\ntrailtui: not sent (pass --yes to run it)", file=err)
            return 1
        result = backend.console(args.sql, confirmed=True)
    columns = list(result.columns)
    write_result(out, args.format, columns, ["VARCHAR"] * len(columns),
                 [tuple(r) for r in result.rows])  # fmt: skip
    if result.truncated:
        print(f"trailtui: first {len(result.rows):,} rows shown", file=err)
    return 0


def _ask(question: str, err: IO[str]) -> bool:
    """Ask on the terminal; never when input is not one (scripts get the refusal)."""
    if not sys.stdin.isatty():
        return False
    err.write(question)
    err.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
