"""Make an organisation-trail S3 tree from a generated download (bench and manual tests).

    python3 bench/make_org_tree.py SOURCE.json OUT_DIR --objects 2000
    python3 bench/make_org_tree.py --generate 20000 OUT_DIR --objects 2000   # runs the generator

Writes `OUT_DIR/AWSLogs/o-exampleorg1/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/
<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz`, each a `{"Records":[...]}`
document, as CloudTrail delivers them: events grouped by account and region, in time order,
and each object in the folder of its *delivery* time (last event + 5 minutes), so events from
just before midnight sit in the next day's folder (the day-boundary case pruning must get
right). Every input event lands in exactly one object. Prints the object and event counts.
Generate into /tmp; never commit the output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_GEN = next((p for p in (HERE.parent.parent / "shared" / "tools" / "gen_events.py",
                                 HERE.parent.parent.parent / "shared" / "tools" / "gen_events.py")
                    if p.is_file()), HERE.parent.parent / "shared" / "tools" / "gen_events.py")
ORG = "o-exampleorg1"
DELIVERY_DELAY = dt.timedelta(minutes=5)


def _time(rec: dict[str, Any]) -> dt.datetime:
    return dt.datetime.strptime(str(rec.get("eventTime")), "%Y-%m-%dT%H:%M:%SZ")


def write_tree(records: list[dict[str, Any]], out: Path, objects: int) -> int:
    """Write `records` as about `objects` S3 objects under `out`; returns the objects written."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        acct = str(rec.get("recipientAccountId") or "111122223333")
        groups[(acct, str(rec.get("awsRegion") or "us-east-1"))].append(rec)
    per_object = max(1, math.ceil(len(records) / max(1, objects)))
    written = 0
    for (acct, region), recs in sorted(groups.items()):
        recs.sort(key=_time)
        for i in range(0, len(recs), per_object):
            batch = recs[i : i + per_object]
            delivered = _time(batch[-1]) + DELIVERY_DELAY
            folder = (out / "AWSLogs" / ORG / acct / "CloudTrail" / region
                      / f"{delivered:%Y}" / f"{delivered:%m}" / f"{delivered:%d}")
            folder.mkdir(parents=True, exist_ok=True)
            uid = hashlib.sha1(f"{acct}{region}{i}".encode()).hexdigest()[:16]
            name = f"{acct}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{uid}.json.gz"
            body = json.dumps({"Records": batch}, separators=(",", ":")).encode()
            (folder / name).write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
            written += 1
    return written


def read_download(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return list(json.load(fh)["Records"])


def generate(n: int, dest: Path, gen: Path, days: int) -> Path:
    out = dest / f"source_{n}.json"
    if not out.is_file():
        subprocess.run([sys.executable, str(gen), "-n", str(n), "--days", str(days),
                        "--out", str(out)], cwd=gen.parent, check=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", nargs="?", help="a {\"Records\":[...]} download (.json/.json.gz)")
    ap.add_argument("out", help="folder to write AWSLogs/... into (e.g. /tmp/orgtree)")
    ap.add_argument("--objects", type=int, default=2000, help="about this many objects")
    ap.add_argument("--generate", type=int, metavar="N",
                    help="run the generator for N events instead of reading SOURCE")
    ap.add_argument("--days", type=int, default=7, help="days the generated events span")
    ap.add_argument("--gen", default=str(DEFAULT_GEN), help="path of gen_events.py")
    args = ap.parse_args()
    out = Path(args.out).resolve()
    if args.generate:
        out.mkdir(parents=True, exist_ok=True)
        source = generate(args.generate, out, Path(args.gen).resolve(), args.days)
        out = out / "tree"
    elif args.source:
        source = Path(args.source)
    else:
        ap.error("give SOURCE or --generate N")
    records = read_download(source)
    n = write_tree(records, out, args.objects)
    print(f"{n} objects, {len(records)} events under {out / 'AWSLogs'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
