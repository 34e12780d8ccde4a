"""`trailtui fetch`: arguments, AWS session and clients, progress, messages, exit codes.

Exit codes: 0 done; 1 a region failed (what was fetched is saved; run again to resume);
2 bad arguments (region, time, --lookup-attribute, --out); 3 boto3 missing; 4 no, invalid or
expired credentials (resumable); 5 access denied (cloudtrail:LookupEvents); 130 interrupted
(resumable).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlparse

from trailtui.data.timerange import iso, parse_duration, parse_time
from trailtui.fetch import engine
from trailtui.fetch.engine import (
    EXIT_CREDENTIALS,
    EXIT_NO_BOTO3,
    EXIT_OK,
    EXIT_USAGE,
    NO_CREDENTIALS,
    Fetcher,
    RegionProgress,
    Request,
    Result,
)
from trailtui.fetch.output import OutputError, OutputFile
from trailtui.fetch.windows import HISTORY_DAYS
from trailtui.sanitize import safe_text  # Textual-free

ATTRIBUTE_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType",
                  "ResourceName", "EventSource", "AccessKeyId")
"""LookupEvents's AttributeKey values (it takes one attribute per request)."""

EPILOG = """\
examples:
  trailtui fetch --region us-east-1 --since 7d --out events.json
  trailtui fetch --all-regions --since 90d --out all.json        (run again: resumes, then tops up)
  trailtui fetch --region eu-west-1 --from 2026-01-01 --to 2026-01-08 --out jan.json --open
  trailtui fetch --region us-east-1 --lookup-attribute EventName=ConsoleLogin --out logins.json

limits (CloudTrail's): 90 days of management events, 50 per page, 2 requests per second per
account and region. Without --since/--from: everything after the newest event of an existing
--out (minus 15 minutes for late events), else the whole 90 days.

exit codes: 0 done; 1 a region failed (the rest is saved; run again to resume); 2 bad
arguments; 3 boto3 missing (pip install 'trailtui[aws]'); 4 no, invalid or expired credentials
(run again to resume); 5 access denied (needs cloudtrail:LookupEvents); 130 interrupted.
A file literally named `fetch` opens with `trailtui ./fetch`."""


class UsageError(Exception):
    """A bad argument: one message, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trailtui fetch",
        description="Fetch CloudTrail Event history (LookupEvents) into a {\"Records\":[...]} "
        "file that trailtui opens; resumable and incremental.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", action="append", metavar="R",
                       help="a region to fetch (repeat for several; default: the profile's)")
    where.add_argument("--all-regions", action="store_true",
                       help="every commercial region (those not enabled are skipped)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--since", metavar="DURATION", help="e.g. 7d, 12h, 30m (at most 90d)")
    when.add_argument("--from", dest="from_", metavar="TIME",
                      help="start, ISO 8601 (2026-01-31, 2026-01-31T12:00Z; UTC if no zone)")
    p.add_argument("--to", metavar="TIME", help="end (default: now)")
    p.add_argument("--lookup-attribute", metavar="NAME=VALUE",
                   help=f"one filter LookupEvents applies: {', '.join(ATTRIBUTE_KEYS)}")
    p.add_argument("--profile", metavar="P", help="the AWS profile to use")
    p.add_argument("--endpoint-url", metavar="URL",
                   help="another endpoint (a VPC endpoint, a test double)")
    p.add_argument("--out", metavar="FILE", required=True,
                   help="the file to write (or resume, or top up)")
    p.add_argument("--open", action="store_true", help="open the file in trailtui when done")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress display (default: a bar on a terminal, lines otherwise)")
    # Requests per second per region: only above CloudTrail's 2 for a local test double.
    p.add_argument("--tps", type=float, default=engine.LIMIT_TPS, help=argparse.SUPPRESS)
    return p


def parse_attribute(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    canonical = {k.lower(): k for k in ATTRIBUTE_KEYS}.get(name.strip().lower())
    if not sep or canonical is None or not value:
        raise UsageError(
            f"--lookup-attribute {text!r}: use NAME=VALUE with NAME one of "
            f"{', '.join(ATTRIBUTE_KEYS)} (e.g. EventName=ConsoleLogin)")
    return canonical, value


def time_range(args: argparse.Namespace, now: int, state: dict[str, Any] | None,
               newest: str) -> tuple[int, int, list[str]]:
    """(start, end, notes) from the arguments, the state and the existing output."""
    notes: list[str] = []
    oldest_allowed = now - HISTORY_DAYS * 86400
    try:
        end = parse_time(args.to) if args.to else now
        if args.since:
            start = end - parse_duration(args.since)
        elif args.from_:
            start = parse_time(args.from_)
        elif state is not None:
            start = int(state.get("from", oldest_allowed))
        elif newest:
            start = parse_time(newest) - engine.LAG
            notes.append(f"{args.out} ends at {newest}: fetching what is newer "
                         "(give --since or --from for more)")
        else:
            start = oldest_allowed
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    end = min(end, now)
    if start < oldest_allowed:
        if args.since or args.from_:
            notes.append(f"Event history keeps {HISTORY_DAYS} days: starting at "
                         f"{iso(oldest_allowed)}")
        start = oldest_allowed
    if start > end:
        raise UsageError(f"the range is empty: {iso(start)} is after {iso(end)}")
    return start, end, notes


def _loopback(url: str | None) -> bool:
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_REGION_SHAPE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def main(argv: Sequence[str] | None = None, *, err: IO[str] | None = None) -> int:
    """`trailtui fetch ...`; returns the exit code."""
    err = err or sys.stderr
    args = build_parser().parse_args(argv)

    def say(text: str) -> None:
        # Paths and AWS error text could hold control characters: never let them act.
        print(f"trailtui fetch: {safe_text(text)}", file=err, flush=True)

    try:
        fetcher = prepare(args, say)
    except KeyboardInterrupt:
        return engine.EXIT_INTERRUPTED
    if isinstance(fetcher, int):
        return fetcher
    mode = args.progress
    if mode == "auto":
        mode = "bar" if _isatty(err) else "lines"
    reporter = make_reporter(mode, err)
    fetcher.on_progress = reporter.update
    with _signals_interrupt(), reporter:
        result = fetcher.run()
    code = summarise(result, args.out, say, all_regions=args.all_regions)
    if args.open and code == EXIT_OK:
        from trailtui.app import TrailApp

        app = TrailApp([args.out])
        app.run()
        return app.return_code or 0
    return code


def prepare(args: argparse.Namespace, say: Callable[[str], None]) -> Fetcher | int:
    """Check the arguments, the output and the credentials; a ready Fetcher or an exit code
    (after one message through `say`). The app's "fetch from AWS" dialog uses it too."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ProfileNotFound
    except ImportError:
        say("needs boto3: pip install 'trailtui[aws]'")
        return EXIT_NO_BOTO3
    output: OutputFile | None = None
    try:
        attribute = parse_attribute(args.lookup_attribute) if args.lookup_attribute else None
        if args.to and not args.from_ and not args.since:
            raise UsageError("--to needs --from or --since")
        if args.tps <= 0 or (args.tps > engine.LIMIT_TPS and not _loopback(args.endpoint_url)):
            raise UsageError(f"--tps above CloudTrail's {engine.LIMIT_TPS:g} is only for a "
                             "local test endpoint")
        try:
            session = boto3.session.Session(profile_name=args.profile)
        except ProfileNotFound:
            say(f"no AWS profile named {args.profile!r} (see `aws configure list-profiles`)")
            return EXIT_CREDENTIALS
        regions = _regions(session, args)
        try:
            if session.get_credentials() is None:
                say(NO_CREDENTIALS)
                return EXIT_CREDENTIALS
        except BotoCoreError as exc:  # a broken credential_process, an SSO cache problem...
            say(f"cannot load the AWS credentials: {exc}")
            return EXIT_CREDENTIALS
        folder = Path(args.out).expanduser().absolute().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write into {folder} (--out): no such folder or no access")
        output = OutputFile(Path(args.out).expanduser())
        state = output.open()
        if state is not None and state.get("lookupAttribute") != engine._attr_json(attribute):
            raise UsageError(
                f"{args.out} was fetched with a different --lookup-attribute "
                f"({state.get('lookupAttribute')}); choose another --out")
        start, end, notes = time_range(args, int(time.time()), state, output.newest)
    except (UsageError, OutputError) as exc:
        if output is not None:
            output.close()
        say(str(exc))
        return EXIT_USAGE
    for note in notes:
        say(note)
    if state is not None:
        say(f"resuming {args.out} ({output.count:,} events so far)")

    config = Config(retries={"total_max_attempts": 1},  # every attempt goes through our limiter
                    connect_timeout=10, read_timeout=60,
                    max_pool_connections=engine.WORKERS_PER_REGION + 2,
                    user_agent_extra="trailtui-fetch")
    client_lock = threading.Lock()  # a boto3 Session is not thread-safe; its clients are

    def client_for(region: str) -> Any:
        with client_lock:
            return session.client("cloudtrail", region_name=region,
                                  endpoint_url=args.endpoint_url, config=config)

    request = Request(regions=regions, start=start, end=end, lookup_attribute=attribute,
                      tps=args.tps)
    say(f"{', '.join(regions)}: {iso(start)} to {iso(end)} into {args.out}")
    return Fetcher(request, output, state, client_for)


def _regions(session: Any, args: argparse.Namespace) -> list[str]:
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("cloudtrail", partition))
    if args.all_regions:
        return sorted(session.get_available_regions("cloudtrail"))
    regions = engine.unique(args.region or ([session.region_name] if session.region_name else []))
    if not regions:
        how = ("type one or more regions, or all" if getattr(args, "dialog", False)
               else "give --region R (repeatable) or --all-regions")
        raise UsageError(f"no region: {how} (no default region is configured)")
    for region in regions:
        if region in known:
            continue
        if args.endpoint_url and _REGION_SHAPE.match(region):
            continue
        near = [k for k in sorted(known) if k.split("-")[0] == region.split("-")[0]]
        raise UsageError(f"unknown region {region!r}" + (
            f"; known: {', '.join(near)}" if near else "; e.g. us-east-1, eu-west-1"))
    return regions


def summarise(result: Result, path: str, say: Any, *, all_regions: bool = False) -> int:
    """One line per region, then each problem once, then what to do next."""
    for region, prog in result.progress.items():
        say(f"{region}: {prog.events:,} new events, {prog.pages:,} pages, "
            f"{prog.rate():.0f} events/s, {prog.throttled} throttled, {prog.status}")
    problems = result.problems
    if all_regions:
        # Opt-in regions that are not enabled answer like a bad key: a note, not a failure.
        skipped = [p for p in problems if p.code == EXIT_CREDENTIALS and not p.fatal]
        if skipped and len(skipped) < len(result.progress):
            say("skipped (not enabled for this account?): "
                + ", ".join(p.region or "?" for p in skipped))
            problems = [p for p in problems if p not in skipped]
            result.problems = problems
    for message in grouped(problems):
        say(message)
    code = result.exit_code
    say(f"{path}: {result.total_events:,} events ({result.new_events:,} new)")
    if code == engine.EXIT_INTERRUPTED:
        say("interrupted; progress is saved: run the same command again to resume")
    elif code not in (EXIT_OK, EXIT_USAGE, engine.EXIT_DENIED) and not any(
            "resume" in p.message for p in problems):
        say("what was fetched is saved: run the same command again to resume")
    return code


def grouped(problems: Sequence[engine.Problem]) -> list[str]:
    """Each message once; the same problem in several regions is one line naming them all
    (a bad key with --all-regions is one message, not thirty)."""
    groups: dict[str, list[str]] = {}
    for p in problems:
        region = p.region or ""
        template = p.message.replace(region, "{region}") if region else p.message
        groups.setdefault(template, [])
        if region and region not in groups[template]:
            groups[template].append(region)
    return [template.replace("{region}", ", ".join(regions)) if regions else template
            for template, regions in groups.items()]


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _signals_interrupt:
    """SIGTERM and SIGHUP (a lost SSH session) stop like Ctrl-C: the last checkpoint is
    written before exiting."""

    def __enter__(self) -> None:
        self._old: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                self._old[sig] = signal.signal(sig, self._raise)

    @staticmethod
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


class Reporter:
    """Plain lines: one per region every 10 s (for logs and pipes)."""

    def __init__(self, err: IO[str], every: float = 10.0) -> None:
        self.err = err
        self.every = every
        self._last = 0.0

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, progress: dict[str, RegionProgress]) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        for prog in progress.values():
            if prog.finished is None:
                print(f"trailtui fetch: {describe(prog, now)}", file=self.err, flush=True)


def describe(prog: RegionProgress, now: float) -> str:
    eta = prog.eta(now)
    eta_text = "" if eta is None else f", ETA {_duration(eta)}"
    return (f"{prog.region}: {prog.fraction:4.0%} {prog.events:,} events, {prog.pages:,} pages, "
            f"{prog.rate(now):.0f}/s{eta_text}")


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class BarReporter(Reporter):
    """A Rich progress bar per region on a terminal (Rich comes with Textual)."""

    def __init__(self, err: IO[str]) -> None:
        super().__init__(err, every=0.25)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}", style="bold"), BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[info]}"),
            console=Console(file=err), transient=False)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> BarReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, progress: dict[str, RegionProgress]) -> None:
        now = time.monotonic()
        if now - self._last < self.every and not all(p.finished for p in progress.values()):
            return
        self._last = now
        for region, prog in progress.items():
            if region not in self._tasks:
                self._tasks[region] = self.progress.add_task(region, total=1000, info="")
            eta = prog.eta(now)
            info = (f"{prog.events:>9,} events {prog.pages:>6,} pages {prog.rate(now):>5.0f}/s"
                    + (f"  {prog.status}" if prog.finished is not None else
                       f"  ETA {_duration(eta)}" if eta is not None else ""))
            self.progress.update(self._tasks[region], completed=int(prog.fraction * 1000),
                                 info=info)


def make_reporter(mode: str, err: IO[str]) -> Reporter:
    if mode == "bar":
        return BarReporter(err)
    if mode == "none":
        return Reporter(err, every=float("inf"))
    return Reporter(err)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
