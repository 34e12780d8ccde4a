"""Fetch throughput against a local CloudTrail double that enforces the real limit.

    python bench/bench_fetch.py [--events 1500] [--latency 0.3] [--regions 1 4]

The double (tests/fake_cloudtrail.py) answers LookupEvents at 127.0.0.1 with `--latency`
seconds per request, 50 events a page, and throttles (and records a violation) whenever a
region gets more than 2 requests within 0.9 s. For each region count, trailtui's fetch engine
(real boto3 clients, dummy credentials) fetches `--events` events per region; it prints events
per second per region and in total, pages, throttles and violations (must be 0). The ceiling is
2 pages/s x 50 = 100 events/s per region. `--workers 1` shows what one page at a time (no
window splitting) gets with the same latency.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import boto3
from botocore.config import Config
from fake_cloudtrail import FakeCloudTrail, make_events

from trailtui.fetch.engine import Fetcher, Request
from trailtui.fetch.output import OutputFile

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1",
           "sa-east-1", "ca-central-1", "ap-northeast-1"]


def run(n_regions: int, events: int, latency: float, workers: int) -> dict[str, Any]:
    now = int(time.time())
    regions = REGIONS[:n_regions]
    with FakeCloudTrail(tps=2.0, latency=latency, lifetime=3600) as fake, \
            tempfile.TemporaryDirectory() as tmp:
        for region in regions:
            fake.add(region, make_events(region, events, now - 60, spacing=2))
        session = boto3.session.Session(aws_access_key_id="bench",
                                        aws_secret_access_key="bench")
        config = Config(retries={"total_max_attempts": 1}, max_pool_connections=workers + 2)
        clients = {r: session.client("cloudtrail", region_name=r, endpoint_url=fake.url,
                                     config=config) for r in regions}
        out = OutputFile(Path(tmp) / "events.json")
        span = events + 600  # one event a second: a busy account, full pages
        request = Request(regions=regions, start=now - span, end=now, workers=workers)
        fetcher = Fetcher(request, out, out.open(), clients.__getitem__)
        t0 = time.monotonic()
        result = fetcher.run()
        wall = time.monotonic() - t0
        size = os.path.getsize(out.path)
        return {"regions": n_regions, "events": result.total_events, "wall": wall,
                "per_region": result.total_events / n_regions / wall,
                "total": result.total_events / wall, "pages": fake.pages,
                "throttled": fake.throttled, "violations": len(fake.violations),
                "mb": size / 1e6, "code": result.exit_code}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1500, help="events per region")
    p.add_argument("--latency", type=float, default=0.3, help="seconds per request")
    p.add_argument("--regions", type=int, nargs="+", default=[1, 4])
    p.add_argument("--workers", type=int, nargs="+", default=[4],
                   help="requests in flight per region (default 4)")
    args = p.parse_args()
    print(f"limit 2 requests/s per region, 50 events/page, latency {args.latency:.2f} s, "
          f"{args.events:,} events per region")
    print("regions workers   events   wall_s  ev/s/region  ev/s_total  pages throttled "
          "violations")
    for workers in args.workers:
        for n in args.regions:
            r = run(n, args.events, args.latency, workers)
            print(f"{r['regions']:>7} {workers:>7} {r['events']:>8,} {r['wall']:>8.1f} "
                  f"{r['per_region']:>12.1f} {r['total']:>11.1f} {r['pages']:>6} "
                  f"{r['throttled']:>9} {r['violations']:>10}")


if __name__ == "__main__":
    main()
