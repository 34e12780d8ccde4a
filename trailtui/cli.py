"""Command line: open the app, or answer one SQL query headless and exit.

Headless mode (`--sql`) imports only the data layer, never Textual, so a script or an SSH
one-liner does not pay for the UI.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import json
import os
import sys
import uuid
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any

from trailtui.data import timerange

FORMATS = ("table", "csv", "json", "jsonl")

# C1 controls and bidi/format characters that json.dumps(ensure_ascii=False) leaves raw; a
# terminal would act on them. Escaping keeps the JSON valid and the bytes inert.
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), 0x200B, 0x200C, 0x200D, 0x200E,
                                           0x200F, *range(0x202A, 0x202F), 0x2028, 0x2029,
                                           *range(0x2066, 0x206A), 0xFEFF]}


def demo_path() -> Path:
    """The sample download that ships inside the package (`trailtui --demo`)."""
    return Path(str(resources.files("trailtui") / "samples" / "demo_event_history.json.gz"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trailtui",
        description="Investigate AWS CloudTrail events: console Event history downloads "
        "(.json, .json.gz), S3 trail folders (AWSLogs/...), NDJSON, lookup-events output "
        "and the console CSV.",
        epilog="examples:\n"
        "  trailtui event_history.json\n"
        "  trailtui 'event_history*.json' AWSLogs/\n"
        "  trailtui event_history.json --sql \"SELECT actor, count(*) FROM events "
        "GROUP BY ALL ORDER BY 2 DESC\"\n\n"
        "tables: events, cloudtrail_events, cloudtrail_logs.cloudtrail_partitioned\n\n"
        "trailtui fetch --help: fetch Event history from the CloudTrail API",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files, folders (searched recursively) or glob patterns")
    p.add_argument("--sql", metavar="QUERY",
                   help="run QUERY over the loaded events, print the result and exit")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output of --sql and --findings: table (default), csv, json (one "
                   "array) or jsonl")
    p.add_argument("--coverage", action="store_true",
                   help="print what the loaded data covers (span per file, regions, accounts, "
                   "gaps, download cap...) and exit; --format json for a structure")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the cache of loaded files")
    p.add_argument("--cache-max", metavar="SIZE",
                   help="cap the cache (e.g. 500M, 2G; default 4G or $TRAILTUI_CACHE_MAX); "
                   "least recently used entries are removed first")
    p.add_argument("--cache-info", action="store_true",
                   help="print where the cache is, its size and entries, and exit")
    p.add_argument("--clear-cache", action="store_true",
                   help="remove every cache entry and exit")
    p.add_argument("--demo", action="store_true",
                   help="open the sample download that ships with trailtui")
    p.add_argument("--local-time", action="store_true",
                   help="show times in the local time zone (default: UTC, as CloudTrail)")
    p.add_argument("--report", choices=("markdown", "json"), metavar="FORMAT",
                   help="print the investigation report (markdown or json: filters, bookmarked "
                   "and marked events with notes and original records) of the session saved "
                   "for these files, or of --bookmarks, and exit")
    p.add_argument("--bookmarks", metavar="FILE",
                   help="with --report: the events to report, one eventID per line followed by "
                   "a note (or a JSON list of {\"eventID\", \"note\"})")
    p.add_argument("--resume", action="store_true",
                   help="restore the filters, columns, marks and bookmarks saved for these files")
    p.add_argument("--time-zone", metavar="ZONE",
                   help="show and read times in ZONE (UTC, local, Europe/Paris...; default UTC)")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    from trailtui import remote_cli  # Athena/Trino options (no boto3 or Textual imported)
    from trailtui.findings_cli import add_arguments

    timerange.add_arguments(p)  # --since/--from/--until/--to: for files and for Athena/Trino
    remote_cli.add_arguments(p)
    add_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `trailtui ... --sql ... | head`: the reader left; stop quietly
        with contextlib.suppress(OSError, ValueError):  # no more writes reach the closed pipe
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as a command killed by SIGPIPE (what `set -o pipefail` expects)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fetch"]:  # the sub-command; a file named `fetch` opens as `./fetch`
        from trailtui.fetch.cli import main as fetch_main

        return fetch_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from trailtui import __version__

        print(f"trailtui {__version__}")
        return 0
    if args.cache_max is not None or args.cache_info or args.clear_cache:
        from trailtui.data.cache_cli import cache_command

        code = cache_command(args.cache_max, args.cache_info, args.clear_cache)
        if code is not None:
            return code
    if remote_cli_wanted(args):
        from trailtui import remote_cli

        return remote_cli.main(args)  # reads the same --since/--from/--to its own way
    try:
        time_range = timerange.from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    paths: list[str] = list(args.paths)
    if args.demo:
        paths.append(str(demo_path()))
    if args.coverage:
        from trailtui.data.coverage import headless_coverage

        return headless_coverage(paths, args.format, cache=not args.no_cache,
                                 time_range=time_range)
    if args.sql is not None:
        return headless(paths, args.sql, args.format, cache=not args.no_cache,
                        time_range=time_range)
    if args.findings:
        from trailtui.findings_cli import headless_findings

        return headless_findings(paths, args.format, rules=args.rules,
                                 pack=not args.no_rule_pack, exclusions=args.exclusions,
                                 cache=not args.no_cache, time_range=time_range)
    if args.report is not None or args.bookmarks is not None:
        from trailtui.data.report import headless_report

        return headless_report(paths, args.report or "markdown", bookmarks=args.bookmarks,
                               cache=not args.no_cache, time_range=time_range)
    from trailtui.app import TrailApp  # the UI is imported only when it is used
    from trailtui.screens.findings import FindingsOptions

    zone = None
    if args.time_zone:
        from trailtui.data.tz import TimeZone

        try:
            zone = TimeZone.named(args.time_zone)
        except ValueError as exc:
            print(f"trailtui: {exc}", file=sys.stderr)
            return 2
    app = TrailApp(paths, cache=not args.no_cache, local_time=args.local_time,
                   findings=FindingsOptions(tuple(args.rules), not args.no_rule_pack,
                                            args.exclusions),
                   time_range=time_range, time_zone=zone, resume=args.resume)
    app.run()
    return app.return_code or 0


def remote_cli_wanted(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "athena", None) or getattr(args, "trino", None))


def headless(paths: Sequence[str], sql: str, fmt: str, *, cache: bool = True,
             out: IO[str] | None = None, err: IO[str] | None = None,
             time_range: timerange.TimeRange | None = None) -> int:
    """Load, run one query, print it whole. 0 ok, 1 query failed, 2 nothing could be loaded."""
    from trailtui.data.service import DataError, JobCancelled, finish_headless, load_headless
    from trailtui.sanitize import safe_multiline  # Textual-free

    out = out or sys.stdout
    err = err or sys.stderr
    loaded = load_headless(paths, flag="--sql", cache=cache, time_range=time_range, err=err)
    if isinstance(loaded, int):
        return loaded
    answered = False
    try:
        try:
            # TIMESTAMPTZ values come back in UTC (the session's zone); `plain` prints them
            # like eventTime, with a Z.
            columns, types, rows = loaded.headless_query(sql)
        except (DataError, JobCancelled) as exc:
            print(f"trailtui: query failed: {safe_multiline(str(exc))}", file=err)
            return 1
        write_result(out, fmt, columns, types, rows)
        out.flush()
        answered = True
    finally:
        finish_headless(loaded, err, save=answered)
    return 0


def plain(value: Any) -> Any:
    """A DuckDB value as JSON data: timestamps in CloudTrail's own UTC format."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S") + (
            f".{value.microsecond:06d}" if value.microsecond else "") + "Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _json_value(value: Any, type_name: str) -> Any:
    if type_name == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return plain(value)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False).translate(_JSON_UNSAFE)


def text_cell(value: Any) -> str:
    """One value as text for table and CSV output, nothing cut."""
    if value is None:
        return ""
    value = plain(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_result(out: IO[str], fmt: str, columns: list[str], types: list[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    if fmt == "json":
        out.write("[")
        for i, row in enumerate(rows):
            obj = {c: _json_value(v, t) for c, t, v in zip(columns, types, row, strict=True)}
            out.write(("," if i else "") + "\n" + _dumps(obj))
        out.write("\n]\n" if rows else "]\n")
    elif fmt == "jsonl":
        for row in rows:
            obj = {c: _json_value(v, t) for c, t, v in zip(columns, types, row, strict=True)}
            out.write(_dumps(obj) + "\n")
    elif fmt == "csv":
        # Values stay exact in a file or pipe; on a terminal they are made safe to show.
        cell = text_cell
        if _isatty(out):
            from trailtui.sanitize import safe_multiline

            def cell(value: Any) -> str:
                return safe_multiline(text_cell(value))

        from trailtui.data.safe_csv import writer  # one rule for every CSV (issue 8)

        w = writer(out)
        w.writerow([cell(c) for c in columns])
        for row in rows:
            w.writerow([cell(v) for v in row], row)
    else:
        _write_table(out, columns, [[text_cell(v) for v in row] for row in rows])


def _isatty(out: IO[str]) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def _write_table(out: IO[str], columns: list[str], rows: list[list[str]]) -> None:
    """An aligned text table with every value whole (no "40 shown", no cut cells).

    Control characters are made visible: a terminal must never act on CloudTrail text.
    """
    from rich.cells import cell_len  # trailtui.sanitize needs rich too

    from trailtui.sanitize import safe_text  # Textual-free, like this module

    head = [safe_text(c) for c in columns]
    body = [[safe_text(v) for v in row] for row in rows]
    widths = [cell_len(h) for h in head]
    for row in body:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], cell_len(v))

    def line(cells: list[str]) -> str:
        return " │ ".join(c + " " * (w - cell_len(c)) for c, w in zip(cells, widths, strict=True))

    out.write(line(head).rstrip() + "\n")
    out.write("─┼─".join("─" * w for w in widths) + "\n")
    for row in body:
        out.write(line(row).rstrip() + "\n")
    n = len(rows)
    out.write(f"({n:,} row{'s' if n != 1 else ''})\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
