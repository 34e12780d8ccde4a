"""Variants of the chunk INSERT (schema.insert_sql), each in a fresh process: time and peak RSS.

    .venv/bin/python bench/exp_insert.py CHUNK.ndjson [--rounds 2] [--variants a,b]
    .venv/bin/python bench/exp_insert.py CHUNK.ndjson --explain asis

CHUNK.ndjson is one record per line (make one with --make FROM.json). Each variant edits the
SQL text that schema.insert_sql produces, so the experiment follows the product's current SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def variant_sql(name: str, sql: str) -> tuple[str, list[str]]:
    """(sql, setup statements) for a variant."""
    from trailtui.data import schema

    setup = ["SET asof_loop_join_threshold = 0"]
    asof = re.compile(r"FROM r ASOF JOIN \(SELECT \* FROM chunk_sources WHERE chunk_id = (\d+)\) f\s+"
                      r"ON r\._line >= f\.first_line")
    for part in name.split("+"):
        if part == "asis":
            pass
        elif part == "defaultasof":
            setup = []
        elif part == "noasof":  # single-part chunk: the one chunk_sources row, cross joined
            sql, k = asof.subn(r"FROM r, (SELECT * FROM chunk_sources WHERE chunk_id = \1) f", sql)
            assert k == 1, "ASOF clause not found"
        elif part == "nohash":
            sql, k = re.subn(r"hash\(r\.\"eventVersion\"[^)]*\) AS \"_h\"", '0 AS "_h"', sql)
            assert k == 1
        elif part == "hashnarrow":  # hash only the narrow scalar columns + eventID
            cols = [c for c, t in schema.RAW_COLUMNS.items() if t == "VARCHAR"]
            sql, k = re.subn(r"hash\(r\.\"eventVersion\"[^)]*\) AS \"_h\"",
                             "hash(" + ", ".join(f'r."{c}"' for c in cols) + ') AS "_h"', sql)
            assert k == 1
        elif part == "noactor":
            i = sql.index("CASE\n    WHEN ui.type = 'Root'")
            j = sql.index('AS "actor"')
            sql = sql[:i] + "NULL " + sql[j:]
        elif part == "noordinality":
            sql = sql.replace("ordinality - 1 AS _line", "0 AS _line").replace(
                "records=true) WITH ORDINALITY", "records=true)")
        elif part == "rownumber":
            sql = sql.replace("ordinality - 1 AS _line", "row_number() OVER () - 1 AS _line").replace(
                "records=true) WITH ORDINALITY", "records=true)")
        elif part == "noorder":
            setup.append("SET preserve_insertion_order = false")
        elif part == "floor":
            cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in schema.RAW_COLUMNS.items()) + "}"
            sql = ("CREATE TABLE floor AS SELECT * FROM read_ndjson($path, columns=" + cols
                   + ", format='newline_delimited', records=true)")
        elif part.startswith("json="):  # per-column compression of the JSON columns
            setup.append(("recreate", part.split("=", 1)[1]))
        elif part == "nocheckpoint":
            setup.append(("nocheckpoint", ""))
        elif part == "notime":
            i = sql.index("coalesce(TRY_CAST(TRY_CAST(coalesce(")
            j = sql.index(" AS et\n")
            sql = sql[:i] + "NULL::TIMESTAMP" + sql[j:]
        elif part == "noui":  # skip the json_transform of userIdentity (ui = NULL struct)
            spec = schema.USER_IDENTITY_SPEC.replace("'", "''")
            sql = sql.replace(f"""json_transform("userIdentity", '{spec}') AS ui""",
                              f"""json_transform(NULL::JSON, '{spec}') AS ui""")
        elif part == "uistruct":  # read userIdentity straight as the STRUCT (no JSON text)
            spec = schema.USER_IDENTITY_SPEC.replace("'", "''")
            sql = sql.replace(f"""json_transform("userIdentity", '{spec}') AS ui""",
                              '"userIdentity" AS ui')
            setup.append(("uistruct", ""))
        elif part == "t1":
            setup.append("SET threads = 1")
        else:
            raise SystemExit(f"unknown variant part {part}")
    return sql, setup


def worker(chunk: str, name: str, explain: bool) -> None:
    from trailtui.data import schema
    from trailtui.data.store import EventStore

    t_start = time.perf_counter()
    st = EventStore(cache=False)
    cur = st.cursor()
    n_lines = sum(1 for _ in open(chunk, "rb"))
    cur.execute("INSERT INTO chunk_sources VALUES (1, 0, 'x.json', NULL, NULL, NULL, NULL, NULL)")
    sql, setup = variant_sql(name, schema.insert_sql(file_id=1))
    skip_ckpt = False
    for s in setup:
        if isinstance(s, tuple):
            if s[0] == "nocheckpoint":
                skip_ckpt = True
                continue
            if s[0] == "uistruct":
                ui_t = cur.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = "
                                   "'events' AND column_name = 'userIdentity'").fetchone()[0]
                sql = sql.replace("'userIdentity': 'JSON'", f"'userIdentity': '{ui_t}'")
                continue
            comp = s[1]
            ddl = cur.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events'"
                              ).fetchone()[0]
            cur.execute("DROP TABLE events")
            for col in ("requestParameters", "responseElements", "additionalEventData",
                        "resources", "serviceEventDetails", "tlsDetails", "insightDetails",
                        "addendum", "edgeDeviceDetails", "eventContext"):
                ddl, k = re.subn(rf'("?{col}"? JSON)', rf"\1 USING COMPRESSION {comp}", ddl)
                assert k == 1, (col, ddl)
            cur.execute(ddl)
        else:
            cur.execute(s)
    t = time.perf_counter()
    if explain:
        cur.execute("EXPLAIN ANALYZE " + sql, {"path": chunk})
        print(cur.fetchall()[0][1])
        return
    cur.execute(sql, {"path": chunk}).fetchall()
    ins = time.perf_counter() - t
    t = time.perf_counter()
    if not skip_ckpt:
        cur.execute("CHECKPOINT").fetchall()
    ck = time.perf_counter() - t
    mem = cur.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
    t = time.perf_counter()
    for col in ("actor", "eventSource", "sourceIPAddress"):
        cur.execute(f'SELECT "{col}", count(*) FROM events GROUP BY 1 ORDER BY 2 DESC').fetchall()
    facets = (time.perf_counter() - t) * 1000
    print("RESULT " + json.dumps({"insert": ins, "checkpoint": ck, "lines": n_lines, "mem": mem, "facets_ms": facets,
                                  "proc": time.perf_counter() - t_start}), flush=True)
    os._exit(0)


def make_chunk(src: str, dest: str) -> None:
    from trailtui.data import ingest

    fr = ingest.read_file(Path(src))
    ingest.write_chunk([(fr.records, fr.multiline)], Path(dest))
    print(f"wrote {dest}: {len(fr.records):,} lines, {os.path.getsize(dest):,} B")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("chunk")
    ap.add_argument("--make")
    ap.add_argument("--variants", default="asis,noasof,nohash,noactor,noordinality,floor")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--worker")
    ap.add_argument("--explain")
    a = ap.parse_args()
    if a.make:
        make_chunk(a.make, a.chunk)
        return 0
    if a.worker or a.explain:
        worker(a.chunk, a.worker or a.explain, bool(a.explain))
        return 0
    res: dict[str, list[tuple[float, float, float, int, float]]] = {}
    names = a.variants.split(",")
    for r in range(a.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            p = subprocess.Popen([sys.executable, __file__, a.chunk, "--worker", name],
                                 stdout=subprocess.PIPE)
            _pid, _st, ru = os.wait4(p.pid, 0)
            out = p.stdout.read().decode()
            d = next((json.loads(x[7:]) for x in out.splitlines() if x.startswith("RESULT ")), None)
            if d is None:
                print(f"  {name}: failed", flush=True)
                continue
            cpu = ru.ru_utime + ru.ru_stime
            res.setdefault(name, []).append((d["insert"], d["checkpoint"], cpu, ru.ru_maxrss, d["proc"]))
            print(f"  {name:<28} insert {d['insert']:6.2f} s  checkpoint {d['checkpoint']:5.2f} s"
                  f"  process cpu {cpu:6.2f} s  peak RSS {ru.ru_maxrss / 1024:6.0f} MiB  "
                  f"duckdb mem {d['mem'] / 2**20:5.0f} MiB  3 facets {d['facets_ms']:.0f} ms",
                  flush=True)
    print("\nmedian per variant")
    import statistics as stt
    for name, xs in res.items():
        print(f"  {name:<28} insert {stt.median(x[0] for x in xs):6.2f} s  checkpoint "
              f"{stt.median(x[1] for x in xs):5.2f} s  cpu {stt.median(x[2] for x in xs):6.2f} s  "
              f"peak RSS {stt.median(x[3] for x in xs) / 1024:6.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
