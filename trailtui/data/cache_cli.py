"""`--cache-max`, `--cache-info`, `--clear-cache`: kept out of cli.py (a shared hot file)."""

from __future__ import annotations

import os
import sys

from trailtui.data import cache
from trailtui.data.store import default_cache_dir


def cache_command(cache_max: str | None, info: bool, clear: bool) -> int | None:
    """Apply --cache-max (for this run), print info or clear; an exit code, or None to go on."""
    if cache_max is not None:
        try:
            cache.parse_size(cache_max)
        except ValueError as exc:
            print(f"trailtui: --cache-max: {exc}", file=sys.stderr)
            return 2
        os.environ["TRAILTUI_CACHE_MAX"] = cache_max
    root = default_cache_dir()
    if clear:
        n, freed = cache.clear(root)
        print(f"trailtui: cache cleared: {n:,} entr{'y' if n == 1 else 'ies'}, "
              f"{cache.human(freed)} freed ({root})")
    if info:
        print(cache.info_text(root))
    if info or clear:
        return 0
    return None
