"""The events table: CloudTrail's own field names, fixed types, and the derived columns the UI
needs.

DuckDB is given an explicit schema (never auto-detection): scalars are read as VARCHAR and
converted here, heterogeneous objects stay JSON. Auto-detection changes types between files and
DuckDB versions and one odd late record can stop a whole load (see DESIGN.md).
"""

from __future__ import annotations

from typing import Final

# Top-level fields read from each record, in CloudTrail's documented order. VARCHAR fields are
# converted in `PROJECTION`; JSON fields keep whatever shape the record had.
RAW_COLUMNS: Final[dict[str, str]] = {
    "eventVersion": "VARCHAR",
    "userIdentity": "JSON",
    "eventTime": "VARCHAR",
    "@timestamp": "VARCHAR",
    "eventSource": "VARCHAR",
    "eventName": "VARCHAR",
    "awsRegion": "VARCHAR",
    "sourceIPAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "errorCode": "VARCHAR",
    "errorMessage": "VARCHAR",
    "requestParameters": "JSON",
    "responseElements": "JSON",
    "additionalEventData": "JSON",
    "requestID": "VARCHAR",
    "eventID": "VARCHAR",
    "readOnly": "VARCHAR",
    "resources": "JSON",
    "eventType": "VARCHAR",
    "apiVersion": "VARCHAR",
    "managementEvent": "VARCHAR",
    "recipientAccountId": "VARCHAR",
    "sharedEventID": "VARCHAR",
    "vpcEndpointId": "VARCHAR",
    "vpcEndpointAccountId": "VARCHAR",
    "eventCategory": "VARCHAR",
    "serviceEventDetails": "JSON",
    "sessionCredentialFromConsole": "VARCHAR",
    "tlsDetails": "JSON",
    "insightDetails": "JSON",
    "addendum": "JSON",
    "edgeDeviceDetails": "JSON",
    "eventContext": "JSON",
}

# Every documented userIdentity field (CloudTrail userIdentity element, incl. IdentityCenterUser
# and inScopeOf). json_transform is lenient: a field of another JSON type becomes its JSON text
# or NULL, never an error, and the original record is kept for the detail view.
_SESSION_ISSUER = (
    '{"type":"VARCHAR","principalId":"VARCHAR","arn":"VARCHAR","accountId":"VARCHAR",'
    '"userName":"VARCHAR"}'
)
USER_IDENTITY_SPEC: Final[str] = (
    '{"type":"VARCHAR","principalId":"VARCHAR","arn":"VARCHAR","accountId":"VARCHAR",'
    '"accessKeyId":"VARCHAR","userName":"VARCHAR","invokedBy":"VARCHAR",'
    '"identityProvider":"VARCHAR","credentialId":"VARCHAR",'
    '"sessionContext":{"sessionIssuer":' + _SESSION_ISSUER + ','
    '"webIdFederationData":{"federatedProvider":"VARCHAR","attributes":"JSON"},'
    '"attributes":{"creationDate":"VARCHAR","mfaAuthenticated":"VARCHAR"},'
    '"sourceIdentity":"VARCHAR","ec2RoleDelivery":"VARCHAR","ec2IssuedInVpc":"VARCHAR",'
    '"assumedRoot":"VARCHAR"},'
    '"onBehalfOf":{"userId":"VARCHAR","identityStoreArn":"VARCHAR"},'
    '"inScopeOf":{"issuerType":"VARCHAR","credentialsIssuedTo":"VARCHAR",'
    '"sourceArn":"VARCHAR","sourceAccount":"VARCHAR"}}'
)

_TIME_FORMATS: Final[tuple[str, ...]] = (
    "%Y%m%dT%H%M%SZ",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y, %I:%M:%S %p",
)


def _sql_str(text: str) -> str:
    """Quote a constant of ours as a SQL string literal (never used for user data)."""
    return "'" + text.replace("'", "''") + "'"


def time_expr(col: str) -> str:
    """SQL turning any CloudTrail time text into a UTC TIMESTAMP, NULL when nothing parses.

    CloudTrail's own `2024-01-01T00:00:00Z` takes a cheap strptime first; ISO 8601 with a
    space, fractions to nanoseconds and offsets go through TIMESTAMPTZ (session time zone is
    UTC); the basic and US formats seen in the samples through the other strptime formats.
    """
    formats = "[" + ", ".join(_sql_str(f) for f in _TIME_FORMATS) + "]"
    return (
        f"coalesce(try_strptime({col}, '%Y-%m-%dT%H:%M:%SZ'), "
        f"TRY_CAST(TRY_CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP), "
        f"try_strptime({col}, {formats}))"
    )


def bool_expr(col: str) -> str:
    """`true`, `"true"`, `"True"` -> TRUE; absent stays NULL (old records never say)."""
    return (
        f"CASE {col} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE ELSE "
        f"CASE lower(trim({col})) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE "
        f"WHEN '1' THEN TRUE WHEN '0' THEN FALSE END END"
    )


# The readable actor, per identity type (see research/data.md pitfall 7).
ACTOR_EXPR: Final[str] = """CASE
    WHEN ui.type = 'Root' THEN 'root'
    WHEN ui.type = 'AssumedRole' THEN coalesce(
        nullif(ui.sessionContext.sessionIssuer.userName, ''),
        nullif(split_part(ui.arn, '/', 2), ''), ui.principalId, 'AssumedRole')
    WHEN ui.type = 'IAMUser' THEN coalesce(nullif(ui.userName, ''),
        nullif(regexp_extract(ui.arn, '[^/]+$'), ''), ui.principalId, 'IAMUser')
    WHEN ui.type = 'AWSService' THEN coalesce(ui.invokedBy, 'AWSService')
    WHEN ui.type = 'FederatedUser' THEN coalesce(
        nullif(regexp_extract(ui.arn, '[^/]+$'), ''),
        nullif(ui.sessionContext.sessionIssuer.userName, ''), ui.principalId, 'FederatedUser')
    WHEN ui.type = 'AWSAccount' THEN 'account ' || coalesce(ui.accountId, '?')
        || coalesce(' ' || ui.principalId, '')
    WHEN ui.type = 'IdentityCenterUser' THEN coalesce(ui.onBehalfOf.userId, ui.credentialId,
        'IdentityCenterUser')
    WHEN ui.type IN ('SAMLUser', 'WebIdentityUser') THEN coalesce(nullif(ui.userName, ''),
        ui.principalId, ui.type)
    WHEN ui.type IS NOT NULL THEN coalesce(nullif(ui.userName, ''), ui.invokedBy,
        ui.principalId, ui.type)
    WHEN ui.invokedBy IS NOT NULL THEN ui.invokedBy
    WHEN nullif(ui.userName, '') IS NOT NULL THEN ui.userName
    WHEN r."eventType" = 'AwsCloudTrailInsight' THEN 'CloudTrail Insights'
    ELSE 'unknown'
END"""

# Final column order of the `events` table. The `_` columns are trailtui's own bookkeeping.
EVENT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("eventTime", "TIMESTAMP"),
    ("eventVersion", "VARCHAR"),
    ("userIdentity", "STRUCT"),
    ("eventSource", "VARCHAR"),
    ("eventName", "VARCHAR"),
    ("awsRegion", "VARCHAR"),
    ("sourceIPAddress", "VARCHAR"),
    ("userAgent", "VARCHAR"),
    ("errorCode", "VARCHAR"),
    ("errorMessage", "VARCHAR"),
    ("requestParameters", "JSON"),
    ("responseElements", "JSON"),
    ("additionalEventData", "JSON"),
    ("requestID", "VARCHAR"),
    ("eventID", "VARCHAR"),
    ("readOnly", "BOOLEAN"),
    ("resources", "JSON"),
    ("eventType", "VARCHAR"),
    ("apiVersion", "VARCHAR"),
    ("managementEvent", "BOOLEAN"),
    ("recipientAccountId", "VARCHAR"),
    ("sharedEventID", "VARCHAR"),
    ("vpcEndpointId", "VARCHAR"),
    ("vpcEndpointAccountId", "VARCHAR"),
    ("eventCategory", "VARCHAR"),
    ("serviceEventDetails", "JSON"),
    ("sessionCredentialFromConsole", "BOOLEAN"),
    ("tlsDetails", "JSON"),
    ("insightDetails", "JSON"),
    ("addendum", "JSON"),
    ("edgeDeviceDetails", "JSON"),
    ("eventContext", "JSON"),
    ("actor", "VARCHAR"),
    ("identity_type", "VARCHAR"),
    ("access_key", "VARCHAR"),
    ("account_id", "VARCHAR"),
    ("region", "VARCHAR"),
    ("year", "VARCHAR"),
    ("month", "VARCHAR"),
    ("day", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("_file_id", "INTEGER"),
    ("_line", "INTEGER"),
    ("_h", "UBIGINT"),
)

COLUMN_NAMES: Final[tuple[str, ...]] = tuple(name for name, _ in EVENT_COLUMNS)
# Columns a user sees in `SELECT *`-style exports; bookkeeping columns excluded.
PUBLIC_COLUMNS: Final[tuple[str, ...]] = tuple(n for n in COLUMN_NAMES if not n.startswith("_"))


# What `_h` hashes: enough to pair copies of one event, cheap to hash (see DEDUP_SQL).
_HASHED: Final[tuple[str, ...]] = (
    "eventID", "eventTime", "@timestamp", "eventName", "eventSource", "requestID",
)


def insert_sql(*, file_id: int, single_source: bool = False, lines: int | None = None) -> str:
    """INSERT parsing one NDJSON chunk (`$path`, `lines` lines) into `events`.

    Each line finds its input file in `chunk_sources` (small files share a chunk), with the
    partition values of an S3 `AWSLogs/<account>/CloudTrail/<region>/<y>/<m>/<d>/` path, which
    win as they do in Athena's partitioned table. `_h` hashes the record's content so
    overlapping downloads pair up as dedup candidates (DEDUP_SQL compares them fully).
    """
    columns_literal = "{" + ", ".join(f"'{k}': '{v}'" for k, v in RAW_COLUMNS.items()) + "}"
    sources = f"(SELECT * FROM chunk_sources WHERE chunk_id = {int(file_id)}) f"
    if single_source:
        # A chunk from one file (every big file) takes its one source row by a cross join.
        join = f"CROSS JOIN {sources}"
    elif lines is None:
        join = f"ASOF JOIN {sources}\n  ON r._line >= f.first_line"
    else:
        # Chunks of many small files (S3 trees): each file's line range is spelled out as
        # rows and joined on equality. A hash join streams the parsed rows; the ASOF JOIN it
        # replaces sorted and materialised every one of them first (1.5-2x the INSERT's time
        # and ~300 MB per 50k-line chunk of a tree).
        join = (
            "JOIN (SELECT unnest(range(first_line, coalesce(lead(first_line) OVER "
            f"(ORDER BY first_line), {int(lines)}))) AS _at, * FROM {sources}) f\n"
            "  ON r._line = f._at"
        )
    et_src = time_expr('coalesce("eventTime", "@timestamp")')
    insight_src = "json_extract_string(r.insightDetails, '$.eventSource')"
    insight_name = "json_extract_string(r.insightDetails, '$.eventName')"
    hashed = ", ".join(f'r."{c}"' for c in _HASHED)
    cols = {
        "eventTime": "et",
        "eventVersion": "r.eventVersion",
        "userIdentity": "ui",
        "eventSource": f"coalesce(r.eventSource, {insight_src})",
        "eventName": f"coalesce(r.eventName, {insight_name})",
        "awsRegion": "r.awsRegion",
        "sourceIPAddress": "r.sourceIPAddress",
        "userAgent": "r.userAgent",
        "errorCode": "nullif(r.errorCode, '')",
        "errorMessage": "r.errorMessage",
        "requestParameters": "r.requestParameters",
        "responseElements": "r.responseElements",
        "additionalEventData": "r.additionalEventData",
        "requestID": "r.requestID",
        "eventID": "r.eventID",
        "readOnly": bool_expr("r.readOnly"),
        "resources": "r.resources",
        "eventType": "r.eventType",
        "apiVersion": "r.apiVersion",
        "managementEvent": bool_expr("r.managementEvent"),
        "recipientAccountId": "r.recipientAccountId",
        "sharedEventID": "r.sharedEventID",
        "vpcEndpointId": "r.vpcEndpointId",
        "vpcEndpointAccountId": "r.vpcEndpointAccountId",
        "eventCategory": "r.eventCategory",
        "serviceEventDetails": "r.serviceEventDetails",
        "sessionCredentialFromConsole": bool_expr("r.sessionCredentialFromConsole"),
        "tlsDetails": "r.tlsDetails",
        "insightDetails": "r.insightDetails",
        "addendum": "r.addendum",
        "edgeDeviceDetails": "r.edgeDeviceDetails",
        "eventContext": "r.eventContext",
        "actor": ACTOR_EXPR,
        "identity_type": "coalesce(ui.type, CASE WHEN ui.invokedBy IS NOT NULL "
        "THEN 'AWSService' END)",
        "access_key": "nullif(ui.accessKeyId, '')",
        "account_id": "coalesce(f.acct, r.recipientAccountId, ui.accountId)",
        "region": "coalesce(f.region, r.awsRegion)",
        "year": "coalesce(f.y, strftime(et, '%Y'))",
        "month": "coalesce(f.m, strftime(et, '%m'))",
        "day": "coalesce(f.d, strftime(et, '%d'))",
        "source_file": "f.src",
        "_file_id": str(int(file_id)),
        "_line": "r._line",
        "_h": f"hash({hashed})",
    }
    select = ",\n  ".join(f'{expr} AS "{name}"' for name, expr in cols.items())
    spec = USER_IDENTITY_SPEC.replace("'", "''")
    return f"""INSERT INTO events
WITH src AS (
  SELECT *, ordinality - 1 AS _line
  FROM read_ndjson($path, columns={columns_literal}, format='newline_delimited',
                   records=true) WITH ORDINALITY
), r AS (
  SELECT *, json_transform("userIdentity", '{spec}') AS ui, {et_src} AS et
  FROM src
)
SELECT
  {select}
FROM r {join}"""


# After each chunk: drop its rows whose content is already loaded (an earlier file, or an
# earlier line of the same chunk). Keyed on (eventID, content hash), not eventID alone.
_CONTENT_COLUMNS: Final[tuple[str, ...]] = tuple(
    name for name, _ in EVENT_COLUMNS[: [n for n, _ in EVENT_COLUMNS].index("actor")]
)
# After each chunk: drop its rows whose content is already loaded (an earlier file, or an
# earlier line of the same chunk). `_h` hashes a few cheap identifying fields only (hashing
# every JSON column cost 40% of a load); the candidates it pairs are then compared on every
# CloudTrail field, so two records that share an eventID but differ are both kept.
DEDUP_SQL: Final[str] = (
    "DELETE FROM events WHERE rowid IN (\n"
    "  WITH cand AS (\n"
    "    SELECT n.rowid AS nr, o.rowid AS orow\n"
    "    FROM (SELECT rowid, _h, _file_id, _line FROM events WHERE _file_id = $fid) n\n"
    "    JOIN (SELECT rowid, _h, _file_id, _line FROM events\n"
    "          WHERE _h IN (SELECT _h FROM events WHERE _file_id = $fid)) o\n"
    "      ON o._h = n._h AND (o._file_id < n._file_id\n"
    "                          OR (o._file_id = n._file_id AND o._line < n._line))\n"
    "  )\n"
    "  SELECT c.nr FROM cand c JOIN events n ON n.rowid = c.nr JOIN events o ON o.rowid = c.orow\n"
    "  WHERE "
    + "\n    AND ".join(f'o."{c}" IS NOT DISTINCT FROM n."{c}"' for c in _CONTENT_COLUMNS)
    + "\n)"
)

# Then: the rows of events whose eventID occurs more than once and touches this chunk, oldest
# first. `_h` hashes JSON columns as text, so a copy whose nested keys come in another order
# (a sorted-keys export) differs there; the store compares these few by parsed content.
SAME_ID_SQL: Final[str] = """WITH dup AS (
  SELECT eventID FROM events
  WHERE eventID IN (SELECT eventID FROM events WHERE _file_id = $fid)
  GROUP BY eventID HAVING count(*) > 1
)
SELECT eventID, rowid, _file_id, _line FROM events
WHERE eventID IN (SELECT eventID FROM dup)
ORDER BY eventID, _file_id, _line"""

_ATHENA_COLUMNS = """
  eventVersion AS eventversion, userIdentity AS useridentity,
  strftime(eventTime, '%Y-%m-%dT%H:%M:%SZ') AS eventtime,
  eventSource AS eventsource, eventName AS eventname, awsRegion AS awsregion,
  sourceIPAddress AS sourceipaddress, userAgent AS useragent, errorCode AS errorcode,
  errorMessage AS errormessage, requestParameters::VARCHAR AS requestparameters,
  responseElements::VARCHAR AS responseelements,
  additionalEventData::VARCHAR AS additionaleventdata, requestID AS requestid,
  eventID AS eventid, resources, eventType AS eventtype, apiVersion AS apiversion,
  CASE WHEN readOnly THEN 'true' WHEN NOT readOnly THEN 'false' END AS readonly,
  recipientAccountId AS recipientaccountid,
  serviceEventDetails::VARCHAR AS serviceeventdetails, sharedEventID AS sharedeventid,
  vpcEndpointId AS vpcendpointid, tlsDetails AS tlsdetails,
  account_id, account_id AS account, region, year, month, day
"""

# Tables and functions under the names users' saved queries use. `element_at` is CloudTrail
# Lake's map lookup (`element_at(requestParameters, 'bucketName')`); in DuckDB it would return
# a list, so a macro reading the JSON key shadows it. Athena's JSON and time helpers likewise.
CHUNK_SOURCES_SQL: Final[str] = (
    "CREATE TABLE IF NOT EXISTS chunk_sources (chunk_id INTEGER, first_line BIGINT, "
    "src VARCHAR, acct VARCHAR, region VARCHAR, y VARCHAR, m VARCHAR, d VARCHAR)"
)

COMPAT_SQL: Final[tuple[str, ...]] = (
    "CREATE OR REPLACE VIEW cloudtrail_events AS "
    "SELECT * EXCLUDE (_file_id, _line, _h) FROM events",
    "CREATE SCHEMA IF NOT EXISTS cloudtrail_logs",
    "CREATE OR REPLACE VIEW cloudtrail_logs.cloudtrail_partitioned AS SELECT"
    + _ATHENA_COLUMNS + "FROM events",
    "CREATE OR REPLACE VIEW cloudtrail_logs.cloudtrail AS SELECT"
    + _ATHENA_COLUMNS + "FROM events",
    "CREATE OR REPLACE MACRO element_at(obj, key) AS "
    "json_extract_string(obj, '$.\"' || replace(key, '\"', '\\\"') || '\"')",
    "CREATE OR REPLACE MACRO json_extract_scalar(obj, path) AS json_extract_string(obj, path)",
    "CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS "
    "TRY_CAST(TRY_CAST(s AS TIMESTAMPTZ) AS TIMESTAMP)",
)
