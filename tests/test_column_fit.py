"""Narrow terminals keep the key columns readable instead of squeezing every column."""

from __future__ import annotations

from trailtui.widgets.column_fit import fit_widths

# Time, user, event, service, region, IP, error, account, RO: the table's default order.
PREF = [19, 28, 30, 26, 14, 16, 16, 12, 3]
MINS = [19, 8, 8, 8, 9, 7, 5, 12, 3]


def test_everything_fits_spare_goes_to_flex() -> None:
    out = fit_widths(PREF, MINS, sum(PREF) + 10, flex=2)
    assert out[2] == PREF[2] + 10 and sum(out) == sum(PREF) + 10


def test_squeeze_is_shared_while_columns_stay_readable() -> None:
    out = fit_widths(PREF, MINS, 120)
    assert sum(out) == 120
    assert all(o >= min(p, 10) for o, p in zip(out, PREF, strict=True))


def test_narrow_terminal_keeps_key_columns_whole() -> None:
    out = fit_widths(PREF, MINS, 100 - 9)  # 100 cells, one-cell gaps
    assert out[:3] == [19, 24, 24]  # time, user and event name readable
    assert out[3] >= 10  # the service gets what is left
    assert out[4:] == [14, 16, 16, 12, 3]  # the rest sit past the edge, reachable by scrolling


def test_empty() -> None:
    assert fit_widths([], [], 80) == []
