"""The filter model rendered as Trino SQL over a user's Athena (or Trino) CloudTrail table.

One filter model (`filters.FilterState`), two dialects: DuckDB over `events` (filters.py) and
Trino here, over the table AWS documents for CloudTrail (lower-case column names, `eventtime`
as ISO text, `readonly` as 'true'/'false', JSON objects as strings, `useridentity` a struct).

Cost is the point of this module. Athena bills the bytes it reads (CloudTrail tables are JSON:
every query reads whole files, whatever columns it selects), so every statement built here
carries the time range twice: as predicates on the table's partition columns (which decide what
is read) and on `eventtime` (which decides what matches). A statement that would read the whole
table is refused (`NeedsTimeRange`) instead of sent.

Safety: every value reaches the SQL text through `filters.sql_literal` (the one audited quoting
function: a quote is doubled, a backslash is an ordinary character in Trino, NUL is dropped).
Athena's ExecutionParameters would not remove that step, they are themselves SQL literal text.
Identifiers come from Glue/`information_schema` names checked against `_IDENT`, or from the
fixed `filters.COLUMNS` allow-list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from trailtui.data.backend import PAGE_COLUMNS
from trailtui.data.filters import COLUMNS, Chip, FacetValue, FieldChip, FilterState, sql_literal

PartitionKind = Literal["timestamp", "ymd", "none"]

# Glue and Hive names: letters, digits, underscores (Glue lower-cases them). Anything else in a
# name the user typed is refused rather than quoted.
_IDENT: Final[re.Pattern[str]] = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Java date patterns Athena's projection uses, and their strftime equivalents. Only patterns
# whose text sorts in time order are listed: the range predicate compares strings.
_JAVA_FORMAT: Final[tuple[tuple[str, str], ...]] = (
    ("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
)  # fmt: skip
_TIME_KEY_NAMES: Final[frozenset[str]] = frozenset({"timestamp", "dt", "date", "day_partition"})
_REGION_KEY_NAMES: Final[frozenset[str]] = frozenset({"region", "awsregion", "aws_region"})
_ACCOUNT_KEY_NAMES: Final[frozenset[str]] = frozenset(
    {"account", "account_id", "accountid", "aws_account_id"}
)
# Beyond this many days a range is written as whole months and years, not day lists.
FACET_LIMIT: Final[int] = 1000  # values per facet a remote query returns (most frequent first)
PAGE_LIMIT: Final[int] = 10_000  # rows of the ordered page query (pull down for more)

# The columns AWS's CloudTrail DDL defines, under CloudTrail's own names: the event detail and
# the pull-down compose events from them. Only those the table has are selected.
EVENT_FIELDS: Final[tuple[str, ...]] = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "vpcEndpointId", "vpcEndpointAccountId", "eventCategory", "serviceEventDetails",
    "sessionCredentialFromConsole", "tlsDetails", "insightDetails", "addendum",
    "edgeDeviceDetails", "eventContext",
)  # fmt: skip
# Display columns of a page, in `views.DISPLAY_COLUMNS` order, as Trino over the table.
_PAGE_EXPRS: Final[tuple[tuple[str, str], ...]] = (
    ("eventTime", "eventtime"),
    ("actor", COLUMNS["actor"].athena),
    ("eventName", "eventname"),
    ("eventSource", "eventsource"),
    ("awsRegion", "awsregion"),
    ("sourceIPAddress", "sourceipaddress"),
    ("errorCode", COLUMNS["errorCode"].athena),
    ("account_id", COLUMNS["account_id"].athena),
    ("readOnly", "readonly"),
)
assert tuple(name for name, _ in _PAGE_EXPRS) == PAGE_COLUMNS  # the backend's page layout


class SqlError(ValueError):
    """A statement cannot be built as asked; the message says what to change."""


class NeedsTimeRange(SqlError):
    """The statement would read the whole table: give a time range first."""


def check_ident(name: str) -> str:
    """A database, table or column name as it may appear unquoted; anything else is refused."""
    if not _IDENT.fullmatch(name):
        raise SqlError(f"not a plain table or column name: {name!r}")
    return name


def quote_ident(name: str) -> str:
    """A checked name, double-quoted (`timestamp` is a reserved word in Trino)."""
    return '"' + check_ident(name) + '"'


# -- the table and its partitions -----------------------------------------------------------------


@dataclass(frozen=True)
class Partitions:
    """How a table is partitioned, as far as trailtui can use it.

    kind "timestamp": one string column (`time_key`) holding the date in `time_format`
    (strftime), usually Athena's projected `timestamp` ('yyyy/MM/dd'). kind "ymd": string or
    integer `year`/`month`/`day` columns. `region_key`/`account_key`: partition columns holding
    the region and account, constrained when a chip names one. `injected`: projected columns
    Athena cannot enumerate; every query must give them a value.
    """

    kind: PartitionKind = "none"
    time_key: str = ""
    time_format: str = "%Y/%m/%d"
    integer_keys: frozenset[str] = frozenset()
    region_key: str = ""
    account_key: str = ""
    injected: frozenset[str] = frozenset()
    keys: tuple[str, ...] = ()

    @property
    def time_keys(self) -> tuple[str, ...]:
        if self.kind == "timestamp":
            return (self.time_key,)
        if self.kind == "ymd":
            return ("year", "month", "day")
        return ()

    def describe(self) -> str:
        """One line for the status bar and `--explain`."""
        if self.kind == "timestamp":
            text = f"partitioned by {self.time_key} ({_java_format(self.time_format)})"
        elif self.kind == "ymd":
            text = "partitioned by year/month/day"
        else:
            return "no time partitions: every query reads the whole table"
        extra = [k for k in (self.region_key, self.account_key) if k]
        return text + (f", {', '.join(extra)}" if extra else "")


@dataclass(frozen=True)
class TableInfo:
    """The user's CloudTrail table: name, columns (lower-case name -> type), partitions."""

    database: str
    table: str
    columns: Mapping[str, str] = field(default_factory=dict)
    partitions: Partitions = field(default_factory=Partitions)
    catalog: str = ""

    def __post_init__(self) -> None:
        for name in (self.database, self.table, *([self.catalog] if self.catalog else [])):
            check_ident(name)

    @property
    def qualified(self) -> str:
        parts = [self.catalog] if self.catalog else []
        return ".".join([*parts, self.database, self.table])

    @property
    def raw_json_column(self) -> str | None:
        """A column holding each record's original JSON, when the table has one."""
        for name in ("raw", "json", "record", "event_json", "raw_event"):
            if self.columns.get(name, "").startswith("string"):
                return name
        return None


def _java_format(fmt: str) -> str:
    for java, c in _JAVA_FORMAT:
        fmt = fmt.replace(c, java)
    return fmt


def _strftime_format(java: str) -> str | None:
    """'yyyy/MM/dd' -> '%Y/%m/%d'; None for patterns whose text does not sort in time order."""
    out = java
    for j, c in _JAVA_FORMAT:
        out = out.replace(j, c)
    if re.search(
        r"[A-Za-z]", out.replace("%Y", "").replace("%m", "").replace("%d", "").replace("%H", "")
    ):
        return None
    if not out.startswith("%Y"):
        return None
    return out


def _template_roles(template: str) -> dict[str, str]:
    """`${var}` roles from `storage.location.template`: after AWSLogs/[o-org/] the account,
    after CloudTrail/ the region (the S3 layout CloudTrail writes)."""
    roles: dict[str, str] = {}
    parts = template.split("/")
    for i, part in enumerate(parts):
        m = re.fullmatch(r"\$\{(\w+)\}", part)
        if not m or i == 0:
            continue
        before = parts[i - 1]
        if before == "AWSLogs" or (
            i >= 2 and parts[i - 2] == "AWSLogs" and before.startswith("o-")
        ):
            roles[m.group(1).lower()] = "account"
        elif before == "CloudTrail":
            roles[m.group(1).lower()] = "region"
    return roles


def partitions_from_glue(
    keys: Sequence[Mapping[str, str]], parameters: Mapping[str, str]
) -> Partitions:
    """Decide the partition scheme from Glue's `PartitionKeys` and table `Parameters`."""
    names = [check_ident(str(k.get("Name", "")).lower()) for k in keys]
    types = {str(k.get("Name", "")).lower(): str(k.get("Type", "string")).lower() for k in keys}
    params = {str(k).lower(): str(v) for k, v in parameters.items()}
    projected = params.get("projection.enabled", "").lower() == "true"
    roles = _template_roles(params.get("storage.location.template", ""))
    integer = frozenset(
        n for n, t in types.items() if t in ("int", "integer", "bigint", "smallint")
    )
    injected = frozenset(
        n
        for n in names
        if projected and params.get(f"projection.{n}.type", "").lower() == "injected"
    )
    region = next((n for n in names if roles.get(n) == "region"), "") or next(
        (n for n in names if n in _REGION_KEY_NAMES), ""
    )
    account = next((n for n in names if roles.get(n) == "account"), "") or next(
        (n for n in names if n in _ACCOUNT_KEY_NAMES), ""
    )
    base = Partitions(
        integer_keys=integer,
        region_key=region,
        account_key=account,
        injected=injected,
        keys=tuple(names),
    )
    # A projected date column (any name), else a string column with a date-like name.
    for n in names:
        ptype = params.get(f"projection.{n}.type", "").lower() if projected else ""
        if ptype == "date" or (not ptype and n in _TIME_KEY_NAMES and n not in integer):
            java = params.get(f"projection.{n}.format", "yyyy/MM/dd")
            fmt = _strftime_format(java)
            if fmt is not None:
                return replace(base, kind="timestamp", time_key=n, time_format=fmt)
    if {"year", "month", "day"} <= set(names):
        return replace(base, kind="ymd")
    return base


def table_from_glue(table: Mapping[str, Any]) -> TableInfo:
    """A Glue `GetTable` response's `Table` as a TableInfo."""
    sd = table.get("StorageDescriptor")
    cols: list[Any] = list(sd.get("Columns") or []) if isinstance(sd, Mapping) else []
    keys: list[Any] = [k for k in table.get("PartitionKeys") or [] if isinstance(k, Mapping)]
    params = table.get("Parameters")
    columns: dict[str, str] = {}
    for c in [*cols, *keys]:
        if isinstance(c, Mapping):
            columns[str(c.get("Name", "")).lower()] = str(c.get("Type", "string")).lower()
    return TableInfo(
        database=str(table.get("DatabaseName", "")),
        table=str(table.get("Name", "")),
        columns=columns,
        partitions=partitions_from_glue(keys, params if isinstance(params, Mapping) else {}),
    )


# AWS's documented CloudTrail table (the Athena guide's CREATE TABLE), for `--explain`, which
# shows the statements without asking Glue what the table really holds.
AWS_GUIDE_COLUMNS: Final[dict[str, str]] = {
    "eventversion": "string",
    "useridentity": "struct<type:string,principalid:string,arn:string,accountid:string,"
    "invokedby:string,accesskeyid:string,username:string,onbehalfof:struct<userid:string,"
    "identitystorearn:string>,sessioncontext:struct<attributes:struct<mfaauthenticated:string,"
    "creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,"
    "accountid:string,username:string>,sourceidentity:string,ec2roledelivery:string>>",
    **dict.fromkeys(
        ("eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress", "useragent",
         "errorcode", "errormessage", "requestparameters", "responseelements",
         "additionaleventdata", "requestid", "eventid", "readonly"), "string"),
    "resources": "array<struct<arn:string,accountid:string,type:string>>",
    **dict.fromkeys(
        ("eventtype", "apiversion", "recipientaccountid", "serviceeventdetails",
         "sharedeventid", "vpcendpointid", "vpcendpointaccountid", "eventcategory"), "string"),
    "addendum": "struct<reason:string,updatedfields:string,originalrequestid:string,"
    "originaleventid:string>",
    "sessioncredentialfromconsole": "string",
    "edgedevicedetails": "string",
    "tlsdetails": "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>",
}  # fmt: skip
GUIDE_PARTITIONS: Final[dict[str, Partitions]] = {
    "timestamp": Partitions("timestamp", time_key="timestamp", keys=("timestamp",)),
    "ymd": Partitions("ymd", region_key="region", keys=("region", "year", "month", "day")),
    "none": Partitions(),
}


def guide_table(database: str, table: str, scheme: str, catalog: str = "") -> TableInfo:
    """The AWS guide's CloudTrail table under this name, with one of its partition schemes."""
    if scheme not in GUIDE_PARTITIONS:
        raise SqlError(f"unknown partition scheme {scheme!r}: timestamp, ymd or none")
    p = GUIDE_PARTITIONS[scheme]
    columns = {**AWS_GUIDE_COLUMNS, **dict.fromkeys(p.keys, "string")}
    return TableInfo(database, table, columns, p, catalog=catalog)


# -- time range and partition predicates ------------------------------------------------------


def time_range(filters: FilterState) -> tuple[datetime | None, datetime | None]:
    """The intersection of the filter's time and around chips: [start, end), None = open."""
    start: datetime | None = None
    end: datetime | None = None
    for chip in filters:
        if chip.kind not in ("time", "around"):
            continue
        if chip.start is not None and (start is None or chip.start > start):
            start = chip.start
        if chip.end is not None and (end is None or chip.end < end):
            end = chip.end
    return start, end


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _part_value(info: Partitions, key: str, value: int) -> str:
    if key in info.integer_keys:
        return str(int(value))
    return sql_literal(f"{value:04d}" if key == "year" else f"{value:02d}")


def _ymd_terms(p: Partitions, first: date, last: date) -> list[str]:
    """Whole years, whole months and day lists covering [first, last], as partition terms."""
    y, m, d = (quote_ident(k) for k in ("year", "month", "day"))
    terms: list[str] = []
    by_month: dict[tuple[int, int], list[int]] = {}
    for day in _days(first, last):
        by_month.setdefault((day.year, day.month), []).append(day.day)
    by_year: dict[int, list[tuple[int, list[int]]]] = {}
    for (year, month), days in by_month.items():
        by_year.setdefault(year, []).append((month, days))
    for year, months in by_year.items():
        yv = _part_value(p, "year", year)
        full = [mo for mo, days in months if len(days) == _month_length(year, mo)]
        if len(full) == 12:
            terms.append(f"{y} = {yv}")
            continue
        if full:
            terms.append(
                f"({y} = {yv} AND {m} IN ({', '.join(_part_value(p, 'month', mo) for mo in full)}))"
            )
        for mo, days in months:
            if mo in full:
                continue
            dvals = ", ".join(_part_value(p, "day", dd) for dd in days)
            terms.append(
                f"({y} = {yv} AND {m} = {_part_value(p, 'month', mo)} AND {d} IN ({dvals}))"
            )
    return terms


def _month_length(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def _chip_values(filters: FilterState, columns: tuple[str, ...]) -> list[str] | None:
    """Values the include chips on any of `columns` leave possible (None: not pinned).

    A facet chip (`awsRegion = eu-west-1`) and a field chip from `=` or a frequency list
    (`awsRegion in (eu-west-1, us-east-1)`) both pin; several chips intersect. A chip that
    also keeps events without the field (a None value) cannot prune a partition.
    """
    values: list[str] | None = None
    for chip in filters:
        if isinstance(chip, FieldChip):
            if chip.kind != "field_in" or chip.path not in columns:
                continue
            if any(not isinstance(v, str) for v in chip.values):
                continue
            picked = [v for v in chip.values if isinstance(v, str)]
        elif chip.kind == "include" and chip.column in columns and isinstance(chip.value, str):
            picked = [chip.value]
        else:
            continue
        values = picked if values is None else [v for v in values if v in picked]
    return values


def partition_predicates(info: TableInfo, filters: FilterState) -> list[str]:
    """Predicates on the partition columns for the filter's time range (and region/account).

    CloudTrail writes a file under the UTC date it is delivered, minutes after its events, so
    an event of 23:58 can sit in the next day's folder: the partition range reaches one day
    past the end of the time range. `eventtime` then keeps exactly the range.
    """
    p = info.partitions
    start, end = time_range(filters)
    out: list[str] = []
    if p.kind != "none":
        if end is None and start is not None:  # "from X on": up to now (nothing is later)
            end = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
        if start is None or end is None:
            raise NeedsTimeRange(
                f"{info.qualified} is {p.describe()}: give a time range (--since, --from/--to "
                "or a time chip) so the query reads only those partitions"
            )
        first = start.date()
        last = (end - timedelta(microseconds=1)).date() + timedelta(days=1)
        if p.kind == "timestamp":
            lo = datetime.combine(first, datetime.min.time()).strftime(p.time_format)
            hi = datetime.combine(last, datetime.max.time()).strftime(p.time_format)
            out.append(f"{quote_ident(p.time_key)} BETWEEN {sql_literal(lo)} AND {sql_literal(hi)}")
        else:
            terms = _ymd_terms(p, first, last)
            out.append(terms[0] if len(terms) == 1 else "(" + "\n    OR ".join(terms) + ")")
    pinned = ((p.region_key, "awsRegion", ("awsRegion",)),
              (p.account_key, "account_id", ("account_id", "recipientAccountId")))
    for key, column, columns in pinned:
        if not key:
            continue
        values = _chip_values(filters, columns)
        if values is None:
            if key in p.injected:
                raise SqlError(
                    f"{info.qualified} needs a value for its injected partition {key!r}: "
                    f"add a chip {column} = ..."
                )
            continue
        if not values:  # two different pinned values: nothing can match
            out.append("FALSE")
        elif len(values) == 1:
            out.append(f"{quote_ident(key)} = {sql_literal(values[0])}")
        else:
            listed = ", ".join(sql_literal(v) for v in values)
            out.append(f"{quote_ident(key)} IN ({listed})")
    return out


# -- statements --------------------------------------------------------------------------------


def _where(info: TableInfo, filters: FilterState, *, require_range: bool = True) -> list[str]:
    try:
        parts = partition_predicates(info, filters)
    except NeedsTimeRange:
        if require_range:
            raise
        parts = []
    parts += [c.athena_sql() for c in filters if c.kind not in ("time", "around")]
    start, end = time_range(filters)
    if start is not None or end is not None:
        parts.append(Chip.time(start, end).athena_sql())
    return parts


def _where_text(parts: Iterable[str]) -> str:
    items = list(parts)
    if not items:
        return ""
    return "WHERE " + "\n  AND ".join(
        f"({p})" if " OR " in p and not p.startswith("(") else p for p in items
    )


def _json_expr(info: TableInfo, column: str) -> str:
    """A column as JSON text: structs and arrays are cast (field names kept), strings as is."""
    typ = info.columns.get(column, "string")
    if typ.startswith(("struct", "array", "map", "row")):
        return f"json_format(CAST({column} AS JSON))"
    return column


def event_columns(info: TableInfo) -> list[tuple[str, str]]:
    """(CloudTrail name, Trino expression) of every event field the table has."""
    out = []
    for name in EVENT_FIELDS:
        col = name.lower()
        if col in info.columns:
            out.append((name, f"{_json_expr(info, col)} AS {col}"))
    raw = info.raw_json_column
    if raw:
        out.append(("_raw", f"{raw} AS {raw}"))
    return out


_SEP: Final[str] = ",\n  "


class SqlBuilder:
    """Every statement the screen sends for one table, as Trino text."""

    def __init__(self, info: TableInfo) -> None:
        self.info = info

    def count_sql(self, filters: FilterState) -> str:
        where = _where_text(_where(self.info, filters))
        return f"SELECT count(*) AS n\nFROM {self.info.qualified}\n{where}".rstrip()

    def facets_sql(
        self, keys: Sequence[str], filters: FilterState, limit: int = FACET_LIMIT
    ) -> str:
        """One scan for the total and every facet: GROUPING SETS, top `limit` values each.

        Result rows: (g, n, c0..cN). `g` is `grouping(c0..cN)`: all bits set for the total,
        all but the facet's own bit for a facet row (the first column is the highest bit).
        """
        for key in keys:
            if key not in COLUMNS:
                raise SqlError(f"not a facet: {key!r}")
        names = [f"c{i}" for i in range(len(keys))]
        inner = ",\n    ".join(
            f"{COLUMNS[k].athena} AS {n}" for k, n in zip(keys, names, strict=True)
        )
        where = _where_text(_where(self.info, filters))
        sets = ", ".join(["()", *(f"({n})" for n in names)])
        cols = ", ".join(names)
        by_value = ", ".join(f"{n} ASC NULLS LAST" for n in names)
        return (
            f"WITH e AS (\n  SELECT\n    {inner}\n  FROM {self.info.qualified}\n  {where}\n), "
            f"g AS (\n  SELECT grouping({cols}) AS g, count(*) AS n, {cols}\n  FROM e\n"
            f"  GROUP BY GROUPING SETS ({sets})\n), "
            f"r AS (\n  SELECT g, n, {cols},\n"
            f"    row_number() OVER (PARTITION BY g ORDER BY n DESC, {by_value}) AS rn\n"
            f"  FROM g\n)\n"
            f"SELECT g, n, {cols}\nFROM r\nWHERE rn <= {int(limit)}\n"
            f"ORDER BY g, n DESC, {by_value}"
        )

    def order_by(self, sort_column: str = "eventTime", descending: bool = True) -> str:
        exprs = dict(_PAGE_EXPRS)
        if sort_column not in exprs:
            raise SqlError(f"cannot sort by {sort_column!r}")
        keys = [f"{exprs[sort_column]} {'DESC' if descending else 'ASC'} NULLS LAST"]
        if sort_column != "eventTime":
            keys.append("eventtime DESC NULLS LAST")
        keys.append("eventid ASC NULLS LAST")
        return ", ".join(keys)

    def page_sql(
        self,
        filters: FilterState,
        sort_column: str = "eventTime",
        descending: bool = True,
        limit: int = PAGE_LIMIT,
    ) -> str:
        """The ordered events: PAGE_COLUMNS first, then every event field (for the detail and
        copy; JSON tables are read whole anyway, so the extra columns cost nothing)."""
        display = [f"{expr} AS {quote_ident(name)}" for name, expr in _PAGE_EXPRS]
        full = [expr for _, expr in event_columns(self.info)]
        where = _where_text(_where(self.info, filters))
        select = ",\n  ".join(display + full)
        lim = f"\nLIMIT {int(limit)}" if limit else ""
        return (
            f"SELECT\n  {select}\nFROM {self.info.qualified}\n{where}\n"
            f"ORDER BY {self.order_by(sort_column, descending)}{lim}"
        )

    def pull_sql(self, filters: FilterState, limit: int = 0) -> str:
        """Every event field of the matching events, oldest first (the pull-down)."""
        full = [expr for _, expr in event_columns(self.info)]
        where = _where_text(_where(self.info, filters))
        lim = f"\nLIMIT {int(limit)}" if limit else ""
        return (
            f"SELECT\n  {_SEP.join(full)}\nFROM {self.info.qualified}\n{where}\n"
            f"ORDER BY eventtime ASC NULLS LAST, eventid ASC NULLS LAST{lim}"
        )

    def event_sql(
        self, event_id: str, event_time: str | None, within: FilterState | None = None
    ) -> str:
        """One event by ID; its time pins the partition to read (one or two days), else the
        time range of `within` (the filter on screen) does."""
        state = FilterState()
        when = _parse_time(event_time)
        if when is not None:
            state = state.add(Chip.time(when, when + timedelta(seconds=1)))
        elif within is not None:
            start, end = time_range(within)
            if start is not None or end is not None:
                state = state.add(Chip.time(start, end))
        full = [expr for _, expr in event_columns(self.info)]
        parts = _where(self.info, state)
        parts.append(f"eventid = {sql_literal(event_id)}")
        return (
            f"SELECT\n  {_SEP.join(full)}\nFROM {self.info.qualified}\n{_where_text(parts)}\n"
            "LIMIT 1"
        )

    def explain(
        self, filters: FilterState, keys: Sequence[str], sort_column: str = "eventTime"
    ) -> list[tuple[str, str]]:
        """(action, statement) for what the screen sends when it opens this filter."""
        return [
            ("count", self.count_sql(filters)),
            ("facets (the total and every facet panel, one scan)", self.facets_sql(keys, filters)),
            (
                "first page (the event table; scrolling reads further result pages, no new scan)",
                self.page_sql(filters, sort_column),
            ),
        ]


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def parse_event_time(text: object) -> datetime | None:
    """CloudTrail's `2024-01-01T00:00:00Z` text (as the table holds it) as a naive UTC time."""
    return _parse_time(text) if isinstance(text, str) else None


def facet_rows(
    keys: Sequence[str], rows: Iterable[Sequence[object]]
) -> tuple[int, dict[str, list[tuple[FacetValue, int]]]]:
    """Split a `facets_sql` result into the total and each facet's (value, count) list."""
    n = len(keys)
    full = (1 << n) - 1
    index = {full ^ (1 << (n - 1 - i)): i for i in range(n)}
    out: dict[str, list[tuple[FacetValue, int]]] = {k: [] for k in keys}
    total = 0
    for g, count, *values in rows:
        gi, ci = int(str(g)), int(str(count))
        if gi == full:
            total = ci
            continue
        i = index.get(gi)
        if i is None:
            continue
        value = values[i]
        key = keys[i]
        if COLUMNS[key].kind == "bool" and isinstance(value, str):
            out[key].append((value.lower() == "true", ci))
        else:
            out[key].append((None if value is None else str(value), ci))
    return total, out


# -- the console: does the user's SQL read only some partitions? -------------------------------


def missing_partition_warning(sql: str, info: TableInfo) -> str | None:
    """A warning to show before sending console SQL that reads the table with no predicate on
    its time partitions (None when the query is fine or the table has none).

    Uses sqlglot (in the athena/trino extras) to find the WHERE clauses of the SELECTs that
    read the table; without it, or when the text does not parse, any mention of a partition
    column in the text counts.
    """
    keys = info.partitions.time_keys
    if not keys:
        return None
    verdict = _sqlglot_reads_unpartitioned(sql, info, keys)
    if verdict is None:  # no sqlglot or no parse: the plain-text test
        lowered = sql.lower()
        verdict = info.table.lower() in lowered and not any(
            re.search(rf'(?<![\w"]){k}(?![\w"])|"{k}"', lowered) for k in keys
        )
    if not verdict:
        return None
    return (
        f"This query reads {info.qualified} with no condition on {'/'.join(keys)}: "
        "Athena may scan the whole table (5 USD per TB). Add e.g. "
        + _example_predicate(info)
        + " or run it anyway."
    )


def _example_predicate(info: TableInfo) -> str:
    p = info.partitions
    today = date.today()
    if p.kind == "timestamp":
        d = datetime.combine(today, datetime.min.time()).strftime(p.time_format)
        return f'"{p.time_key}" >= {sql_literal(d)}'
    year, month = _part_value(p, "year", today.year), _part_value(p, "month", today.month)
    return f"year = {year} AND month = {month}"


def _sqlglot_reads_unpartitioned(sql: str, info: TableInfo, keys: Sequence[str]) -> bool | None:
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:
        return None
    try:
        statements = sqlglot.parse(sql, read="trino")
    except sqlglot.errors.ParseError:
        return None
    table = info.table.lower()
    wanted = set(keys)
    for stmt in statements:
        if stmt is None:
            continue
        for node in stmt.find_all(exp.Table):
            if node.name.lower() != table:
                continue
            select = node.find_ancestor(exp.Select)
            where = select.args.get("where") if select is not None else None
            cols = {c.name.lower() for c in where.find_all(exp.Column)} if where else set()
            if not cols & wanted:
                return True
    return False
