"""Headless findings: `trailtui FILES --findings [--format ...] [--rules DIR] [--exclusions F]`.

One output row per (finding, event), most severe first. Like `--sql`, it never imports the UI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from trailtui.data.timerange import TimeRange

FINDING_COLUMNS: tuple[str, ...] = (
    "rule_id", "title", "level", "outcome", "tags", "eventID", "eventName", "eventTime",
    "eventSource", "actor", "sourceIPAddress", "errorCode", "account_id", "awsRegion",
    "source_file",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The findings options of the command line (kept here so cli.py stays small)."""
    p.add_argument("--findings", action="store_true",
                   help="run the detection rules, print one row per (finding, event) and exit")
    p.add_argument("--rules", metavar="DIR", action="append", default=[],
                   help="also load the Sigma rules (.yml) in DIR or FILE (repeatable)")
    p.add_argument("--no-rule-pack", action="store_true",
                   help="do not load trailtui's own rule pack (only --rules)")
    p.add_argument("--exclusions", metavar="FILE",
                   help="exclusions per rule (actor, role, ip, account), YAML or TOML")


def headless_findings(paths: Sequence[str], fmt: str, *, rules: Sequence[str] = (),
                      pack: bool = True, exclusions: str | None = None, cache: bool = True,
                      out: IO[str] | None = None, err: IO[str] | None = None,
                      time_range: TimeRange | None = None) -> int:
    """Load, run the rules, print. 0 ok, 1 bad rules/exclusions file, 2 nothing loaded."""
    from trailtui.cli import write_result
    from trailtui.data.findings import (
        ExclusionError,
        load_exclusions,
        load_rules,
    )
    from trailtui.data.service import finish_headless, load_headless
    from trailtui.sanitize import safe_text

    out = out or sys.stdout
    err = err or sys.stderr
    if not paths:  # before reading rules: the same message as --sql
        print("trailtui: --findings needs at least one PATH to load", file=err)
        return 2
    try:
        excl = load_exclusions(exclusions) if exclusions else []
    except ExclusionError as exc:
        print(f"trailtui: {safe_text(str(exc))}", file=err)
        return 1
    rs = load_rules(rules, pack=pack)
    for prob in rs.problems:
        name = f" ({prob.title})" if prob.title else ""
        print(f"trailtui: rule not used: {safe_text(prob.source)}{safe_text(name)}: "
              f"{safe_text(prob.reason)}", file=err)
    if not len(rs):
        print("trailtui: no detection rules to run", file=err)
        return 1
    loaded = load_headless(paths, flag="--findings", cache=cache, time_range=time_range,
                           err=err)
    if isinstance(loaded, int):
        return loaded
    try:
        run, types, rows = loaded.finding_rows(rs, excl, FINDING_COLUMNS)
        for prob in run.problems:
            print(f"trailtui: rule not used: {safe_text(prob.source)} ({safe_text(prob.title)})"
                  f": {safe_text(prob.reason)}", file=err)
        write_result(out, fmt, list(FINDING_COLUMNS), types, rows)
        out.flush()
    finally:
        finish_headless(loaded, err)
    return 0
