"""Query timings for the browser's data layer on synthetic CloudTrail-shaped events.

Generates N events (default 1M) with DuckDB from `range()` with realistic cardinalities (a
few hundred actors and event names, ~20k source IPs, 10% errors, tied timestamps), writes them
as 5 NDJSON files and loads them with the real `EventStore` (compressed, checkpointed). Then
prints min and median wall times of each query the browser screen issues, next to the
alternatives that were measured and rejected.

    .venv/bin/python bench/bench_query.py [rows]

Absolute figures depend on the machine and its load; compare rows of one run.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trailtui.data import views
from trailtui.data.filters import Chip, FilterState
from trailtui.data.store import EventStore

_U = "((hash(i, '{salt}') % 1000000) / 1000000.0)"  # a uniform [0, 1) per row and salt


def _u(salt: str) -> str:
    return _U.format(salt=salt)


def _skewed(salt: str, k: int, power: float = 3.0) -> str:
    """An integer in [0, k) with a few heavy values and a long tail (like real actors, IPs)."""
    return f"CAST(floor(pow({_u(salt)}, {power}) * {k}) AS BIGINT)"


_RAW_SELECT = f"""
SELECT
  '1.08' AS eventVersion,
  strftime(TIMESTAMP '2024-03-01' + to_seconds(CAST({_u('t')} * 30 * 86400 AS BIGINT)),
           '%Y-%m-%dT%H:%M:%SZ') AS eventTime,
  NULL AS "@timestamp",
  svc || '.amazonaws.com' AS eventSource,
  CASE WHEN idt = 'AWSService' THEN 'AssumeRole'
       ELSE (['List', 'Get', 'Describe', 'Put', 'Create', 'Delete', 'Update'])
            [1 + {_skewed('v', 7, 2)}] || 'Thing' || {_skewed('n', 60)} END AS eventName,
  (['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1',
    'us-east-2', 'sa-east-1', 'ca-central-1', 'eu-north-1'])[1 + {_skewed('r', 10)}] AS awsRegion,
  CASE WHEN idt = 'AWSService' THEN svc || '.amazonaws.com'
       WHEN {_u('ipx')} < 0.05 THEN 'AWS Internal'
       ELSE '10.' || {_skewed('ip1', 30)} || '.' || {_skewed('ip2', 40)} || '.'
            || {_skewed('ip3', 20)} END AS sourceIPAddress,
  'aws-cli/2.' || {_skewed('ua1', 30)} || '.' || {_skewed('ua2', 15)}
    || ' Python/3.11.6 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/s3.op'
    || {_skewed('ua3', 10)} AS userAgent,
  CASE WHEN {_u('e')} < 0.9 THEN NULL
       ELSE (['AccessDenied', 'AccessDeniedException', 'ThrottlingException',
              'Client.UnauthorizedOperation', 'NoSuchEntity', 'ResourceNotFoundException',
              'ValidationException', 'InvalidParameterValue'])[1 + {_skewed('ec', 8, 2)}]
  END AS errorCode,
  NULL AS errorMessage,
  CASE WHEN {_u('rp')} < 0.3 THEN NULL
       ELSE json_object('bucketName', 'bucket-' || {_skewed('b', 300)},
                        'key', 'logs/2024/03/' || i || '/part-0000.gz',
                        'maxResults', 50, 'filter', json_object('name', 'tag:Env',
                        'values', ['prod', 'dev'])) END AS requestParameters,
  CASE WHEN {_u('re')} < 0.7 THEN NULL
       ELSE json_object('requestId', uuid()::VARCHAR, 'x-amz-id', md5(i::VARCHAR))
  END AS responseElements,
  CASE WHEN {_u('ad')} < 0.8 THEN NULL
       ELSE json_object('SignatureVersion', 'SigV4', 'CipherSuite',
                        'ECDHE-RSA-AES128-GCM-SHA256', 'bytesTransferredIn', 0)
  END AS additionalEventData,
  uuid()::VARCHAR AS requestID,
  uuid()::VARCHAR AS eventID,
  CASE WHEN {_u('ro')} < 0.02 THEN NULL WHEN {_u('ro2')} < 0.7 THEN 'true' ELSE 'false' END
    AS readOnly,
  CASE WHEN {_u('rs')} < 0.8 THEN NULL
       ELSE json_array(json_object('ARN', 'arn:aws:s3:::bucket-' || {_skewed('b', 300)},
                                   'accountId', acct, 'type', 'AWS::S3::Bucket')) END
    AS resources,
  CASE WHEN idt = 'AWSService' THEN 'AwsServiceEvent'
       WHEN {_u('et')} < 0.02 THEN 'AwsConsoleSignIn' ELSE 'AwsApiCall' END AS eventType,
  NULL AS apiVersion,
  'true' AS managementEvent,
  acct AS recipientAccountId,
  NULL AS sharedEventID, NULL AS vpcEndpointId, NULL AS vpcEndpointAccountId,
  'Management' AS eventCategory,
  NULL::JSON AS serviceEventDetails,
  NULL AS sessionCredentialFromConsole,
  json_object('tlsVersion', 'TLSv1.3', 'clientProvidedHostHeader',
              lower(svc) || '.us-east-1.amazonaws.com') AS tlsDetails,
  NULL::JSON AS insightDetails, NULL::JSON AS addendum, NULL::JSON AS edgeDeviceDetails,
  NULL::JSON AS eventContext,
  CASE idt
      WHEN 'AWSService' THEN json_object('type', idt, 'invokedBy', lower(svc) || '.amazonaws.com')
      WHEN 'Root' THEN json_object('type', idt, 'principalId', acct, 'accountId', acct,
                                   'arn', 'arn:aws:iam::' || acct || ':root')
      WHEN 'IAMUser' THEN json_object('type', idt, 'principalId', 'AIDA' || who,
          'arn', 'arn:aws:iam::' || acct || ':user/user-' || who, 'accountId', acct,
          'accessKeyId', 'AKIA' || lpad(who::VARCHAR, 16, '0'), 'userName', 'user-' || who)
      ELSE json_object('type', 'AssumedRole', 'principalId', 'AROA' || who || ':session-' || sess,
          'arn', 'arn:aws:sts::' || acct || ':assumed-role/role-' || who || '/session-' || sess,
          'accountId', acct, 'accessKeyId', 'ASIA' || lpad((who * 100 + sess)::VARCHAR, 16, '0'),
          'sessionContext', json_object('sessionIssuer', json_object('type', 'Role',
              'principalId', 'AROA' || who, 'userName', 'role-' || who,
              'arn', 'arn:aws:iam::' || acct || ':role/role-' || who, 'accountId', acct),
              'attributes', json_object('creationDate', '2024-03-01T00:00:00Z',
                                        'mfaAuthenticated', 'false')))
    END AS userIdentity
FROM (
  SELECT i,
    (['s3', 'ec2', 'iam', 'sts', 'lambda', 'kms', 'logs', 'cloudtrail', 'dynamodb', 'sqs',
      'sns', 'rds', 'ecr', 'ecs', 'ssm', 'secretsmanager', 'monitoring', 'config',
      'organizations', 'route53'])[1 + {_skewed('s', 20)}] AS svc,
    CASE WHEN {_u('id')} < 0.55 THEN 'AssumedRole' WHEN {_u('id')} < 0.85 THEN 'IAMUser'
         WHEN {_u('id')} < 0.99 THEN 'AWSService' ELSE 'Root' END AS idt,
    {_skewed('who', 200)} AS who,
    {_skewed('sess', 50)} AS sess,
    lpad((123456789000 + {_skewed('acct', 10)})::VARCHAR, 12, '0') AS acct
  FROM range($start, $stop) t(i)
)
"""


def write_ndjson(folder: Path, n: int, files: int = 5) -> list[Path]:
    """n synthetic CloudTrail records in `files` NDJSON files."""
    con = duckdb.connect()
    step = max(1, -(-n // files))
    paths = []
    for f, start in enumerate(range(0, n, step)):
        sql = _RAW_SELECT.replace("$start", str(start)).replace("$stop", str(min(n, start + step)))
        path = folder / f"file{f}.ndjson"
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT json)")
        paths.append(path)
    con.close()
    return paths


def timed(fn: Callable[..., object], *args: object, runs: int = 5) -> tuple[float, float]:
    """(min, median) wall time in ms of `fn(*args)` over `runs` calls, after one warm-up."""
    fn(*args)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - t0) * 1000)
    return min(times), statistics.median(times)


def row(label: str, figures: tuple[float, float]) -> None:
    print(f"  {label:<58} {figures[0]:8.1f} {figures[1]:8.1f}")


# -- rejected alternatives, kept here so the choice can be re-checked --------------------------


def facets_one_query_each(
    cur: duckdb.DuckDBPyConnection, keys: list[str], st: FilterState
) -> object:
    return {k: views.facet_counts(cur, k, st) for k in keys}


def facets_union_all(cur: duckdb.DuckDBPyConnection, keys: list[str], st: FilterState) -> object:
    """One GROUP BY per facet glued with UNION ALL: re-evaluates the filter in each branch."""
    where, params = st.where()
    branches = [
        f"SELECT {i} AS f, CAST({views.FACETS[views.FACET_KEYS.index(k)].column.sql} AS VARCHAR) "
        f"AS v, count(*) AS n FROM events WHERE {where} GROUP BY ALL"
        for i, k in enumerate(keys)
    ]
    sql = f"SELECT * FROM ({' UNION ALL '.join(branches)}) ORDER BY f, n DESC, v NULLS LAST"
    return cur.execute(sql, params * len(keys)).fetchall()


def view_with_row_number(cur: duckdb.DuckDBPyConnection, st: FilterState, wide: bool) -> None:
    """The `row_number() OVER (ORDER BY ...)` view, with eventID in the tie-break (and, when
    `wide`, userAgent/eventID/identity columns in the view)."""
    cols = ", ".join(views.VIEW_COLUMNS)
    if wide:
        cols += ", identity_type, access_key, userAgent, eventID"
    where, params = st.where()
    cur.execute(
        "CREATE OR REPLACE TABLE view_rn AS SELECT row_number() OVER (ORDER BY eventTime DESC "
        f"NULLS LAST, eventID, _file_id, _line) - 1 AS rn, {cols} FROM events WHERE {where} "
        "ORDER BY rn",
        params,
    )
    cur.execute("DROP TABLE view_rn")


def settle_parallel(store: EventStore, st: FilterState, gen: int) -> None:
    """A facet pick as the browser screen runs it: two workers at once, one materialising the
    view (then total, time span, column widths), one recounting every facet."""
    keys = list(views.FACET_KEYS)

    def facets() -> None:
        c = store.cursor()
        views.all_facet_counts(c, keys, st)
        c.close()

    t = threading.Thread(target=facets)
    t.start()
    c = store.cursor()
    info = views.materialize_view(c, st, generation=gen)
    views.total_count(c)  # what the browser's view worker asks next
    views.time_span(c, st)
    views.column_widths(c, info.table)
    t.join()
    views.drop_view(c, info.table)
    c.close()


def settle_search(store: EventStore, st: FilterState, gen: int) -> None:
    """A pick under a search chip, run as recommended: the view first, then the facets found
    by key in it (`within=`), so the text is scanned once."""
    c = store.cursor()
    info = views.materialize_view(c, st, generation=gen)
    views.time_span(c, st, within=info)
    views.column_widths(c, info.table)
    views.all_facet_counts(c, list(views.FACET_KEYS), st, within=info)
    views.drop_view(c, info.table)
    c.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    store = EventStore(cache=False)
    with tempfile.TemporaryDirectory(prefix="trailtui-bench-") as tmp:
        t0 = time.perf_counter()
        files = write_ndjson(Path(tmp), n)
        t1 = time.perf_counter()
        report = store.load([str(p) for p in files])
        print(f"generated {n:,} events in {t1 - t0:.1f} s, loaded in {report.seconds:.1f} s")
    cur = store.cursor()
    top_actor = views.facet_counts(cur, "actor", FilterState())[0][0]
    states = {
        "no filter": FilterState(),
        "actor = top actor": FilterState().add(Chip.include("actor", top_actor)),
        "not eventSource = s3": FilterState().add(Chip.exclude("eventSource", "s3.amazonaws.com")),
        "actor + region": FilterState()
        .add(Chip.include("actor", top_actor))
        .add(Chip.include("awsRegion", "us-east-1")),
        "search 'bucket-17'": FilterState().add(Chip.search("bucket-17")),
    }
    keys = list(views.FACET_KEYS)
    gen = iter(range(1, 1_000_000))

    def materialise(st: FilterState, sort: str = "eventTime", desc: bool = True) -> None:
        views.drop_view(cur, views.materialize_view(cur, st, sort, desc, next(gen)).table)

    print(f"  {'query (ms)':<58} {'min':>8} {'median':>8}")
    for name, st in states.items():
        print(f"{name} ({views.count(cur, st):,} events)")
        for key in ("actor", "sourceIPAddress", "userAgent"):
            values = len(views.facet_counts(cur, key, st))
            row(f"facet {key} ({values:,} values)", timed(views.facet_counts, cur, key, st))
        row(f"all {len(keys)} facets, GROUPING SETS (kept)",
            timed(views.all_facet_counts, cur, keys, st, runs=3))
        searching = any(c.kind == "search" for c in st)
        if not searching:  # the alternatives re-run the search per facet: 10+ s at 1M
            row(f"all {len(keys)} facets, one query each",
                timed(facets_one_query_each, cur, keys, st, runs=3))
            row(f"all {len(keys)} facets, UNION ALL",
                timed(facets_union_all, cur, keys, st, runs=3))
        row("materialise view, ORDER BY + rowid (kept)", timed(materialise, st, runs=3))
        if not searching:
            row("materialise view, row_number() + eventID tie-break",
                timed(view_with_row_number, cur, st, False, runs=3))
            row("materialise view, row_number(), + 4 wide columns",
                timed(view_with_row_number, cur, st, True, runs=3))
        row("pick settles: view + all facets in two threads",
            timed(lambda s=st: settle_parallel(store, s, next(gen)), runs=3))
        if searching:
            row("pick settles: view, then facets within it (one thread)",
                timed(lambda s=st: settle_search(store, s, next(gen)), runs=3))
        row("count", timed(views.count, cur, st))
    info = views.materialize_view(cur, FilterState(), generation=0)
    print("paging and single events")
    ui = store.cursor()
    for at in (0, info.row_count // 2, max(0, info.row_count - 256)):
        row(f"fetch 256 rows at {at:,}", timed(views.fetch_rows, ui, info.table, at, 256, runs=21))
    fid, line = views.rows_keys(cur, info.table, [info.row_count // 3])[0]
    row("event_row (all columns of one event)", timed(views.event_row, cur, fid, line, runs=21))
    row("time_span", timed(views.time_span, cur, FilterState()))
    row("column_widths of the full view", timed(views.column_widths, cur, info.table))
    row("materialise view sorted by actor",
        timed(materialise, FilterState(), "actor", False, runs=3))
    print("search (count under the chip)")
    for text in ("bucket-17", "Session-3", "10.1.2.3", "zzz-nothing"):
        st = FilterState().add(Chip.search(text))
        row(f"search {text!r} ({views.count(cur, st):,} events)",
            timed(views.count, cur, st, runs=3))
    store.close()


if __name__ == "__main__":
    main()
