"""Findings in the app: computed in a thread worker after each load, never blocking the table.

The browser screen calls `start_findings` when a load finishes; the worker posts
`FindingsReady` (the panel's rows, and rule problems to show once) or `WorkFailed`. Kept out of
browser.py so that screen only wires the panel and the chip.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from textual.message import Message
from textual.screen import Screen

from trailtui.data.findings import (
    ExclusionError,
    FindingSummary,
    load_exclusions,
    load_rules,
    run_findings,
    summarize,
)
from trailtui.data.store import EventStore
from trailtui.messages import WorkFailed


@dataclass(frozen=True)
class FindingsOptions:
    """`--rules DIR` (repeatable), `--no-rule-pack`, `--exclusions FILE`."""

    rules: tuple[str, ...] = ()
    pack: bool = True
    exclusions: str | None = None


@dataclass
class FindingsReady(Message):
    """Findings of everything loaded so far, summarised per rule."""

    summaries: list[FindingSummary]
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def start_findings(screen: Screen[None], store: EventStore, options: FindingsOptions) -> None:
    """Run the rules in a thread worker (exclusive: a newer load supersedes an older run)."""

    def work() -> None:
        problems: list[str] = []
        try:
            excl = load_exclusions(options.exclusions) if options.exclusions else []
        except ExclusionError as exc:
            problems.append(str(exc))
            excl = []
        rs = load_rules([Path(p) for p in options.rules], pack=options.pack)
        problems += [f"{Path(p.source).name}{f' ({p.title})' if p.title else ''}: {p.reason}"
                     for p in rs.problems]
        cur = store.cursor()
        store.register(cur)
        try:
            for attempt in range(5):
                try:
                    run = run_findings(cur, rs, excl)
                    break
                except duckdb.TransactionException:
                    # the loader's background CHECKPOINT (store.compact) can conflict once
                    if attempt == 4:
                        raise
                    time.sleep(0.2 * (attempt + 1))
            problems += [f"{p.title}: {p.reason}" for p in run.problems]
            summaries = summarize(cur)
        except duckdb.InterruptException:
            return
        except duckdb.Error as exc:
            screen.post_message(WorkFailed("findings", str(exc)))
            return
        finally:
            store.unregister(cur)
            cur.close()
        screen.post_message(FindingsReady(summaries, problems, run.seconds))

    screen.run_worker(work, thread=True, group="findings", exclusive=True, exit_on_error=False,
                      description="running detection rules")
