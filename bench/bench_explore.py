"""Timings of issue 12's queries on a real-shaped download: the field catalog, the frequency of
a column (top-level, struct, JSON key), a view with nested field columns, paging it, and a
count under an OR chip on a JSON key, next to the plain view the table used before.

    python3 ../shared/tools/gen_events.py -n 200000 --out /tmp/events.json
    .venv/bin/python bench/bench_explore.py /tmp/events.json

Absolute figures depend on the machine and its load; compare rows of one run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trailtui.data import explore, fields, views
from trailtui.data.filters import FieldChip, FilterState
from trailtui.data.store import EventStore


def timed(label: str, fn: Callable[[], object], runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:<58} min {min(times):7.1f} ms   median {statistics.median(times):7.1f} ms")


def main(path: str) -> None:
    store = EventStore(cache=False)
    try:
        t0 = time.perf_counter()
        store.load([path])
        store.compact()
        print(f"loaded {store.event_count():,} events in {time.perf_counter() - t0:.1f} s")
        cur = store.cursor()
        cat = fields.catalog(cur)
        print(f"catalog: {len(cat):,} fields from {cat.sampled:,} sampled events")
        timed("field catalog (every field, JSON keys sampled)", lambda: fields.catalog(cur))
        none = FilterState()
        for p in ("eventSource", "userIdentity.arn", "requestParameters.bucketName",
                  "additionalEventData.MFAUsed"):
            fld = fields.field_for(p)

            def plain(f: fields.Field = fld) -> object:
                return explore.frequency(cur, f, none, limit=1000)

            def searched(f: fields.Field = fld) -> object:
                return explore.frequency(cur, f, none, limit=1000, search="a")

            timed(f"frequency of {p}", plain)
            timed(f"frequency of {p}, searched", searched)
        flds = explore.extra_fields(["userIdentity.arn", "requestParameters.bucketName",
                                     "userAgent", "additionalEventData.MFAUsed"])
        timed("plain view (the table before)", lambda: views.materialize_view(
            cur, none, generation=1))
        timed("view with 4 field columns", lambda: explore.materialize_fields_view(
            cur, none, flds, generation=2))
        timed("view with 4 field columns, sorted by a JSON key",
              lambda: explore.materialize_fields_view(cur, none, flds, sort=flds[1],
                                                      descending=False, generation=3))
        fview = explore.materialize_fields_view(cur, none, flds, generation=4)
        timed("a page of 60 rows in the middle", lambda: explore.fetch_field_rows(
            cur, fview, fview.row_count // 2, 60), runs=10)
        top = [v for v, _ in explore.frequency(cur, flds[1], none, limit=4).rows if v][:3]
        state = none.add(FieldChip.equals("requestParameters.bucketName", *top))
        where, params = state.where()
        timed("count under an OR chip on a JSON key", lambda: cur.execute(
            f"SELECT count(*) FROM events WHERE {where}", params).fetchall())
        timed("9 facets on any field (explore.facet_counts)", lambda: explore.facet_counts(
            cur, list(views.FACET_KEYS)[:9], none, limit=5000))
        cur.close()
    finally:
        store.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
