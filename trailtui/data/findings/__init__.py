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

__all__ = [
    "FINDINGS_ORDER",
    "LEVELS",
    "ConversionError",
    "Exclusion",
    "ExclusionError",
    "FindingsRun",
    "Problem",
    "RuleSet",
    "load_exclusions",
    "load_rules",
    "pack_dir",
    "run_findings",
]
