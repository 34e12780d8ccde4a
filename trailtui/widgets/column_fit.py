"""Column widths for narrow terminals: the key columns first, whole, the rest scroll.

Shrinking every column in proportion made a 100-column terminal show 7-8 characters of each
key column (user, event name, service), which helps nobody. Here, when the preferred widths
do not fit, a small squeeze is shared out as before; a large one keeps the leading columns
(the table's order puts the key columns first) at a readable width and leaves the later ones
at theirs, past the right edge, reachable by scrolling sideways. Plain integers: no Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# Squeezing stops at this many cells per column (or the column's own width if smaller): a
# shorter cell is unreadable. Past that, leading columns keep up to `LEADING_CAP` cells.
READABLE_MIN: Final = 10
LEADING_CAP: Final = 24


def fit_widths(
    preferred: Sequence[int], minimum: Sequence[int], available: int, flex: int | None = None
) -> list[int]:
    """Widths (cells, gaps excluded) for columns in display order.

    Everything fits: spare cells go to `flex` (else the last column). A squeeze that leaves
    every column at least `READABLE_MIN` cells (and its minimum): shared in proportion to
    what each can give. A larger one: leading columns keep up to `LEADING_CAP` cells while
    they fit, the first that does not fit gets what is left if that is readable, and every
    later column keeps its width off screen, reachable by scrolling sideways.
    """
    n = len(preferred)
    if n == 0:
        return []
    pref = [max(1, p) for p in preferred]
    mins = [max(1, min(m, p)) for m, p in zip(minimum, pref, strict=True)]
    total = sum(pref)
    if total <= available:
        out = list(pref)
        out[flex if flex is not None and 0 <= flex < n else n - 1] += available - total
        return out
    floors = [max(m, min(p, READABLE_MIN)) for m, p in zip(mins, pref, strict=True)]
    if sum(floors) <= available:
        excess = total - available
        slack = [p - f for p, f in zip(pref, floors, strict=True)]
        total_slack = sum(slack) or 1
        cuts = [excess * s // total_slack for s in slack]
        left = excess - sum(cuts)
        for i in sorted(range(n), key=lambda i: slack[i] - cuts[i], reverse=True):
            if left == 0:
                break
            if slack[i] - cuts[i] > 0:
                cuts[i] += 1
                left -= 1
        return [p - c for p, c in zip(pref, cuts, strict=True)]
    out = [max(m, min(p, LEADING_CAP)) for m, p in zip(mins, pref, strict=True)]
    used = 0
    for i, w in enumerate(out):
        if used + w <= available:
            used += w
            continue
        rest = available - used
        if rest >= max(mins[i], min(READABLE_MIN, w)):
            out[i] = rest
        break
    return out
