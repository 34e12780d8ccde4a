"""Who did what, and when: the `actors`, `sessions` and `first_seen` views, new and rare values,
and requestParameters keys per API.

The answers are SQL views over `events` (DESIGN.md, "Answers as SQL views"), so the screens,
the SQL console and headless `--sql "SELECT * FROM actors"` read the same truth. They are plain
views, computed when asked: always in step with what is loaded (a second download appended
later included) and cheap enough at 1M events (bench/bench_views.py).

Nothing here imports Textual. Every value a caller passes reaches DuckDB as a bound parameter.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import duckdb

from trailtui.data.filters import Chip, FilterState

# Error codes that mean "you may not": IAM's AccessDenied family and EC2's UnauthorizedOperation.
DENIED_SQL: Final[str] = (
    "(errorCode ILIKE '%AccessDenied%' OR errorCode ILIKE '%UnauthorizedOperation%' "
    "OR errorCode ILIKE '%NotAuthorized%')"
)

# Calls whose responseElements.credentials.accessKeyId is a temporary credential they issued.
ISSUING_APIS: Final[tuple[str, ...]] = (
    "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot",
    "GetFederationToken", "GetSessionToken", "GetRoleCredentials",
)  # fmt: skip

_ISSUING_LIST = ", ".join(f"'{name}'" for name in ISSUING_APIS)  # our constants, not user data

def actors_select(where: str = "TRUE") -> str:
    """The `actors` query over the events matching `where` (a filter's WHERE fragment, which
    appears twice: bind its parameters twice).

    The plain counts are one aggregate per actor, numbered; the distinct counts and the ARN
    list are then grouped by that number (one integer), not by three strings each (the
    distinct aggregates hashed actor, identity type and account once per counted column).
    """
    return f"""WITH a AS (
  SELECT
    actor, identity_type, account_id,
    min(eventTime) AS first_seen,
    max(eventTime) AS last_seen,
    count(*) AS events,
    count(errorCode) AS failed,
    count(*) FILTER (WHERE {DENIED_SQL}) AS access_denied,
    count(*) FILTER (WHERE eventName = 'ConsoleLogin') AS console_logins,
    count(*) FILTER (WHERE eventName = 'ConsoleLogin'
                     AND json_extract_string(additionalEventData, '$.MFAUsed') = 'Yes')
      AS console_logins_mfa,
    row_number() OVER () AS id
  FROM events
  WHERE {where}
  GROUP BY actor, identity_type, account_id
), d AS (
  SELECT a.id,
    count(DISTINCT e.eventName) AS apis,
    count(DISTINCT e.sourceIPAddress) AS source_ips,
    count(DISTINCT e.userAgent) AS user_agents,
    count(DISTINCT e.awsRegion) AS regions,
    count(DISTINCT e.access_key) AS access_keys,
    -- The role (not each role session) for assumed roles, the identity's ARN otherwise.
    list(DISTINCT e.arn ORDER BY e.arn) FILTER (WHERE e.arn IS NOT NULL) AS arns
  FROM (SELECT *, coalesce("userIdentity".sessionContext.sessionIssuer.arn,
                           "userIdentity".arn) AS arn
        FROM events WHERE {where}) e JOIN a
    ON e.actor IS NOT DISTINCT FROM a.actor AND e.identity_type IS NOT DISTINCT FROM a.identity_type
   AND e.account_id IS NOT DISTINCT FROM a.account_id
  GROUP BY a.id
)
SELECT a.actor, a.identity_type, a.account_id, coalesce(d.arns, []) AS arns,
  a.first_seen, a.last_seen, a.events, a.failed, a.access_denied,
  d.apis, d.source_ips, d.user_agents, d.regions, d.access_keys,
  a.console_logins, a.console_logins_mfa
FROM a JOIN d USING (id)"""


ACTORS_SQL: Final[str] = "CREATE OR REPLACE VIEW actors_live AS\n" + actors_select()

# The parts of an issuing call's request and response that sessions need: each JSON object is
# parsed once (one json_extract_string per path would parse it once per path).
_RESPONSE_SPEC: Final[str] = (
    '{"credentials":{"accessKeyId":"VARCHAR"},"assumedRoleUser":{"arn":"VARCHAR"},'
    '"federatedUser":{"arn":"VARCHAR"},"sourceIdentity":"VARCHAR"}'
)
_REQUEST_SPEC: Final[str] = '{"roleArn":"VARCHAR","roleSessionName":"VARCHAR","name":"VARCHAR"}'

# One row per credential issued by an AssumeRole*/Get*Token/SSO call (the first such event
# when a download holds it twice).
CREDENTIAL_GRANTS_SQL: Final[str] = f"""CREATE OR REPLACE VIEW credential_grants_live AS
SELECT
  resp.credentials.accessKeyId AS issued_key,
  assume_event_id, assume_api, created, assumed_by, assumed_by_type, assumed_by_key,
  source_ip, assumed_in_account,
  req.roleArn AS role_arn,
  coalesce(req.roleSessionName, req.name) AS requested_name,
  resp.assumedRoleUser.arn AS assumed_arn,
  resp.federatedUser.arn AS federated_arn,
  resp.sourceIdentity AS granted_source_identity,
  assume_rid  -- which event row issued it (internal: the `credential_grants` view drops it)
FROM (
  SELECT
    json_transform(responseElements, '{_RESPONSE_SPEC}') AS resp,
    json_transform(requestParameters, '{_REQUEST_SPEC}') AS req,
    eventID AS assume_event_id,
    eventName AS assume_api,
    eventTime AS created,
    actor AS assumed_by,
    identity_type AS assumed_by_type,
    access_key AS assumed_by_key,
    sourceIPAddress AS source_ip,
    account_id AS assumed_in_account,
    rowid AS assume_rid
  FROM events
  WHERE eventName IN ({_ISSUING_LIST}) AND errorCode IS NULL
) g
-- The key test sits in QUALIFY, not WHERE: a WHERE is pushed below the projection and parses
-- responseElements a second time. It drops whole partitions, so the numbering is the same.
QUALIFY coalesce(issued_key, '') <> ''
  AND row_number() OVER (PARTITION BY issued_key
                                ORDER BY created, assume_event_id, assume_rid) = 1"""

# One row per temporary credential (ASIA... key) used or issued in the data: who it is, who
# obtained it (by the issuing event), from where, when, what it did, and the chain of roles
# that led to it (`alice -> RoleA@111111111111 -> RoleB@222222222222`).
SESSIONS_SQL: Final[str] = """CREATE OR REPLACE VIEW sessions_live AS
WITH RECURSIVE k AS (
  -- Most temporary keys make one call: their row is read as is (the aggregates of one row),
  -- and only keys seen more than once are aggregated (string min()s over ~all keys dominated).
  SELECT access_key, count(*) AS n, min(rowid) AS rid
  FROM events WHERE access_key LIKE 'ASIA%' GROUP BY access_key
), used AS (
  SELECT
    e.access_key,
    e.identity_type,
    coalesce(e."userIdentity".sessionContext.sessionIssuer.accountId,
             e."userIdentity".accountId, e.account_id) AS account_id,
    e."userIdentity".sessionContext.sessionIssuer.userName AS issuer_name,
    e."userIdentity".sessionContext.sessionIssuer.arn AS issuer,
    e."userIdentity".arn AS session_arn,
    e."userIdentity".sessionContext.sourceIdentity AS used_source_identity,
    e."userIdentity".sessionContext.attributes.mfaAuthenticated = 'true' AS mfa,
    e.eventTime AS first_used,
    e.eventTime AS last_used,
    1::BIGINT AS events,
    (e.errorCode IS NOT NULL)::BIGINT AS failed,
    (e.eventName IS NOT NULL)::BIGINT AS apis,
    e.actor AS used_actor
  FROM events e JOIN k ON e.rowid = k.rid AND k.n = 1
  UNION ALL
  SELECT
    access_key,
    min(identity_type) AS identity_type,
    -- The role's own account (a cross-account call is recorded in the callee's account too).
    min(coalesce("userIdentity".sessionContext.sessionIssuer.accountId,
                 "userIdentity".accountId, account_id)) AS account_id,
    min("userIdentity".sessionContext.sessionIssuer.userName) AS issuer_name,
    min("userIdentity".sessionContext.sessionIssuer.arn) AS issuer,
    min("userIdentity".arn) AS session_arn,
    min("userIdentity".sessionContext.sourceIdentity) AS used_source_identity,
    bool_or("userIdentity".sessionContext.attributes.mfaAuthenticated = 'true') AS mfa,
    min(eventTime) AS first_used,
    max(eventTime) AS last_used,
    count(*) AS events,
    count(errorCode) AS failed,
    count(DISTINCT eventName) AS apis,
    min(actor) AS used_actor
  FROM events
  WHERE access_key IN (SELECT access_key FROM k WHERE n > 1)
  GROUP BY access_key
), s AS (
  SELECT
    coalesce(u.access_key, g.issued_key) AS access_key,
    coalesce(u.issuer_name, regexp_extract(g.role_arn, '[^/]+$'),
             CASE WHEN g.assume_api IN ('GetSessionToken', 'GetFederationToken')
                  THEN g.assumed_by END, u.used_actor) AS role,
    coalesce(CASE WHEN u.identity_type IN ('AssumedRole', 'FederatedUser')
                  THEN regexp_extract(u.session_arn, '[^/]+$') END, g.requested_name,
             regexp_extract(coalesce(g.assumed_arn, g.federated_arn), '[^/]+$'))
      AS session_name,
    coalesce(u.issuer, g.role_arn) AS issuer,
    coalesce(u.used_source_identity, g.granted_source_identity) AS source_identity,
    coalesce(u.identity_type, CASE g.assume_api WHEN 'GetFederationToken' THEN 'FederatedUser'
                                   WHEN 'GetSessionToken' THEN g.assumed_by_type
                                   ELSE 'AssumedRole' END) AS identity_type,
    coalesce(u.account_id, regexp_extract(g.role_arn, '^arn:[^:]*:iam::(\\d+):', 1),
             g.assumed_in_account) AS account_id,
    g.assumed_by, g.assumed_by_type, g.assumed_by_key, g.assume_event_id, g.assume_api,
    g.source_ip,
    coalesce(g.created, u.first_used) AS created,
    u.first_used, u.last_used,
    coalesce(u.events, 0) AS events,
    coalesce(u.failed, 0) AS failed,
    coalesce(u.apis, 0) AS apis,
    u.mfa,
    u.session_arn
  FROM used u FULL OUTER JOIN credential_grants g ON g.issued_key = u.access_key
  WHERE coalesce(u.access_key, g.issued_key) LIKE 'ASIA%'
), n AS (
  -- How each credential shows in a chain: its role (or federated user) and account.
  SELECT *,
    coalesce(CASE WHEN identity_type = 'FederatedUser' OR assume_api = 'GetFederationToken'
                  THEN 'federated-user/' || session_name END, role, '?')
      || coalesce('@' || account_id, '') AS node
  FROM s
), parent AS (
  -- Credentials obtained by another credential in the data (a role chaining into the next).
  SELECT c.access_key, p.access_key AS parent_key, p.node AS parent_node
  FROM n c JOIN n p ON p.access_key = c.assumed_by_key AND p.access_key <> c.access_key
), walk AS (
  SELECT access_key, parent_key AS top_key, 1 AS depth, parent_node AS path FROM parent
  UNION ALL
  SELECT w.access_key, p.parent_key, w.depth + 1, p.parent_node || ' -> ' || w.path
  FROM walk w JOIN parent p ON p.access_key = w.top_key
  WHERE w.depth < 8
), deepest AS (
  SELECT * FROM walk
  QUALIFY row_number() OVER (PARTITION BY access_key ORDER BY depth DESC) = 1
)
SELECT n.* EXCLUDE (node),
  coalesce(t.assumed_by, n.assumed_by, '?') || ' -> ' || coalesce(d.path || ' -> ', '')
    || n.node AS chain,
  coalesce(d.depth, 0) AS chain_depth,
  coalesce(t.assumed_by, n.assumed_by) AS origin
FROM n
LEFT JOIN deepest d ON d.access_key = n.access_key
LEFT JOIN n t ON t.access_key = d.top_key"""

# Each field of FIRST_SEEN_FIELDS as one GROUPING SET: one scan of `events` for all of them.
FIRST_SEEN_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "actor": ("actor",),
    "source_ip": ("sourceIPAddress",),
    "user_agent": ("userAgent",),
    "api": ("eventName",),
    "region": ("awsRegion",),
    "access_key": ("access_key",),
    "actor_api": ("actor", "eventName"),
}
"""`first_seen.field` -> the `filters.COLUMNS` keys its `parts` filter on, in order."""

_GROUP_COLUMNS: Final[tuple[str, ...]] = (
    "actor", "sourceIPAddress", "userAgent", "eventName", "awsRegion", "access_key",
)  # fmt: skip


def first_seen_select(where: str = "TRUE", *, facts: bool = False) -> str:
    """The `first_seen` query over the events matching `where` (bind its parameters once;
    twice with `facts`).

    One scan of `events` for every field (one GROUPING SET each). A NULL value (no IP, no
    key) is not a value seen: those groups go in HAVING, before any list or text is built
    (building `parts` for every group and dropping most after cost as much as the scan).
    With `facts` (built by `build_facts`), an access key used once in all the loaded events
    is its one event, read as it is; only keys used more than once are grouped.
    """
    fields = {k: v for k, v in FIRST_SEEN_FIELDS.items() if not (facts and k == "access_key")}
    columns = [c for c in _GROUP_COLUMNS if any(c in cols for cols in fields.values())]
    sets = ", ".join("(" + ", ".join(f'"{c}"' for c in cols) + ")" for cols in fields.values())
    grouping = ", ".join(f'"{c}"' for c in columns)
    # grouping(...) has one bit per column, most significant first; a set's columns are 0.
    field_case, value_case, parts_case, seen_case = [], [], [], []
    for name, cols in fields.items():
        bits = sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in cols)
        quoted = [f'"{c}"' for c in cols]
        field_case.append(f"WHEN {bits} THEN '{name}'")
        value_case.append(f"WHEN {bits} THEN " + " || ' · ' || ".join(quoted))
        parts_case.append(f"WHEN {bits} THEN [{', '.join(quoted)}]")
        seen_case.append(f"WHEN {bits} THEN " + " AND ".join(f"{q} IS NOT NULL" for q in quoted))
    g = f"grouping({grouping})"
    sql = f"""SELECT
  CASE {g} {" ".join(field_case)} END AS field,
  CASE {g} {" ".join(value_case)} END AS value,
  min(eventTime) AS first_seen,
  max(eventTime) AS last_seen,
  count(*) AS events,
  CASE {g} {" ".join(parts_case)} END AS parts
FROM events
WHERE {where}
GROUP BY GROUPING SETS ({sets})
HAVING CASE {g} {" ".join(seen_case)} END"""
    if not facts:
        return sql
    return f"""WITH k AS (
  SELECT access_key, eventTime, access_key IN (SELECT access_key FROM _inv_multi_keys) AS multi
  FROM events WHERE ({where}) AND access_key IS NOT NULL
)
{sql}
UNION ALL
SELECT 'access_key', access_key, eventTime, eventTime, 1, [access_key] FROM k WHERE NOT multi
UNION ALL
SELECT 'access_key', access_key, min(eventTime), max(eventTime), count(*), [access_key]
FROM k WHERE multi GROUP BY access_key"""


FIRST_SEEN_SQL: Final[str] = "CREATE OR REPLACE VIEW first_seen_live AS\n" + first_seen_select()

VIEWS_SQL: Final[tuple[str, ...]] = (
    ACTORS_SQL, CREDENTIAL_GRANTS_SQL, SESSIONS_SQL, FIRST_SEEN_SQL,
)  # fmt: skip
VIEW_NAMES: Final[tuple[str, ...]] = ("actors", "credential_grants", "sessions", "first_seen")
"""In dependency order: `sessions` reads `credential_grants`."""

# -- facts: what a load fixes, whatever the filter ---------------------------------------------
#
# Which credential an AssumeRole*/Get*Token event issued, who a credential is (its role,
# session, account, chain) and which keys are used more than once are facts of the loaded
# events: no filter changes them. They are computed once per load into small `_inv_*` tables
# (`build_facts`, run by the app after each load and by headless mode), and the views then
# count live, from `events`, only what a filter changes. Until the facts are built (and from
# the start of every load, when `create_views` runs again) the views compute everything from
# `events`: slower, never stale.

FACT_TABLES: Final[tuple[str, ...]] = (
    "_inv_credential_grants", "_inv_sessions", "_inv_multi_keys", "_inv_stamp",
)  # fmt: skip

# What the facts were built from: a load only appends or deletes events, so the count and the
# sum of the dedup hashes change with every load that changes anything; the largest rowid
# changes when the events are copied elsewhere (a cached store made writable), which can
# number them again (the facts keep the rowids of issuing events).
_STAMP_SQL: Final[str] = ("SELECT count(*), coalesce(sum(_h), 0)::HUGEINT + "
                          "coalesce(max(rowid), -1) * 18446744073709551616::HUGEINT FROM events")

# Columns of `sessions` that count what a credential did (the rest is who it is).
_USAGE: Final[tuple[str, ...]] = ("first_used", "last_used", "events", "failed", "apis")


def actors_fast_select(where: str = "TRUE") -> str:
    """`actors_select` for when the facts are built (same rows, bind `where`'s parameters once).

    One pass over the events under `where`, kept (MATERIALIZED) for two aggregates: the plain
    counts per actor, and the distinct ones as one GROUPING SET per counted column, each
    grouped with the actor's 64-bit hash (checked one-to-one over the loaded actors when the
    facts are built), so nothing joins back to the events. A key used once in all the loaded
    events is counted without a distinct (it cannot repeat under any filter); only keys used
    more than once (`_inv_multi_keys`) are deduplicated.
    """
    return f"""WITH e AS MATERIALIZED (
  SELECT hash(actor, identity_type, account_id) AS g, actor, identity_type, account_id,
    eventTime, errorCode, eventName, sourceIPAddress, userAgent, awsRegion, access_key,
    -- flags, not the JSON text: the materialised pass then holds no long strings
    eventName = 'ConsoleLogin' AS console,
    CASE WHEN eventName = 'ConsoleLogin'
         THEN json_extract_string(additionalEventData, '$.MFAUsed') = 'Yes' END AS mfa,
    coalesce("userIdentity".sessionContext.sessionIssuer.arn, "userIdentity".arn) AS arn,
    access_key IN (SELECT access_key FROM _inv_multi_keys) AS multi
  FROM events
  WHERE {where}
), a AS (
  SELECT g, any_value(actor) AS actor, any_value(identity_type) AS identity_type,
    any_value(account_id) AS account_id,
    min(eventTime) AS first_seen,
    max(eventTime) AS last_seen,
    count(*) AS events,
    count(errorCode) AS failed,
    count(*) FILTER (WHERE {DENIED_SQL}) AS access_denied,
    count(*) FILTER (WHERE console) AS console_logins,
    count(*) FILTER (WHERE console AND mfa) AS console_logins_mfa,
    count(access_key) FILTER (WHERE NOT multi) AS single_keys
  FROM e
  GROUP BY g
), s AS (
  SELECT g, grouping(eventName, sourceIPAddress, userAgent, awsRegion, mk, arn) AS k,
    eventName, sourceIPAddress, userAgent, awsRegion, mk, arn
  FROM (SELECT g, eventName, sourceIPAddress, userAgent, awsRegion, arn,
               CASE WHEN multi THEN access_key END AS mk FROM e)
  GROUP BY GROUPING SETS ((g, eventName), (g, sourceIPAddress), (g, userAgent),
                          (g, awsRegion), (g, mk), (g, arn))
), d AS (
  -- grouping() has one bit per column, most significant first; a set's column is 0.
  SELECT g,
    count(eventName) FILTER (WHERE k = 31) AS apis,
    count(sourceIPAddress) FILTER (WHERE k = 47) AS source_ips,
    count(userAgent) FILTER (WHERE k = 55) AS user_agents,
    count(awsRegion) FILTER (WHERE k = 59) AS regions,
    count(mk) FILTER (WHERE k = 61) AS multi_keys,
    list(arn ORDER BY arn) FILTER (WHERE k = 62 AND arn IS NOT NULL) AS arns
  FROM s
  GROUP BY g
)
SELECT actor, identity_type, account_id, coalesce(arns, []) AS arns,
  first_seen, last_seen, events, failed, access_denied,
  apis, source_ips, user_agents, regions, single_keys + multi_keys AS access_keys,
  console_logins, console_logins_mfa
FROM a JOIN d USING (g)"""


def sessions_fast_select(where: str | None = None) -> str:
    """`sessions` from the facts: who each credential is comes from `_inv_sessions`, what it
    did is counted from the events under `where` (bind its parameters twice).

    Without a filter a credential used once (most, in generated data) is its one event, kept
    in the facts; the keys used more than once are counted again from their events. With a
    filter, a credential is listed when one of its events, or the event that issued it, is
    under the filter, and its counts are those of its events under the filter.
    """
    cols = ("access_key, role, session_name, issuer, source_identity, identity_type, "
            "account_id, assumed_by, assumed_by_type, assumed_by_key, assume_event_id, "
            "assume_api, source_ip, created")
    tail = "mfa, session_arn, chain, chain_depth, origin"
    usage = """count(*) AS events, count(errorCode) AS failed,
      count(DISTINCT eventName) AS apis, min(eventTime) AS first_used,
      max(eventTime) AS last_used"""  # the order of the singles' columns below
    if where is None:
        return f"""WITH m AS (
  SELECT access_key, {usage}
  FROM events
  WHERE access_key IN (SELECT access_key FROM _inv_sessions WHERE events > 1)
  GROUP BY access_key
)
SELECT {cols}, first_used, last_used, events, failed, apis, {tail}
FROM _inv_sessions WHERE events <= 1
UNION ALL
SELECT {cols.replace("access_key,", "s.access_key,", 1)}, m.first_used, m.last_used,
  m.events, m.failed, m.apis, {tail}
FROM _inv_sessions s JOIN m ON m.access_key = s.access_key"""
    # A key used once in all the loaded events is its one event under any filter: read as
    # it is; only keys used more than once are grouped (count(DISTINCT) was a third).
    return f"""WITH f AS (
  SELECT access_key, eventTime, errorCode, eventName,
    access_key IN (SELECT access_key FROM _inv_multi_keys) AS multi
  FROM events
  WHERE ({where}) AND access_key LIKE 'ASIA%'
), m AS (
  SELECT access_key, 1::BIGINT AS events, (errorCode IS NOT NULL)::BIGINT AS failed,
    (eventName IS NOT NULL)::BIGINT AS apis, eventTime AS first_used, eventTime AS last_used
  FROM f WHERE NOT multi
  UNION ALL
  SELECT access_key, {usage} FROM f WHERE multi GROUP BY access_key
), issued AS (
  SELECT rowid AS rid FROM events
  WHERE ({where}) AND eventName IN ({_ISSUING_LIST}) AND errorCode IS NULL
)
SELECT {cols.replace("access_key,", "s.access_key,", 1)}, m.first_used, m.last_used,
  coalesce(m.events, 0) AS events, coalesce(m.failed, 0) AS failed,
  coalesce(m.apis, 0) AS apis, {tail}
FROM _inv_sessions s LEFT JOIN m ON m.access_key = s.access_key
WHERE m.access_key IS NOT NULL OR s.assume_rid IN (SELECT rid FROM issued)"""


def _stamp(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = con.execute(_STAMP_SQL).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def facts_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the facts were built from the events loaded now (and the views read them)."""
    try:
        row = con.execute("SELECT events, h FROM _inv_stamp").fetchone()
    except duckdb.Error:  # never built (or dropped)
        return False
    return row is not None and (int(row[0]), int(row[1])) == _stamp(con)


def build_facts(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Compute the facts of the loaded events and point the views at their fast forms.

    Seconds per step. Run once per load (the app after each load, in a worker; headless
    mode before it answers); `ensure_facts` skips it when the facts are current. If events
    were added meanwhile, or it is interrupted, the views stay (or go back to) computing
    everything from `events`.
    """
    import time

    seconds: dict[str, float] = {}
    try:
        create_views(con)  # the full forms, which the facts are computed with
        stamp = _stamp(con)
        t0 = time.perf_counter()
        con.execute("CREATE OR REPLACE TABLE _inv_credential_grants AS "
                    "SELECT * FROM credential_grants_live").fetchall()
        con.execute("CREATE OR REPLACE VIEW credential_grants AS "
                    "SELECT * EXCLUDE (assume_rid) FROM _inv_credential_grants").fetchall()
        seconds["credential_grants"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        con.execute("""CREATE OR REPLACE TABLE _inv_sessions AS
            SELECT s.*, g.assume_rid FROM sessions_live s
            LEFT JOIN _inv_credential_grants g ON g.issued_key = s.access_key""").fetchall()
        seconds["sessions"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        con.execute("""CREATE OR REPLACE TABLE _inv_multi_keys AS
            SELECT access_key FROM events WHERE access_key IS NOT NULL
            GROUP BY access_key HAVING count(*) > 1""").fetchall()
        one_to_one = con.execute(
            "SELECT count(*) = count(DISTINCT g) FROM (SELECT DISTINCT actor, identity_type, "
            "account_id, hash(actor, identity_type, account_id) AS g FROM events)").fetchall()
        seconds["actors"] = time.perf_counter() - t0
        con.execute("CREATE OR REPLACE VIEW sessions AS " + sessions_fast_select()).fetchall()
        con.execute("CREATE OR REPLACE VIEW first_seen AS "
                    + first_seen_select(facts=True)).fetchall()
        actors_fast = bool(one_to_one and one_to_one[0][0])  # False on a hash collision
        if actors_fast:
            con.execute("CREATE OR REPLACE VIEW actors AS " + actors_fast_select()).fetchall()
        if _stamp(con) != stamp:  # a load ran meanwhile
            create_views(con)
            return seconds
        con.execute("CREATE OR REPLACE TABLE _inv_stamp AS SELECT ?::BIGINT AS events, "
                    "?::HUGEINT AS h, ?::BOOLEAN AS actors_fast",
                    [*stamp, actors_fast]).fetchall()
    except duckdb.Error:  # interrupted, or a load started: the full forms are always right
        create_views(con)
    return seconds


_BUILDING = threading.Lock()  # one build at a time (the app's hook and a screen may both ask)


def ensure_facts(con: duckdb.DuckDBPyConnection) -> bool:
    """Build the facts unless they are current (a cheap check: one pass over two columns);
    whether they are current now (False when interrupted or a load ran meanwhile)."""
    with _BUILDING:
        if not facts_fresh(con):
            build_facts(con)
        return facts_fresh(con)


def materialise(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Former name of `build_facts` (the views are no longer copied whole into tables)."""
    return build_facts(con)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the investigation views in their full forms (no facts needed).

    Each name is a view over `<name>_live` (the query itself) until `build_facts` points it
    at its fast form. `EventStore` calls this when it is created and when a load starts, so
    what the views answer is never older than the events.
    """
    with contextlib.suppress(duckdb.Error):  # a read-only connection: nothing to forget
        con.execute("DROP TABLE IF EXISTS _inv_stamp").fetchall()
    for stmt, name in zip(VIEWS_SQL, VIEW_NAMES, strict=True):
        con.execute(stmt).fetchall()
        hide = " EXCLUDE (assume_rid)" if name == "credential_grants" else ""
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT *{hide} FROM {name}_live"
                    ).fetchall()


# -- reading them ----------------------------------------------------------------------------


def _rows(cur: duckdb.DuckDBPyConnection, sql: str,
          params: Sequence[object] | None = None) -> list[dict[str, Any]]:
    res = cur.execute(sql, params)
    names = [d[0] for d in res.description or ()]
    return [dict(zip(names, row, strict=True)) for row in res.fetchall()]


ACTOR_SORTS: Final[dict[str, str]] = {
    "events": "events DESC", "last_seen": "last_seen DESC NULLS LAST",
    "first_seen": "first_seen DESC NULLS LAST", "failed": "failed DESC",
    "access_denied": "access_denied DESC", "apis": "apis DESC", "source_ips": "source_ips DESC",
    "actor": "actor",
}  # fmt: skip
"""Sort keys the actors list offers -> ORDER BY text (a fixed list: never user text)."""


def actors(cur: duckdb.DuckDBPyConnection, filters: FilterState | None = None,
           sort: str = "events") -> list[dict[str, Any]]:
    """The `actors` rows for the events under `filters` (all events without), sorted."""
    return actors_counted(cur, filters, sort)[0]


def actors_counted(cur: duckdb.DuckDBPyConnection, filters: FilterState | None = None,
                   sort: str = "events", limit: int | None = None,
                   ) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` `actors` rows under `filters`, sorted, and how many there are in all
    (what the A screen shows: ~30,000 actors at a million events, as Python dicts, cost more
    than counting them)."""
    order = ACTOR_SORTS.get(sort, ACTOR_SORTS["events"])
    if not filters:
        sql, args = "actors", []
    else:
        where, params = filters.where()
        if ensure_facts(cur) and _actors_fast(cur):
            sql, args = f"({actors_fast_select(where)})", list(params)
        else:
            sql, args = f"({actors_select(where)})", [*params, *params]
    tail = " LIMIT ?" if limit is not None else ""
    got = _rows(cur, f"SELECT *, count(*) OVER () AS _total FROM {sql} "
                     f"ORDER BY {order}, actor, account_id{tail}",
                [*args, int(limit)] if limit is not None else args)
    total = int(got[0]["_total"]) if got else 0
    for row in got:
        del row["_total"]
    return got, total


def _actors_fast(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether `build_facts` found the actor hash one-to-one (the `actors` view then reads
    the fast form)."""
    row = cur.execute("SELECT actors_fast FROM _inv_stamp").fetchone()
    return bool(row and row[0])


def actor_chips(row: Mapping[str, object]) -> list[Chip]:
    """The chips that filter the table to one `actors` row (actor, and its account/type)."""
    chips = [Chip.include("actor", _text(row.get("actor")))]
    for key in ("identity_type", "account_id"):
        value = row.get(key)
        chips.append(Chip.include(key, value if isinstance(value, str) else None))
    return chips


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ActorDetail:
    """What one actor did: top APIs with counts and failures, and events per day."""

    top_apis: list[tuple[str, int, int]]  # (eventName, events, failed)
    per_day: list[tuple[datetime, int, int]]  # (day, events, failed), oldest first, no gaps


def actor_detail(cur: duckdb.DuckDBPyConnection, row: Mapping[str, object],
                 filters: FilterState | None = None, top: int = 10) -> ActorDetail:
    """Top APIs and a per-day activity strip for the actor of an `actors` row."""
    state = filters or FilterState()
    for chip in actor_chips(row):
        state = state.add(chip)
    where, params = state.where()
    apis = cur.execute(
        f"SELECT coalesce(eventName, '(none)'), count(*), count(errorCode) FROM events "
        f"WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?", [*params, int(top)]).fetchall()
    days = cur.execute(
        f"""WITH d AS (
              SELECT date_trunc('day', eventTime) AS day, count(*) AS n, count(errorCode) AS f
              FROM events WHERE {where} AND eventTime IS NOT NULL GROUP BY 1),
            r AS (SELECT unnest(generate_series(min(day), max(day), INTERVAL 1 DAY)) AS day
                  FROM d)
            SELECT r.day, coalesce(d.n, 0), coalesce(d.f, 0) FROM r LEFT JOIN d USING (day)
            ORDER BY r.day""", params).fetchall()
    return ActorDetail([(str(a), int(n), int(f)) for a, n, f in apis],
                       [(d, int(n), int(f)) for d, n, f in days])


def _sessions_source(cur: duckdb.DuckDBPyConnection,
                     filters: FilterState | None) -> tuple[str, list[object]]:
    """FROM text and parameters of the sessions under `filters` (the view without)."""
    if not filters:
        return "sessions", []
    where, params = filters.where()
    if not ensure_facts(cur):
        raise duckdb.InterruptException("the events changed while sessions were counted")
    return f"({sessions_fast_select(where)})", [*params, *params]


def sessions(cur: duckdb.DuckDBPyConnection, limit: int | None = None,
             filters: FilterState | None = None) -> list[dict[str, Any]]:
    """`sessions` rows, most recently used first (the first `limit` of them).

    Under `filters`: the credentials with an event, or their issuing event, under the filter;
    who each one is stays the same, what it did is counted over the events under the filter.
    """
    source, params = _sessions_source(cur, filters)
    sql = f"SELECT * FROM {source} ORDER BY coalesce(last_used, created) DESC, access_key"
    if limit is None:
        return _rows(cur, sql, params)
    return _rows(cur, sql + " LIMIT ?", [*params, int(limit)])


def session_counts(cur: duckdb.DuckDBPyConnection,
                   filters: FilterState | None = None) -> tuple[int, int, int]:
    """(credentials, with their issuing event, chained from another session)."""
    source, params = _sessions_source(cur, filters)
    row = cur.execute("SELECT count(*), count(assume_event_id), count(*) FILTER "
                      f"(WHERE chain_depth > 0) FROM {source}", params).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def sessions_counted(cur: duckdb.DuckDBPyConnection, limit: int,
                     filters: FilterState | None = None,
                     ) -> tuple[list[dict[str, Any]], tuple[int, int, int]]:
    """`sessions(limit=...)` and `session_counts`: what the K screen shows. Two statements:
    a window count beside ORDER BY ... LIMIT made DuckDB sort every row whole (7.6 s at
    200k instead of 50 ms)."""
    return sessions(cur, limit, filters), session_counts(cur, filters)


# -- new and rare ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewValue:
    """One value first seen in the window, or rare over everything loaded."""

    field: str
    value: str
    parts: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    events: int
    new: bool
    rare: bool

    def chips(self) -> list[Chip]:
        """The chips that filter the table to this value (two for an actor+API pair)."""
        return [Chip.include(col, part)
                for col, part in zip(FIRST_SEEN_FIELDS[self.field], self.parts, strict=True)]


def under(filters: FilterState | None) -> str:
    """What a list was counted over, for its title: "" (every event) or "under 2 filters"."""
    n = len(filters.chips) if filters else 0
    return f"under {n} filter{'s' if n != 1 else ''}" if n else ""


def _where(filters: FilterState | None) -> tuple[str, list[object]]:
    if not filters:
        return "TRUE", []
    where, params = filters.where()
    return where, list(params)


def _first_seen_source(cur: duckdb.DuckDBPyConnection,
                       filters: FilterState | None) -> tuple[str, list[object]]:
    """FROM text and parameters of `first_seen` under `filters` (the view without)."""
    if not filters:
        return "first_seen", []
    where, params = filters.where()
    if ensure_facts(cur):
        return f"({first_seen_select(where, facts=True)})", [*params, *params]
    return f"({first_seen_select(where)})", list(params)


def new_and_rare(
    cur: duckdb.DuckDBPyConnection,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    window: timedelta = timedelta(days=1),
    rare_max: int = 1,
    fields: Sequence[str] | None = None,
    limit: int = 2000,
    filters: FilterState | None = None,
) -> list[NewValue]:
    """Values first seen in [start, end) and values seen at most `rare_max` times.

    Default window: the last `window` (one day) before the newest event, against everything
    before it. New values come first (newest first), then rare ones (fewest events first), at
    most `limit` (a million events can hold a hundred thousand one-off access keys).
    Under `filters` only the events under the filter count: first seen, events and the
    newest event are theirs.
    """
    chosen = [f for f in (fields or FIRST_SEEN_FIELDS) if f in FIRST_SEEN_FIELDS]
    source, fparams = _first_seen_source(cur, filters)
    if start is None:
        newest = cur.execute(f"SELECT max(eventTime) FROM events WHERE {_where(filters)[0]}",
                             _where(filters)[1]).fetchone()
        if newest is None or newest[0] is None:
            return []
        start = newest[0] - window
    rows = cur.execute(
        f"""SELECT field, value, parts, first_seen, last_seen, events,
                  first_seen >= ? AND (? IS NULL OR first_seen < ?) AS new,
                  events <= ? AS rare
           FROM {source}
           WHERE field IN (SELECT unnest(?::VARCHAR[]))
             AND ((first_seen >= ? AND (? IS NULL OR first_seen < ?)) OR events <= ?)
           ORDER BY new DESC, CASE WHEN new THEN epoch(first_seen) ELSE -events END DESC,
                    field, value
           LIMIT ?""",
        [start, end, end, int(rare_max), *fparams, chosen, start, end, end, int(rare_max),
         int(limit)],
    ).fetchall()
    return [NewValue(str(f), str(v), tuple(p), fs, ls, int(n), bool(nw), bool(r))
            for f, v, p, fs, ls, n, nw, r in rows]


def new_and_rare_counts(
    cur: duckdb.DuckDBPyConnection,
    *,
    window: timedelta = timedelta(days=1),
    rare_max: int = 1,
    filters: FilterState | None = None,
) -> tuple[int, int, int]:
    """How many values are new in the last `window`, how many rare, and how many either.

    `new_and_rare` stops at `limit` rows (new first), so its rows cannot be counted for the
    title: at the demo's 3,000 events the list held 514 of 4,369 rare values.
    """
    where, params = _where(filters)
    source, fparams = _first_seen_source(cur, filters)
    row = cur.execute(
        f"""WITH v AS (SELECT first_seen >= (SELECT max(eventTime) FROM events WHERE {where})
                                - ? AS new,
                             events <= ? AS rare
                      FROM {source} WHERE field IN (SELECT unnest(?::VARCHAR[])))
           SELECT count(*) FILTER (WHERE new), count(*) FILTER (WHERE rare),
                  count(*) FILTER (WHERE new OR rare) FROM v""",
        [*params, window, int(rare_max), *fparams, list(FIRST_SEEN_FIELDS)],
    ).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def new_and_rare_counted(
    cur: duckdb.DuckDBPyConnection,
    *,
    window: timedelta = timedelta(days=1),
    rare_max: int = 1,
    filters: FilterState | None = None,
    limit: int = 2000,
) -> tuple[list[NewValue], tuple[int, int, int]]:
    """`new_and_rare` and `new_and_rare_counts` (every field, the last `window`): what the N
    screen shows. Two statements: window counts beside ORDER BY ... LIMIT made DuckDB sort
    every value whole (8 s at 200k instead of 0.1 s)."""
    return (new_and_rare(cur, window=window, rare_max=rare_max, filters=filters, limit=limit),
            new_and_rare_counts(cur, window=window, rare_max=rare_max, filters=filters))


# -- requestParameters -----------------------------------------------------------------------


def request_parameter_keys(cur: duckdb.DuckDBPyConnection,
                           filters: FilterState | None = None) -> list[tuple[str, str, int]]:
    """(eventName, key, events having it) for the events under `filters`; most used first."""
    where, params = (filters or FilterState()).where()
    rows = cur.execute(
        f"""SELECT eventName, key, count(*) AS n FROM (
              SELECT eventName, unnest(json_keys(requestParameters)) AS key FROM events
              WHERE ({where}) AND json_type(requestParameters) = 'OBJECT')
            GROUP BY ALL ORDER BY eventName, n DESC, key""", params).fetchall()
    return [(str(e), str(k), int(n)) for e, k, n in rows]


def request_parameter_values(cur: duckdb.DuckDBPyConnection, key: str,
                             filters: FilterState | None = None,
                             limit: int = 1000) -> list[tuple[str | None, int]]:
    """A facet on `requestParameters.<key>`: each value (JSON text for objects) and its count
    under `filters`, most first. Filter on one with `Chip.include(param_column(key), value)`."""
    from trailtui.data.filters import param_column  # one definition of the expression

    col = param_column(key)
    expr, col_params = _param_expr(col)
    where, params = (filters or FilterState()).where()
    rows = cur.execute(
        f"SELECT {expr} AS v, count(*) FROM events WHERE ({where}) "
        f"AND json_type(requestParameters) = 'OBJECT' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
        [*col_params, *params, int(limit)]).fetchall()
    return [(v, int(n)) for v, n in rows]


def _param_expr(column: str) -> tuple[str, list[object]]:
    from trailtui.data.filters import column_sql

    return column_sql(column)
