"""The investigation query library: built-in queries and the user's own `.sql` files.

Library queries are data: SQL with named placeholders (`$ip`) plus a description of each
parameter, so values the user types are always bound by DuckDB, never pasted into the SQL text.
No Textual here (the command palette and the library screen show them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import duckdb

ParamKind = Literal["ip", "text", "arn_pattern", "bucket", "timestamp"]
MAX_USER_FILE_BYTES: Final = 1 << 20
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
