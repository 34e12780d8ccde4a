"""The SQL console's data side: the investigation query library, running a query into a pageable
result table, and the names the editor completes.

No Textual here (the headless CLI and tests use it). Library queries are data: SQL with named
placeholders (`$ip`) plus a description of each parameter, so values the user types are always
bound by DuckDB, never pasted into the SQL text.

A console result is materialised into an ordinary table `sql_result_<n>` with a row-number column
(`__rn`), the same shape as the event table's view tables: the virtual table widget pages it by
`__rn` range, so every row is reachable without a cap and without holding the result in Python.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import duckdb

from trailtui.data import schema

if TYPE_CHECKING:
    from trailtui.data.store import EventStore

ParamKind = Literal["ip", "text", "arn_pattern", "bucket", "timestamp"]
Params = Mapping[str, object] | Sequence[object]

RN: Final = "__rn"
"""Row-number column of a result table (0-based, in the query's own order)."""
RESULT_PREFIX: Final = "sql_result_"
RESULT_SCHEMA: Final = "m.main"
"""Where result tables go: the store's database, whatever the console session `USE`s."""
MAX_USER_FILE_BYTES: Final = 1 << 20
WIDTH_SAMPLE_ROWS: Final = 1000
MAX_COLUMN_WIDTH: Final = 60

_INTEGER_TYPES: Final = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
NUMERIC_TYPES: Final = _INTEGER_TYPES | {"FLOAT", "DOUBLE", "REAL"}
_result_numbers = itertools.count(1)
_result_lock = threading.Lock()


# ------------------------------------------------------------------------------------------------
# Parameters and library queries


class ParamError(ValueError):
    """A parameter value the user typed cannot be used; the message names the field."""

    def __init__(self, param: Param, message: str) -> None:
        super().__init__(f"{param.label}: {message}")
        self.param = param


_HINTS: Final[dict[str, str]] = {
    "ip": "e.g. 203.0.113.7",
    "text": "",
    "arn_pattern": "part of an ARN, * is a wildcard: *:role/Admin*",
    "bucket": "bucket name, e.g. my-logs-bucket",
    "timestamp": "2024-05-01 or 2024-05-01T13:00:00Z; empty: no limit",
}


def like_pattern(text: str) -> str:
    """A user's wildcard text (`*` = anything) as a LIKE pattern for `ESCAPE '\\'`.

    `%`, `_` and `\\` the user typed stay literal. Without any `*`, the text matches anywhere
    (ARNs are long; people type the part they remember).
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" not in text:
        return f"%{escaped}%"
    return escaped.replace("*", "%")


def parse_time(text: str, *, end_of_day: bool = False) -> str:
    """A UTC timestamp typed by the user, as `YYYY-MM-DD HH:MM:SS[.ffffff]` for `CAST(? AS
    TIMESTAMP)`. Accepts ISO 8601 with `T` or a space, `Z` or an offset, or a bare date (the
    end of that day when `end_of_day`). Raises ValueError."""
    raw = text.strip()
    if not raw:
        raise ValueError("empty")
    value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    date_only = re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", raw) is not None
    if date_only and end_of_day:
        value = value + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return value.isoformat(sep=" ")


@dataclass(frozen=True)
class Param:
    """One value a library query asks for. `bind` turns what the user typed into the value
    given to DuckDB (always bound as a parameter)."""

    name: str
    label: str
    kind: ParamKind = "text"
    default: str = ""
    required: bool = True
    end_of_day: bool = False
    """For a timestamp that ends a range: a bare date means the end of that day."""

    @property
    def hint(self) -> str:
        """Placeholder text for the input field."""
        return _HINTS.get(self.kind, "")

    def bind(self, text: str) -> object:
        """The bound value for the typed text; raises ParamError with a message for the user."""
        raw = text.strip()
        if self.kind == "timestamp":
            if not raw:
                if self.required:
                    raise ParamError(self, "a time is required")
                return None
            try:
                return parse_time(raw, end_of_day=self.end_of_day)
            except ValueError:
                raise ParamError(
                    self, "not a time (use 2024-05-01 or 2024-05-01T13:00:00Z)"
                ) from None
        if not raw and self.required:
            raise ParamError(self, "a value is required")
        if self.kind == "arn_pattern":
            return like_pattern(raw) if raw else "%"
        return raw


START: Final = Param("start", "From (UTC)", "timestamp", required=False)
END: Final = Param("end", "Until (UTC)", "timestamp", required=False, end_of_day=True)
TIME_RANGE: Final = (START, END)


@dataclass(frozen=True)
class LibraryQuery:
    """One saved investigation: SQL with `$name` placeholders and what each one means."""

    id: str
    title: str
    group: str
    sql: str
    params: tuple[Param, ...] = ()
    description: str = ""
    source: str = "built in"
    """"built in", or the path of the user's `.sql` file."""

    def bind(self, values: Mapping[str, str]) -> dict[str, object]:
        """Typed values by parameter name -> bound values; raises ParamError on the first bad one.

        Only parameters the SQL still uses are returned (DuckDB rejects unused named ones)."""
        used = placeholders(self.sql)
        bound: dict[str, object] = {}
        for param in self.params:
            value = param.bind(values.get(param.name, param.default))
            if param.name in used:
                bound[param.name] = value
        return bound

    @property
    def editor_text(self) -> str:
        """The SQL as shown in the console: a title comment, then the query."""
        title = " ".join(self.title.split())
        return f"-- {title}\n{self.sql.strip()}\n"


# Time-range conditions: an unbounded side keeps rows whose time is unknown.
_TIME_EVENTS = (
    "($start IS NULL OR eventTime >= CAST($start AS TIMESTAMP))\n"
    "  AND ($end IS NULL OR eventTime <= CAST($end AS TIMESTAMP))"
)
_TIME_ATHENA = (
    "($start IS NULL OR from_iso8601_timestamp(eventtime) >= CAST($start AS TIMESTAMP))\n"
    "  AND ($end IS NULL OR from_iso8601_timestamp(eventtime) <= CAST($end AS TIMESTAMP))"
)
_ATHENA_TABLE = "cloudtrail_logs.cloudtrail_partitioned"

GROUP_DUCKDB: Final = "Counts (DuckDB article)"
GROUP_ATHENA: Final = "Investigations (Athena guide)"
GROUP_LAKE: Final = "CloudTrail Lake"
GROUP_USER: Final = "My queries"


def _count_by(column_sql: str, alias: str, extra_where: str = "") -> str:
    where = f"{extra_where}\n  AND " if extra_where else ""
    return (
        f"SELECT {column_sql} AS {alias}, count(*) AS events\n"
        f"FROM cloudtrail_events\n"
        f"WHERE {where}{_TIME_EVENTS}\n"
        f"GROUP BY 1\n"
        f"ORDER BY events DESC, {alias}"
    )


_IDENTITY_CASE = """CASE userIdentity.type
    WHEN 'AssumedRole' THEN userIdentity.sessionContext.sessionIssuer.userName
    WHEN 'Root' THEN 'root'
    ELSE coalesce(userIdentity.userName, userIdentity.invokedBy)
  END"""

_ATHENA_LIST_COLUMNS = (
    "eventtime, eventsource, eventname, useridentity.arn AS arn, sourceipaddress,\n"
    "  errorcode, eventid"
)

SECURITY_GROUP_EVENTS: Final = (
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
)
READ_ONLY_PREFIXES: Final = ("Get", "List", "Generate", "Simulate")


def _athena_list(condition: str) -> str:
    return (
        f"SELECT {_ATHENA_LIST_COLUMNS}\n"
        f"FROM {_ATHENA_TABLE}\n"
        f"WHERE {condition}\n"
        f"  AND {_TIME_ATHENA}\n"
        f"ORDER BY eventtime, eventid"
    )


_SG_LIST = ", ".join(f"'{name}'" for name in SECURITY_GROUP_EVENTS)
_IAM_READS = " AND ".join(f"eventname NOT LIKE '{p}%'" for p in READ_ONLY_PREFIXES)

BUILTIN_QUERIES: Final[tuple[LibraryQuery, ...]] = (
    LibraryQuery(
        "duckdb.by_identity",
        "Events by user or role",
        GROUP_DUCKDB,
        _count_by(_IDENTITY_CASE, "user_or_role"),
        TIME_RANGE,
        "Who did the most: the role behind an assumed-role session, else the user name.",
    ),
    LibraryQuery(
        "duckdb.by_event_name",
        "Events by eventName",
        GROUP_DUCKDB,
        _count_by("eventName", "eventName"),
        TIME_RANGE,
        "Which API calls were made, how often.",
    ),
    LibraryQuery(
        "duckdb.by_event_source",
        "Events by eventSource (service)",
        GROUP_DUCKDB,
        _count_by("eventSource", "eventSource"),
        TIME_RANGE,
        "Which services were called.",
    ),
    LibraryQuery(
        "duckdb.by_read_only",
        "Events by readOnly",
        GROUP_DUCKDB,
        _count_by("readOnly", "readOnly"),
        TIME_RANGE,
        "Reads against writes (old records have no readOnly: empty).",
    ),
    LibraryQuery(
        "duckdb.write_events",
        "Write events (readOnly = false)",
        GROUP_DUCKDB,
        "SELECT eventTime, eventSource, eventName, userIdentity.arn AS arn, sourceIPAddress,\n"
        "  errorCode, eventID\n"
        "FROM cloudtrail_events\n"
        f"WHERE readOnly = 'false'\n  AND {_TIME_EVENTS}\n"
        "ORDER BY eventTime, eventID",
        TIME_RANGE,
        "Every call that changed something; enter opens the event.",
    ),
    LibraryQuery(
        "duckdb.by_source_ip",
        "Events by sourceIPAddress",
        GROUP_DUCKDB,
        _count_by("sourceIPAddress", "sourceIPAddress"),
        TIME_RANGE,
        "Where calls came from (AWS services show as their host name).",
    ),
    LibraryQuery(
        "duckdb.by_region",
        "Events by awsRegion",
        GROUP_DUCKDB,
        _count_by("awsRegion", "awsRegion"),
        TIME_RANGE,
        "Activity per region: a region nobody uses is worth a look.",
    ),
    LibraryQuery(
        "duckdb.by_error_code",
        "Errors by errorCode",
        GROUP_DUCKDB,
        _count_by("errorCode", "errorCode", "errorCode IS NOT NULL"),
        TIME_RANGE,
        "Failed calls per error code (AccessDenied bursts, missing resources).",
    ),
    LibraryQuery(
        "athena.console_logins",
        "Console sign-ins",
        GROUP_ATHENA,
        "SELECT eventtime, useridentity.type AS identity_type, useridentity.arn AS arn,\n"
        "  sourceipaddress,\n"
        "  json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,\n"
        "  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,\n"
        "  errormessage, eventid\n"
        f"FROM {_ATHENA_TABLE}\n"
        f"WHERE eventname = 'ConsoleLogin'\n  AND {_TIME_ATHENA}\n"
        "ORDER BY eventtime, eventid",
        TIME_RANGE,
        "Every ConsoleLogin with its outcome and whether MFA was used.",
    ),
    LibraryQuery(
        "athena.iam_changes",
        "IAM changes",
        GROUP_ATHENA,
        _athena_list(f"eventsource = 'iam.amazonaws.com'\n  AND {_IAM_READS}"),
        TIME_RANGE,
        "IAM calls other than Get/List/Generate/Simulate: users, keys, policies, roles.",
    ),
    LibraryQuery(
        "athena.security_group_changes",
        "Security-group changes",
        GROUP_ATHENA,
        _athena_list(f"eventname IN ({_SG_LIST})"),
        TIME_RANGE,
        "Rules authorised or revoked, groups created or deleted.",
    ),
    LibraryQuery(
        "athena.root_activity",
        "Root account activity",
        GROUP_ATHENA,
        _athena_list(
            "useridentity.type = 'Root'\n  AND useridentity.invokedby IS NULL\n"
            "  AND coalesce(eventtype, '') <> 'AwsServiceEvent'"
        ),
        TIME_RANGE,
        "Calls made with the root user's own credentials (not by AWS services).",
    ),
    LibraryQuery(
        "athena.failed_calls",
        "Failed API calls",
        GROUP_ATHENA,
        "SELECT eventtime, eventsource, eventname, errorcode, errormessage,\n"
        "  useridentity.arn AS arn, sourceipaddress, eventid\n"
        f"FROM {_ATHENA_TABLE}\n"
        f"WHERE errorcode IS NOT NULL\n  AND {_TIME_ATHENA}\n"
        "ORDER BY eventtime, eventid",
        TIME_RANGE,
        "Every call that returned an error code.",
    ),
    LibraryQuery(
        "athena.source_ip",
        "Activity from one source IP",
        GROUP_ATHENA,
        _athena_list("sourceipaddress = $ip"),
        (Param("ip", "Source IP address", "ip"), *TIME_RANGE),
        "Everything one address did (exact match).",
    ),
    LibraryQuery(
        "athena.principal",
        "Activity of one user or role (ARN pattern)",
        GROUP_ATHENA,
        _athena_list(
            "(useridentity.arn LIKE $arn ESCAPE '\\'\n"
            "   OR useridentity.sessioncontext.sessionissuer.arn LIKE $arn ESCAPE '\\')"
        ),
        (Param("arn", "User or role ARN", "arn_pattern"), *TIME_RANGE),
        "Matches the caller's ARN or, for assumed roles, the role's ARN.",
    ),
    LibraryQuery(
        "lake.s3_bucket_users",
        "Who used one S3 bucket",
        GROUP_LAKE,
        "SELECT userIdentity.arn AS arn, eventName, count(*) AS events,\n"
        "  min(eventTime) AS first_seen, max(eventTime) AS last_seen\n"
        "FROM cloudtrail_events\n"
        "WHERE eventSource = 's3.amazonaws.com'\n"
        "  AND element_at(requestParameters, 'bucketName') = $bucket\n"
        f"  AND {_TIME_EVENTS}\n"
        "GROUP BY 1, 2\n"
        "ORDER BY events DESC, arn, eventName",
        (Param("bucket", "Bucket name", "bucket"), *TIME_RANGE),
        "Callers and calls on one bucket (CloudTrail Lake sample, S3 data events).",
    ),
)


def get_query(query_id: str, queries: Sequence[LibraryQuery] = BUILTIN_QUERIES) -> LibraryQuery:
    """The library query with this id; KeyError when there is none."""
    for query in queries:
        if query.id == query_id:
            return query
    raise KeyError(query_id)


# ------------------------------------------------------------------------------------------------
# The user's own .sql files


def default_config_dir() -> Path:
    """$TRAILTUI_CONFIG_DIR, else $XDG_CONFIG_HOME/trailtui, else ~/.config/trailtui."""
    env = os.environ.get("TRAILTUI_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "trailtui"


def user_queries_dir(config_dir: Path | None = None) -> Path:
    """Where the user's `.sql` files live: `<config dir>/queries`."""
    return (config_dir or default_config_dir()) / "queries"


_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_META = re.compile(r"^\s*--\s*(title|description|param)\s*:\s*(.*?)\s*$", re.I)
_KINDS: Final[frozenset[str]] = frozenset({"ip", "text", "arn_pattern", "bucket", "timestamp"})


_parsers = threading.local()


def _parser() -> duckdb.DuckDBPyConnection:
    """A private connection per thread for parsing only: DuckDB's module-level functions share
    one default connection, which refuses a second thread instead of waiting."""
    con: duckdb.DuckDBPyConnection | None = getattr(_parsers, "con", None)
    if con is None:
        con = _parsers.con = duckdb.connect(":memory:")
    return con


def placeholders(sql: str) -> set[str]:
    """Named `$parameters` a SQL text uses (not counting ones inside strings or comments)."""
    try:
        names: set[str] = set()
        for statement in _parser().extract_statements(sql):
            names |= {n for n in statement.named_parameters if not n.isdigit()}
        return names
    except duckdb.Error:
        return set(_PLACEHOLDER.findall(_STRINGS_AND_COMMENTS.sub(" ", sql)))


def _guess_kind(name: str) -> ParamKind:
    lowered = name.lower()
    if lowered in {"start", "end", "since", "until", "from_time", "to_time"} or lowered.endswith(
        ("_time", "_at", "_start", "_end")
    ):
        return "timestamp"
    if "bucket" in lowered:
        return "bucket"
    if "arn" in lowered:
        return "arn_pattern"
    if lowered == "ip" or lowered.endswith("_ip") or lowered.startswith("ip_"):
        return "ip"
    return "text"


def parse_user_query(path: Path, text: str) -> LibraryQuery:
    """A library entry for one user `.sql` file.

    The title is a leading `-- title: ...` comment, else the file name. `-- description: ...`
    describes it; `-- param: name kind Label words` declares a parameter (kind one of ip, text,
    arn_pattern, bucket, timestamp); other `$name` placeholders get a kind guessed from the name.
    """
    title = ""
    description = ""
    declared: dict[str, Param] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _META.match(stripped)
        if match is None:
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key == "title" and value:
            title = value
        elif key == "description":
            description = value
        elif key == "param":
            parts = value.split(None, 2)
            if parts and re.fullmatch(r"[A-Za-z_]\w*", parts[0]):
                kind = parts[1] if len(parts) > 1 and parts[1] in _KINDS else "text"
                label = parts[2] if len(parts) > 2 else parts[0]
                declared[parts[0]] = Param(
                    parts[0],
                    label,
                    kind,  # type: ignore[arg-type]
                    required=kind != "timestamp",
                    end_of_day=parts[0].lower() in {"end", "until", "to_time"},
                )
    if not title:
        title = re.sub(r"[_-]+", " ", path.stem).strip() or path.name
    params = list(declared.values())
    for name in sorted(placeholders(text) - set(declared)):
        kind = _guess_kind(name)
        params.append(
            Param(
                name,
                name.replace("_", " "),
                kind,
                required=kind != "timestamp",
                end_of_day=name.lower() in {"end", "until", "to_time"},
            )
        )
    return LibraryQuery(
        id=f"user:{path.name}",
        title=title,
        group=GROUP_USER,
        sql=text.strip(),
        params=tuple(params),
        description=description,
        source=str(path),
    )


def load_user_queries(folder: Path | None = None) -> tuple[list[LibraryQuery], list[str]]:
    """The user's `.sql` files (sorted by name) and one warning per file that could not be read.

    A missing folder is normal (no warning); nothing here raises.
    """
    folder = folder if folder is not None else user_queries_dir()
    found: list[LibraryQuery] = []
    warnings: list[str] = []
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".sql")
    except FileNotFoundError:
        return found, warnings
    except OSError as exc:
        return found, [f"{folder}: cannot list queries ({exc.strerror or exc})"]
    for path in paths:
        try:
            if not path.is_file():
                continue
            if path.stat().st_size > MAX_USER_FILE_BYTES:
                warnings.append(f"{path}: larger than 1 MB, skipped")
                continue
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            warnings.append(f"{path}: not UTF-8 text, skipped")
            continue
        except OSError as exc:
            warnings.append(f"{path}: cannot read ({exc.strerror or exc})")
            continue
        if text.strip():
            found.append(parse_user_query(path, text))
    return found, warnings


def library(config_dir: Path | None = None) -> tuple[list[LibraryQuery], list[str]]:
    """Built-in queries followed by the user's; plus warnings about unreadable files."""
    user, warnings = load_user_queries(user_queries_dir(config_dir))
    return [*BUILTIN_QUERIES, *user], warnings


# ------------------------------------------------------------------------------------------------
# Running a query


def quote_ident(name: str) -> str:
    """A SQL identifier for any column name DuckDB gave us."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class QueryResult:
    """What one console run produced: a result table to page, or "OK" for a statement."""

    sql: str
    table: str | None
    """Qualified name of the result table (None when the statement returned no rows)."""
    columns: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    row_count: int = 0
    elapsed_ms: float = 0.0
    message: str = ""
    """For statements without a result: "OK", or "OK, 3 rows changed"."""
    statements: int = 1
    widths: tuple[int, ...] = ()
    """Display widths suggested from the first rows (capped)."""

    @property
    def has_rows(self) -> bool:
        return self.table is not None

    def _find(self, *names: str) -> str | None:
        lowered = {c.lower(): c for c in self.columns}
        for name in names:
            if name.lower() in lowered:
                return lowered[name.lower()]
        return None

    @property
    def event_id_column(self) -> str | None:
        return self._find("eventID")

    @property
    def key_columns(self) -> tuple[str, str] | None:
        """The (`_file_id`, `_line`) columns when the result carries the original-record keys."""
        file_id, line = self._find("_file_id"), self._find("_line")
        return (file_id, line) if file_id and line else None

    @property
    def event_shaped(self) -> bool:
        """Rows are events: `enter` opens one, export can write the original records."""
        return self.has_rows and (self.event_id_column is not None or self.key_columns is not None)

    @property
    def value_count(self) -> bool:
        """Two columns, the second an integer: `enter` filters the events to the value."""
        return self.has_rows and len(self.columns) == 2 and self.types[1].upper() in _INTEGER_TYPES

    @property
    def numeric_columns(self) -> frozenset[str]:
        return frozenset(
            c
            for c, t in zip(self.columns, self.types, strict=True)
            if t.upper() in NUMERIC_TYPES or t.upper().startswith("DECIMAL")
        )

    @property
    def status(self) -> str:
        """ "1,234 rows in 12 ms" or "OK in 3 ms" (plain text)."""
        took = format_ms(self.elapsed_ms)
        if not self.has_rows:
            return f"{self.message or 'OK'} in {took}"
        noun = "row" if self.row_count == 1 else "rows"
        extra = f" (last of {self.statements} statements)" if self.statements > 1 else ""
        return f"{self.row_count:,} {noun} in {took}{extra}"


def format_ms(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"


def new_result_name() -> str:
    with _result_lock:
        return f"{RESULT_PREFIX}{next(_result_numbers)}"


def _statement_params(
    names: set[str], params: Params | None, positional: list[object]
) -> dict[str, object] | list[object] | None:
    """The parameters one statement uses: named ones it references, or the next positional."""
    if not names:
        return None
    if all(n.isdigit() for n in names):
        count = len(names)
        taken, positional[:] = positional[:count], positional[count:]
        return taken
    if isinstance(params, Mapping):
        return {k: v for k, v in params.items() if k in names}
    return None


_RESULT_TYPES: Final = frozenset({"EXPLAIN", "PRAGMA", "CALL", "MULTI"})


def run_query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params | None = None,
    store: EventStore | None = None,
    *,
    cancel: threading.Event | None = None,
) -> QueryResult:
    """Run the console's SQL on `cur` (a worker thread's cursor) and keep its result as a table.

    Several statements run in order; the last one's result is kept. A SELECT is materialised
    straight into `sql_result_<n>` by DuckDB (ordered, numbered by `__rn`); EXPLAIN/PRAGMA/CALL
    results likewise; statements without rows report "OK". Raises `duckdb.Error` (the message is
    for the user) and `duckdb.InterruptException` when interrupted, via `store.interrupt_all()`
    or `cur.interrupt()`, or when `cancel` is set between statements.
    """
    t0 = time.perf_counter()
    statements = cur.extract_statements(sql)
    if not statements:
        raise duckdb.InvalidInputException("nothing to run: the editor holds no SQL statement")
    positional = list(params) if params is not None and not isinstance(params, Mapping) else []
    if store is not None:
        store.register(cur)
    try:
        for statement in statements[:-1]:
            _check_cancel(cancel)
            bound = _statement_params(set(statement.named_parameters), params, positional)
            cur.execute(statement.query, bound).fetchall()
        last = statements[-1]
        _check_cancel(cancel)
        bound = _statement_params(set(last.named_parameters), params, positional)
        text = last.query.strip().rstrip(";").rstrip()
        kind = last.type.name
        table = new_result_name()
        qualified = f"{RESULT_SCHEMA}.{table}"
        if kind == "SELECT":
            cur.execute(
                f"CREATE TABLE {qualified} AS SELECT row_number() OVER () - 1 AS {RN}, * "
                f"FROM (\n{text}\n) AS __q",
                bound,
            ).fetchall()
        elif kind in _RESULT_TYPES:
            rel = cur.sql(text, params=bound)
            if rel is None:
                return _ok(sql, "OK", t0, len(statements))
            rel.project(f"row_number() OVER () - 1 AS {RN}, *").create(qualified)
        else:
            result = cur.execute(text, bound)
            names = [d[0] for d in result.description or []]
            rows = result.fetchall()
            if not names or names in (["Count"], ["Success"]):
                message = "OK"
                if kind in {"INSERT", "UPDATE", "DELETE", "MERGE_INTO"} and rows:
                    n = int(rows[0][0])
                    message = f"OK, {n:,} row{'s' if n != 1 else ''} changed"
                return _ok(sql, message, t0, len(statements))
            _materialise_rows(
                cur, qualified, names, [str(d[1]) for d in result.description or []], rows
            )
        try:
            return _describe(cur, sql, qualified, t0, len(statements))
        except BaseException:
            drop_result(cur, qualified)  # interrupted just after the table was made
            raise
    finally:
        if store is not None:
            store.unregister(cur)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def _ok(sql: str, message: str, t0: float, statements: int) -> QueryResult:
    return QueryResult(
        sql=sql,
        table=None,
        message=message,
        statements=statements,
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )


def _materialise_rows(
    cur: duckdb.DuckDBPyConnection,
    qualified: str,
    names: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """A result that only exists as fetched rows (e.g. `INSERT ... RETURNING`) as a table."""
    unique: list[str] = []
    for name in names:
        candidate, n = name, 0
        while candidate.lower() in {u.lower() for u in unique} or candidate.lower() == RN:
            n += 1
            candidate = f"{name}_{n}"
        unique.append(candidate)
    cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in zip(unique, types, strict=True))
    cur.execute(f"CREATE TABLE {qualified} ({RN} BIGINT, {cols})").fetchall()
    if rows:
        marks = ", ".join("?" for _ in range(len(names) + 1))
        cur.executemany(
            f"INSERT INTO {qualified} VALUES ({marks})", [(i, *row) for i, row in enumerate(rows)]
        )


def _describe(
    cur: duckdb.DuckDBPyConnection, sql: str, qualified: str, t0: float, statements: int
) -> QueryResult:
    """Columns, types, row count and display widths of a fresh result table."""
    result = cur.execute(f"SELECT * FROM {qualified} LIMIT 0")
    described = [(d[0], str(d[1])) for d in result.description or []]
    result.fetchall()
    described = [(n, t) for n, t in described if n != RN]
    row_count = int(cur.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0])
    elapsed = (time.perf_counter() - t0) * 1000
    columns = tuple(n for n, _ in described)
    widths: tuple[int, ...] = ()
    if columns:
        lengths = ", ".join(f"max(length(CAST({quote_ident(n)} AS VARCHAR)))" for n in columns)
        row = cur.execute(
            f"SELECT {lengths} FROM {qualified} WHERE {RN} < {WIDTH_SAMPLE_ROWS}"
        ).fetchall()[0]
        widths = tuple(
            max(min(int(w or 0), MAX_COLUMN_WIDTH), min(len(n), MAX_COLUMN_WIDTH), 1)
            for n, w in zip(columns, row, strict=True)
        )
    return QueryResult(
        sql=sql,
        table=qualified,
        columns=columns,
        types=tuple(t for _, t in described),
        row_count=row_count,
        elapsed_ms=elapsed,
        statements=statements,
        widths=widths,
    )


def drop_result(cur: duckdb.DuckDBPyConnection, table: str | None) -> None:
    """Drop a result table no longer shown (results can be large); never raises."""
    if not table or RESULT_PREFIX not in table:
        return
    with contextlib.suppress(duckdb.Error):
        cur.execute(f"DROP TABLE IF EXISTS {table}").fetchall()


class ResultSource:
    """A `RowSource` (trailtui.widgets.event_table) over a result table, paged by `__rn`.

    `cursor` is used on the UI thread only (one cursor per thread); a page is one range scan
    on the ordered row number (~1 ms).
    """

    def __init__(self, result: QueryResult, cursor: duckdb.DuckDBPyConnection) -> None:
        self.result = result
        self._cursor = cursor
        cols = ", ".join(quote_ident(c) for c in result.columns) or "NULL"
        self._page_sql = (
            f"SELECT {cols} FROM {result.table} WHERE {RN} >= ? AND {RN} < ? ORDER BY {RN}"
        )

    @property
    def row_count(self) -> int:
        return self.result.row_count

    @property
    def column_keys(self) -> Sequence[str]:
        return self.result.columns

    def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]:
        if self.result.table is None or count <= 0:
            return []
        return self._cursor.execute(self._page_sql, [start, start + count]).fetchall()


FILTERED_VIEW: Final = "filtered"
_TABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def define_filtered_view(cur: duckdb.DuckDBPyConnection, view_table: str | None) -> None:
    """(Re)define `filtered`: the events under the current filter chips, for console SQL.

    `view_table` is the browser's current materialised view table (it holds `_file_id` and
    `_line`), so the definition needs no values at all, and `SELECT * FROM filtered` rows keep
    their original-record keys (enter opens them; export writes them exactly). Call it when the
    screen swaps views, BEFORE dropping the old view table; None means "no filter": all events.
    """
    if view_table is None:
        cur.execute(
            f"CREATE OR REPLACE VIEW {RESULT_SCHEMA}.{FILTERED_VIEW} AS "
            "SELECT * EXCLUDE (_h) FROM events"
        ).fetchall()
        return
    if _TABLE_NAME.fullmatch(view_table) is None:
        raise ValueError(f"not a view table name: {view_table!r}")
    cur.execute(
        f"CREATE OR REPLACE VIEW {RESULT_SCHEMA}.{FILTERED_VIEW} AS "
        f"SELECT e.* EXCLUDE (_h) FROM events e SEMI JOIN {RESULT_SCHEMA}.{view_table} v "
        "ON e._file_id = v._file_id AND e._line = v._line"
    ).fetchall()


# Text columns that narrow an eventID match (documentation examples and test fixtures reuse IDs).
MATCH_COLUMNS: Final = (
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "requestID",
    "recipientAccountId",
    "eventType",
    "errorCode",
)


def locate_event(
    cur: duckdb.DuckDBPyConnection, event_id: str, row: Mapping[str, object] | None = None
) -> list[tuple[int, int]]:
    """(`_file_id`, `_line`) of the loaded events with this eventID, narrowed by the result
    row's other identifying columns (`eventname`, `awsregion`...) when it has them. Usually one;
    several when records share an ID."""
    where = ["eventID = ?"]
    params: list[object] = [event_id]
    for name, value in (row or {}).items():
        column = event_column(name)
        if column in MATCH_COLUMNS and (value is None or isinstance(value, str)):
            where.append(f'"{column}" IS NOT DISTINCT FROM ?')
            params.append(value)
    rows = cur.execute(
        f"SELECT _file_id, _line FROM events WHERE {' AND '.join(where)} "
        "ORDER BY eventTime, _file_id, _line",
        params,
    ).fetchall()
    return [(int(f), int(line)) for f, line in rows]


_EVENT_COLUMNS: Final[dict[str, str]] = {
    **{name.lower(): name for name in schema.PUBLIC_COLUMNS},
    "account": "account_id",
}


def event_column(name: str) -> str | None:
    """The `events` column a result column names (`eventsource` from the Athena view too)."""
    return _EVENT_COLUMNS.get(name.lower())


# ------------------------------------------------------------------------------------------------
# Completion names


def _struct_paths(prefix: str, type_: Any, out: set[str], depth: int = 0) -> None:
    """`prefix.field` for every field of a STRUCT type, recursively."""
    if depth > 6 or getattr(type_, "id", None) != "struct":
        return
    try:
        children = type_.children
    except (AttributeError, duckdb.Error):
        return
    for child_name, child_type in children:
        path = f"{prefix}.{child_name}"
        out.add(path)
        _struct_paths(path, child_type, out, depth + 1)


def completions(
    cur: duckdb.DuckDBPyConnection,
    *,
    hide_prefixes: Sequence[str] = (RESULT_PREFIX, "chunk_sources", "view_", "_inv_"),
    keywords: bool = True,
    functions: bool = True,
) -> list[str]:
    """Names the editor offers: tables and views (schema-qualified outside `main`), their
    columns, every struct field path (`userIdentity.sessionContext.sessionIssuer.userName`),
    functions and keywords. Read from DuckDB's catalog; run it in a worker."""
    names: set[str] = set()
    rows = cur.execute(
        "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
        "WHERE NOT internal AND NOT temporary "
        "UNION SELECT database_name, schema_name, view_name FROM duckdb_views() "
        "WHERE NOT internal AND NOT temporary "
        "ORDER BY ALL"
    ).fetchall()
    current_db = cur.execute("SELECT current_database()").fetchall()[0][0]
    for database, schema_name, table in rows:
        if any(table.startswith(p) for p in hide_prefixes):
            continue
        if database != current_db:
            continue
        shown = table if schema_name == "main" else f"{schema_name}.{table}"
        names.add(shown)
        qualified = ".".join(quote_ident(p) for p in (database, schema_name, table))
        try:
            rel = cur.sql(f"SELECT * FROM {qualified} LIMIT 0")
            for column, type_ in zip(rel.columns, rel.types, strict=True):
                names.add(column)
                _struct_paths(column, type_, names)
        except duckdb.Error:
            continue
    if functions:
        for (fn,) in cur.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE NOT starts_with(function_name, '__') "
            "AND regexp_matches(function_name, '^[A-Za-z_][A-Za-z0-9_]*$')"
        ).fetchall():
            names.add(fn)
    if keywords:
        for (kw,) in cur.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall():
            if re.fullmatch(r"[a-z_]+", kw):
                names.add(kw.upper())
    return sorted(names, key=lambda n: (n.lower(), n))


__all__ = [
    "BUILTIN_QUERIES",
    "END",
    "FILTERED_VIEW",
    "GROUP_ATHENA",
    "GROUP_DUCKDB",
    "GROUP_LAKE",
    "GROUP_USER",
    "MATCH_COLUMNS",
    "RN",
    "START",
    "LibraryQuery",
    "Param",
    "ParamError",
    "QueryResult",
    "ResultSource",
    "completions",
    "default_config_dir",
    "define_filtered_view",
    "drop_result",
    "event_column",
    "get_query",
    "library",
    "like_pattern",
    "load_user_queries",
    "locate_event",
    "parse_time",
    "parse_user_query",
    "placeholders",
    "run_query",
    "user_queries_dir",
]
