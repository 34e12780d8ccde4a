"""Findings in the app: computed in a thread worker after each load, never blocking the table.

The browser screen calls `start_findings` when a load finishes; the worker asks the data
service (a `findings` job, superseded by the next load, cancelled with the screen) and posts
`FindingsReady` (the panel's rows, and rule problems to show once) or `WorkFailed`. Kept out of
browser.py so that screen only wires the panel and the chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message
from textual.screen import Screen

from trailtui.data.findings import (
    ExclusionError,
    FindingSummary,
    load_exclusions,
    load_rules,
)
from trailtui.data.service import FINDINGS, DataError, DataService, Job, JobCancelled
from trailtui.messages import WorkFailed
from trailtui.sanitize import safe_text


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
    exclusions_error: str | None = None  # the file could not be read: findings ran without it


def start_findings(screen: Screen[None], data: DataService, options: FindingsOptions) -> None:
    """Run the rules in a thread worker; a newer load's run supersedes this one."""
    job = data.job(FINDINGS, supersede=True)

    def work() -> None:
        _run(screen, data, job, options)

    screen.run_worker(work, thread=True, group="findings", exit_on_error=False,
                      description="running detection rules")


def _run(screen: Screen[None], data: DataService, job: Job, options: FindingsOptions) -> None:
    problems: list[str] = []
    excl_error: str | None = None
    try:
        excl = load_exclusions(options.exclusions) if options.exclusions else []
    except ExclusionError as exc:  # not a rule problem: a note of its own (see exclusions_note)
        excl_error = str(exc)
        excl = []
    rs = load_rules([Path(p) for p in options.rules], pack=options.pack)
    problems += [f"{Path(p.source).name}{f' ({p.title})' if p.title else ''}: {p.reason}"
                 for p in rs.problems]
    try:
        run, summaries = data.findings(job, rs, excl)
    except JobCancelled:
        return
    except DataError as exc:
        screen.post_message(WorkFailed("findings", exc.line))
        return
    problems += [f"{p.title}: {p.reason}" for p in run.problems]
    screen.post_message(FindingsReady(summaries, problems, run.seconds, excl_error))


def exclusions_note(message: FindingsReady, screen: Screen[None]) -> None:
    """Headless `--findings` refuses a bad exclusions file; the app goes on, and says so."""
    if message.exclusions_error is not None:
        reason = safe_text(message.exclusions_error)
        screen.notify(f"the exclusions file could not be read: {reason}\n"
                      "findings ran without exclusions",
                      title="Exclusions file not used", severity="warning", markup=False,
                      timeout=12)


@dataclass
class FindingsCounted(Message):
    """Events and actors per rule under the filter of `generation` (None: no filter)."""

    generation: int
    counts: dict[str, tuple[int, int]] | None


def count_findings_under(screen: Screen[None], data: DataService, table: str | None,
                         generation: int) -> None:
    """Worker side: the findings among the events of the view `table` (None: no filter, the
    totals the panel has). A few ms: only the hits are joined to the view's keys."""
    from trailtui.data.findings.summary import counts_within

    if table is None:
        screen.post_message(FindingsCounted(generation, None))
        return
    try:
        counts = data.ask(lambda cur: counts_within(cur, table), None, FINDINGS + "-count")
    except (DataError, JobCancelled):
        return  # the view was replaced meanwhile: the next one counts
    screen.post_message(FindingsCounted(generation, counts))
