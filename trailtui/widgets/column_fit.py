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

# A column shrunk below this share of its preferred width is hard to read: stop squeezing.
READABLE_SHARE: Final = 0.7
READABLE_MIN: Final = 10


def fit_widths(
    preferred: Sequence[int], minimum: Sequence[int], available: int, flex: int | None = None
) -> list[int]:
    """Widths (cells, gaps excluded) for columns in display order.

    Everything fits: spare cells go to `flex` (else the last column). A squeeze that keeps
    every column at `READABLE_SHARE` of its width (and its minimum): shared in proportion. A
    larger one: leading columns keep their preferred width while it fits, the first column
    that does not fit gets what is left if that is readable, and every later column keeps its
    preferred width off screen.
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
    floors = [max(m, int(p * READABLE_SHARE)) for m, p in zip(mins, pref, strict=True)]
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
    out = list(pref)
    used = 0
    for i, p in enumerate(pref):
        if used + p <= available:
            used += p
            continue
        rest = available - used
        if rest >= max(mins[i], min(READABLE_MIN, p)):
            out[i] = rest
        break
    return out
