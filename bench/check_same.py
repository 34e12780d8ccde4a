"""Does a what-if patch change what gets loaded? Prints a fingerprint of the loaded table.

    .venv/bin/python bench/check_same.py FILE...                      # the code as it is
    .venv/bin/python bench/check_same.py --whatif noasof,writev FILE...

The fingerprint covers every column of every row (incl. _file_id/_line), the original records
read back through raw_event, the duplicate count and the load errors: two runs that print the
same line loaded the same thing.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--whatif", default="")
    ap.add_argument("--first-screen", action="store_true")
    a = ap.parse_args()
    if a.whatif:
        import whatif

        whatif.apply(a.whatif)
    from trailtui.data import schema
    from trailtui.data.store import EventStore

    st = EventStore(cache=False)
    try:
        rep = st.load(a.files, first_screen=a.first_screen)
        cols = ", ".join(f'"{c}"' for c in schema.COLUMN_NAMES)
        row = st.con.execute(f"SELECT count(*), sum(hash({cols})) FROM events").fetchone()
        assert row is not None  # an aggregate without GROUP BY returns one row
        n, h = row
        # A total order: rows that tie on (eventID, _h) come in whatever order they were stored.
        keys = st.con.execute("SELECT _file_id, _line FROM events "
                              "ORDER BY eventID, _h, _file_id, _line").fetchall()
        raw = hashlib.sha256()
        for rec in st.raw_events(keys):
            raw.update(rec)
            raw.update(b"\n")
        print(f"rows {n:,}  table {h}  raw {raw.hexdigest()[:16]}  duplicates {rep.duplicates:,}"
              f"  errors {rep.errors}  ({a.whatif or 'as is'})")
    finally:
        st.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
