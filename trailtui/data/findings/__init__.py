"""Findings: Sigma rules over the loaded CloudTrail events (Textual-free, like all of data/)."""

from trailtui.data.findings.engine import (
    FINDINGS_ORDER,
    FindingsRun,
    RuleSet,
    load_rules,
    pack_dir,
    run_findings,
)
from trailtui.data.findings.exclusions import Exclusion, ExclusionError, load_exclusions
from trailtui.data.findings.sigma import LEVELS, ConversionError, Problem
from trailtui.data.findings.summary import FindingSummary, findings_of_event, summarize

__all__ = [
    "FINDINGS_ORDER",
    "LEVELS",
    "ConversionError",
    "Exclusion",
    "ExclusionError",
    "FindingSummary",
    "FindingsRun",
    "Problem",
    "RuleSet",
    "findings_of_event",
    "load_exclusions",
    "load_rules",
    "pack_dir",
    "run_findings",
    "summarize",
]
