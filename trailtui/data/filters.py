"""Filter state as data: the chips a user picked, turned into one parameterised WHERE clause.

Nothing here runs SQL or knows about the screen. A `FilterState` is an immutable value, so the
browser screen can hand it to worker threads, compare it with the one a result was computed for
(stale results are dropped) and keep it for undo.

Safety: every value reaches DuckDB as a bound parameter; column expressions come only from the
fixed `COLUMNS` allow-list below. The "copy as query" texts inline values, quoted by
`sql_literal` (standard SQL: a quote is doubled, a backslash is an ordinary character).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, TypeAlias

from trailtui.data import schema

ChipKind = Literal["include", "exclude", "search", "time", "around", "finding"]
ColumnKind = Literal["text", "bool"]
# What a facet row or a pivot can hold: text, a boolean (readOnly), or NULL ("no value").
FacetValue = str | bool | None
# Turns one value into (placeholder or literal, params): `?` + [value] or an inlined literal.
_BindFn: TypeAlias = Callable[[object], tuple[str, list[object]]]

# "±15 minutes around an event": what the label says, [t - 15 min, t + 15 min). Centred because
# what led up to an event matters as much as what followed. `pivot_chips(around=...)` adjusts it.
AROUND_HALF_WIDTH: Final[timedelta] = timedelta(minutes=15)

ATHENA_TABLE: Final[str] = "cloudtrail_logs.cloudtrail_partitioned"
NULL_LABEL: Final[str] = "(none)"


@dataclass(frozen=True)
class Column:
    """One column a chip may name: its expression over `events` and over the Athena table."""

    key: str
    title: str
    sql: str  # DuckDB, over the `events` table
    athena: str  # Athena/Trino, over the CloudTrail table (lower-case names, string eventtime)
    kind: ColumnKind = "text"


def _athena_actor() -> str:
    """schema.ACTOR_EXPR rewritten for the Athena CloudTrail table, so both stay in step.

    Struct fields are lower-case there, and the table has no `credentialid` (an Identity Center
    user without `onBehalfOf` is then labelled 'IdentityCenterUser' in Athena).
    """
    expr = re.sub(
        r"\bui\.((?:\w+\.)*\w+)", lambda m: "useridentity." + m.group(1).lower(), schema.ACTOR_EXPR
    )
    expr = re.sub(r'\br\."(\w+)"', lambda m: m.group(1).lower(), expr)
    return re.sub(r"useridentity\.credentialid,\s*", "", expr)


def _columns(*cols: Column) -> dict[str, Column]:
    return {c.key: c for c in cols}


# The allow-list: every column a chip, facet, pivot or sort may name. Facet definitions in
# `views.FACETS` refer to these keys.
COLUMNS: Final[dict[str, Column]] = _columns(
    Column("actor", "user/role", "actor", _athena_actor()),
    Column("eventSource", "service", "eventSource", "eventsource"),
    Column("sourceIPAddress", "source IP", "sourceIPAddress", "sourceipaddress"),
    Column("eventName", "event name", "eventName", "eventname"),
    Column("awsRegion", "region", "awsRegion", "awsregion"),
    Column("errorCode", "error code", "errorCode", "nullif(errorcode, '')"),
    Column(
        "identity_type",
        "identity type",
        "identity_type",
        "coalesce(useridentity.type, "
        "CASE WHEN useridentity.invokedby IS NOT NULL THEN 'AWSService' END)",
    ),
    Column(
        "account_id",
        "account",
        "account_id",
        "coalesce(recipientaccountid, useridentity.accountid)",
    ),
    Column("userAgent", "user agent", "userAgent", "useragent"),
    Column("readOnly", "read-only", "readOnly", "readonly", "bool"),
    Column("eventType", "event type", "eventType", "eventtype"),
    Column("eventCategory", "event category", "eventCategory", "eventcategory"),
    Column("access_key", "access key", "access_key", "nullif(useridentity.accesskeyid, '')"),
    Column("session_arn", "session", '"userIdentity".arn', "useridentity.arn"),
    Column("principal_id", "principal", '"userIdentity".principalId', "useridentity.principalid"),
    Column(
        "role_arn",
        "role",
        '"userIdentity".sessionContext.sessionIssuer.arn',
        "useridentity.sessioncontext.sessionissuer.arn",
    ),
    Column("eventID", "event ID", "eventID", "eventid"),
)

# Free-text search covers every text column and every JSON column of the event (cast to its
# JSON text), plus each text leaf of the userIdentity struct (a struct cast to VARCHAR escapes
# quotes its own way, the leaves are exact).
SEARCH_TEXT_COLUMNS: Final[tuple[str, ...]] = (
    "eventName", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "errorCode",
    "errorMessage", "eventID", "requestID", "eventType", "eventCategory", "eventVersion",
    "apiVersion", "recipientAccountId", "sharedEventID", "vpcEndpointId",
    "vpcEndpointAccountId", "actor", "access_key", "account_id",
)  # fmt: skip
SEARCH_JSON_COLUMNS: Final[tuple[str, ...]] = tuple(
    name for name, typ in schema.EVENT_COLUMNS if typ == "JSON"
)

# Athena's CloudTrail table (the AWS-documented DDL): JSON objects are strings there; resources
# and tlsdetails are typed arrays/structs with no portable text cast, so they are not searched.
_ATHENA_SEARCH_TEXT: Final[tuple[str, ...]] = (
    "eventname", "eventsource", "awsregion", "sourceipaddress", "useragent", "errorcode",
    "errormessage", "eventid", "requestid", "eventtype", "eventversion", "apiversion",
    "recipientaccountid", "sharedeventid", "vpcendpointid",
    "useridentity.type", "useridentity.principalid", "useridentity.arn",
    "useridentity.accountid", "useridentity.invokedby", "useridentity.accesskeyid",
    "useridentity.username", "useridentity.onbehalfof.userid",
    "useridentity.onbehalfof.identitystorearn",
    "useridentity.sessioncontext.sessionissuer.principalid",
    "useridentity.sessioncontext.sessionissuer.arn",
    "useridentity.sessioncontext.sessionissuer.accountid",
    "useridentity.sessioncontext.sessionissuer.username",
)  # fmt: skip
_ATHENA_SEARCH_JSON: Final[tuple[str, ...]] = (
    "requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails",
)  # fmt: skip


PARAM_PREFIX: Final[str] = "requestParameters."


def param_column(key: str) -> str:
    """The chip column for `requestParameters.<key>` (any key: it is bound, never inlined)."""
    return PARAM_PREFIX + key


def _json_pointer(key: str) -> str:
    """A JSON Pointer to one top-level key: exact for any key (dots, quotes, slashes)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def column_sql(column: str) -> tuple[str, list[object]]:
    """A chip column's DuckDB expression and its parameters (`requestParameters.<key>` binds
    the key as a JSON Pointer; allow-listed columns have none)."""
    if column.startswith(PARAM_PREFIX):
        return "json_extract_string(requestParameters, ?)", [
            _json_pointer(column[len(PARAM_PREFIX):])]
    return COLUMNS[column].sql, []


def _column_literal_sql(column: str) -> str:
    """`column_sql` with the key inlined, for the copied queries only."""
    sql, params = column_sql(column)
    return sql.replace("?", sql_literal(params[0])) if params else sql


def _athena_column(column: str) -> Column:
    if column.startswith(PARAM_PREFIX):
        key = column[len(PARAM_PREFIX):].replace("\\", "\\\\").replace('"', '\\"')
        path = sql_literal(f'$["{key}"]')
        return Column(column, column, "", f"json_extract_scalar(requestparameters, {path})")
    return COLUMNS[column]


def _identity_leaves(spec: Mapping[str, object], prefix: str) -> Iterator[str]:
    """SQL for every leaf of the userIdentity struct, from the schema's own spec."""
    for name, typ in spec.items():
        path = f'{prefix}."{name}"'
        if isinstance(typ, Mapping):
            yield from _identity_leaves(typ, path)
        else:
            yield path if typ == "VARCHAR" else f"CAST({path} AS VARCHAR)"


_SEARCH_TEXT_SQL: Final[tuple[str, ...]] = (
    *(f'"{c}"' for c in SEARCH_TEXT_COLUMNS),
    *_identity_leaves(json.loads(schema.USER_IDENTITY_SPEC), '"userIdentity"'),
)
_SEARCH_JSON_SQL: Final[tuple[str, ...]] = tuple(
    f'CAST("{c}" AS VARCHAR)' for c in SEARCH_JSON_COLUMNS
)


def _utc_naive(value: datetime) -> datetime:
    """Aware times become naive UTC (as `events.eventTime` is); naive ones are taken as UTC."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _ceil_second(value: datetime) -> datetime:
    """The next whole second (or the value itself when it is one).

    For whole-second event times `t >= s <=> t >= ceil(s)` and `t < e <=> t < ceil(e)`, which
    lets the Athena query compare CloudTrail's second-precision ISO strings exactly.
    """
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def _has_case(text: str) -> bool:
    """Whether case-insensitive matching differs from exact matching for this text.

    An IP address or an account number has no cased letters: plain `contains` is then both
    exact and about twice as fast as lowering every value first.
    """
    return text.lower() != text or text.upper() != text


def json_escaped(text: str) -> str:
    """How `text` appears inside a JSON string value (quotes, backslashes, control chars)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def sql_literal(value: object) -> str:
    """A value as a standalone SQL literal, for the copied queries only (never executed here)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{_utc_naive(value).isoformat(sep=' ')}'"
    text = str(value).replace("\x00", "")  # neither engine accepts NUL inside a literal
    return "'" + text.replace("'", "''") + "'"


def copy_literal(value: object) -> str:
    """A value for a query the user copies ("Copy filter as SQL"): text with control or bidi
    characters becomes `'a' || chr(27) || 'b'`, NUL included, so the copied query holds no raw
    attacker bytes and matches exactly the events the screen matched."""
    if isinstance(value, str):
        return _string_literal(value)
    return sql_literal(value)


# Characters a copied query must not carry raw: C0/C1 controls (ESC, BEL, CR, LF, NUL...) and
# bidi/format characters. A terminal or an editor would act on them or hide them, and neither
# engine accepts NUL inside a literal, so each becomes `chr(N)`, concatenated: the copied query
# then matches exactly the events the screen matched (both engines have `chr` and `||`).
_RAW_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]")


def _string_literal(text: str) -> str:
    if not _RAW_UNSAFE.search(text):
        return "'" + text.replace("'", "''") + "'"
    parts: list[str] = []
    last = 0
    for m in _RAW_UNSAFE.finditer(text):
        if m.start() > last:
            parts.append("'" + text[last : m.start()].replace("'", "''") + "'")
        parts.append(f"chr({ord(m.group())})")
        last = m.end()
    if last < len(text):
        parts.append("'" + text[last:].replace("'", "''") + "'")
    return "(" + " || ".join(parts) + ")"


def _athena_time(value: datetime) -> str:
    return "'" + _ceil_second(value).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def _fmt_value(value: FacetValue) -> str:
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _fmt_times(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """Short display text of a range: seconds only when needed, the date once when shared."""
    bounds = [b for b in (start, end) if b is not None]
    seconds = any(b.second or b.microsecond for b in bounds)
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    s = start.strftime(fmt) if start else ""
    e = end.strftime(fmt) if end else ""
    if start and end and start.date() == end.date():
        e = end.strftime(fmt[9:])  # time of day only
    return s, e


@dataclass(frozen=True)
class Chip:
    """One filter the user picked. Build chips with the class methods, not the constructor.

    include/exclude: `column` (a key of COLUMNS) equals / does not equal `value`; a None value
    means "has no value" (IS NULL / IS NOT NULL). Exclude keeps NULL rows (IS DISTINCT FROM).
    search: `value` is the text, found case-insensitively anywhere in the event.
    time: [start, end) in UTC, either bound may be None. around: `center` +- AROUND_HALF_WIDTH.
    """

    kind: ChipKind
    column: str = ""
    value: FacetValue = None
    start: datetime | None = None
    end: datetime | None = None
    center: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end", "center"):
            moment = getattr(self, name)
            if moment is not None:
                if not isinstance(moment, datetime):
                    raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
                object.__setattr__(self, name, _utc_naive(moment))
        if self.kind in ("include", "exclude"):
            col: Column | None = COLUMNS.get(self.column)
            if self.column.startswith(PARAM_PREFIX) and len(self.column) > len(PARAM_PREFIX):
                col = Column(self.column, self.column, "", "")
            if col is None:
                raise ValueError(f"not a filterable column: {self.column!r}")
            object.__setattr__(self, "value", _coerce(col, self.value))
        elif self.kind == "search":
            if not isinstance(self.value, str) or not self.value:
                raise ValueError("search needs some text")
        elif self.kind == "finding":
            if not isinstance(self.value, str) or not self.value:
                raise ValueError("a finding chip needs a rule id")
        elif self.kind in ("time", "around"):
            if self.start is None and self.end is None:
                raise ValueError("a time range needs a start or an end")
            if self.start is not None and self.end is not None and self.end < self.start:
                raise ValueError("a time range cannot end before it starts")
        else:
            raise ValueError(f"unknown chip kind: {self.kind!r}")

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def include(cls, column: str, value: FacetValue) -> Chip:
        """`column = value` (None: the column has no value)."""
        return cls("include", column, value)

    @classmethod
    def exclude(cls, column: str, value: FacetValue) -> Chip:
        """`column != value`, keeping events where the column has no value."""
        return cls("exclude", column, value)

    @classmethod
    def search(cls, text: str) -> Chip:
        """Events whose text anywhere (JSON included) contains `text`, ignoring case."""
        return cls("search", value=text)

    @classmethod
    def time(cls, start: datetime | None, end: datetime | None) -> Chip:
        """Events in [start, end); naive datetimes are UTC."""
        return cls("time", start=start, end=end)

    @classmethod
    def around(cls, center: datetime, half_width: timedelta = AROUND_HALF_WIDTH) -> Chip:
        """Events in [center - half_width, center + half_width)."""
        c = _utc_naive(center)
        return cls("around", start=c - half_width, end=c + half_width, center=c)

    @classmethod
    def finding(cls, rule_id: str, title: str = "") -> Chip:
        """The events a detection rule flagged (the `findings` view); `title` is for the label."""
        return cls("finding", column=title, value=rule_id)

    # -- text -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """Short display text. Raw data: the UI must sanitise it before showing it."""
        if self.kind == "finding":
            return f"finding: {self.column or self.value}"
        if self.kind == "include":
            return f"{self.column} = {_fmt_value(self.value)}"
        if self.kind == "exclude":
            return f"not {self.column} = {_fmt_value(self.value)}"
        if self.kind == "search":
            return f'search "{self.value}"'
        if self.kind == "around" and self.center is not None and self.start is not None:
            minutes = (self.center - self.start).total_seconds() / 60
            return f"around {self.center.strftime('%Y-%m-%d %H:%M:%S')} ±{minutes:g} min"
        s, e = _fmt_times(self.start, self.end)
        if self.start is None:
            return f"time before {e}"
        if self.end is None:
            return f"time from {s}"
        return f"time {s} – {e}"

    # -- SQL ------------------------------------------------------------------------------

    def where(self) -> tuple[str, list[object]]:
        """This chip as a DuckDB condition over `events` with `?` placeholders, and params."""
        if self.kind in ("include", "exclude"):
            expr, params = column_sql(self.column)
            if self.value is None:
                return f"{expr} IS {'NOT ' if self.kind == 'exclude' else ''}NULL", params
            op = "=" if self.kind == "include" else "IS DISTINCT FROM"
            return f"{expr} {op} ?", [*params, self.value]
        if self.kind == "search":
            return _search_sql(str(self.value), lambda v: ("?", [v]))
        if self.kind == "finding":
            return _FINDING_SQL, [self.value]
        return _time_sql(self.start, self.end, lambda v: ("?", [v]))

    def duckdb_sql(self, literal: Callable[[object], str] = copy_literal) -> str:
        """This chip as a standalone DuckDB condition with the values inlined."""
        if self.kind in ("include", "exclude"):
            expr = _column_literal_sql(self.column)
            if self.value is None:
                return f"{expr} IS {'NOT ' if self.kind == 'exclude' else ''}NULL"
            op = "=" if self.kind == "include" else "IS DISTINCT FROM"
            return f"{expr} {op} {literal(self.value)}"
        if self.kind == "search":
            return _search_sql(str(self.value), lambda v: (literal(v), []), indent="    ")[0]
        if self.kind == "finding":
            return _FINDING_SQL.replace("?", literal(self.value))
        return _time_sql(self.start, self.end, lambda v: (literal(v), []))[0]

    def athena_sql(self, literal: Callable[[object], str] = sql_literal) -> str:
        """This chip as a condition over the Athena CloudTrail table, values inlined."""
        if self.kind in ("include", "exclude"):
            col = _athena_column(self.column)
            if self.value is None:
                return f"{col.athena} IS {'NOT ' if self.kind == 'exclude' else ''}NULL"
            value = self.value
            if col.kind == "bool":  # `readonly` is the string 'true'/'false' in Athena
                value = "true" if value else "false"
            op = "=" if self.kind == "include" else "IS DISTINCT FROM"
            return f"{col.athena} {op} {literal(value)}"
        if self.kind == "search":
            return _athena_search(str(self.value), literal)
        if self.kind == "finding":  # findings exist only in trailtui's DuckDB
            return f"TRUE /* finding {str(self.value).replace('*/', '* /')}: not in Athena */"
        parts = []
        if self.start is not None:
            parts.append(f"eventtime >= {_athena_time(self.start)}")
        if self.end is not None:
            parts.append(f"eventtime < {_athena_time(self.end)}")
        return " AND ".join(parts)


# The events a rule flagged, by the same key the browser opens events with.
_FINDING_SQL: Final[str] = (
    "(_file_id, _line) IN (SELECT _file_id, _line FROM findings WHERE rule_id = ?)"
)


def _coerce(col: Column, value: object) -> FacetValue:
    """Check a value against its column's kind ('true'/'false' text is taken for booleans)."""
    if value is None:
        return None
    if col.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TypeError(f"{col.key} takes true/false, not {value!r}")
    if isinstance(value, str):
        return value
    raise TypeError(f"{col.key} takes text, not {type(value).__name__}")


def _search_sql(
    text: str,
    bind: _BindFn,
    indent: str = "",
) -> tuple[str, list[object]]:
    """OR of one substring test per column: exact per column, no escaping of the user's text.

    `contains` has no wildcards, so `%`, `_` and backslashes are literal. JSON columns are also
    tried with the text as JSON writes it (`a"b` is stored as `a\\"b`).
    """
    escaped = json_escaped(text)

    def test(expr: str, needle: str) -> tuple[str, list[object]]:
        ph, params = bind(needle)
        if _has_case(needle):
            return f"contains(lower({expr}), lower({ph}))", params
        return f"contains({expr}, {ph})", params

    parts: list[str] = []
    params: list[object] = []
    for expr in _SEARCH_TEXT_SQL:
        sql, p = test(expr, text)
        parts.append(sql)
        params += p
    for expr in _SEARCH_JSON_SQL:
        for needle in dict.fromkeys((text, escaped)):
            sql, p = test(expr, needle)
            parts.append(sql)
            params += p
    sep = f"\n{indent}OR " if indent else " OR "
    lead = f"\n{indent}" if indent else ""
    return f"({lead}{sep.join(parts)})", params


def _athena_search(text: str, literal: Callable[[object], str] = sql_literal) -> str:
    """The search as Trino SQL: `strpos(lower(col), 'text') > 0` per column."""
    parts = [f"strpos(lower({c}), {literal(text.lower())}) > 0" for c in _ATHENA_SEARCH_TEXT]
    for c in _ATHENA_SEARCH_JSON:
        for needle in dict.fromkeys((text, json_escaped(text))):
            parts.append(f"strpos(lower({c}), {literal(needle.lower())}) > 0")
    return "(\n    " + "\n    OR ".join(parts) + ")"


def _time_sql(
    start: datetime | None, end: datetime | None, bind: _BindFn
) -> tuple[str, list[object]]:
    parts: list[str] = []
    params: list[object] = []
    if start is not None:
        ph, p = bind(start)
        parts.append(f"eventTime >= {ph}")
        params += p
    if end is not None:
        ph, p = bind(end)
        parts.append(f"eventTime < {ph}")
        params += p
    return " AND ".join(parts), params


_BOOKKEEPING: Final[tuple[str, ...]] = tuple(c for c in schema.COLUMN_NAMES if c.startswith("_"))


@dataclass(frozen=True)
class FilterState:
    """An immutable list of chips (ANDed). Every change returns a new state.

    `undo()` returns the state before the last change (an add *or* a remove); a state built
    directly from chips, with no history, undoes by dropping its last chip.
    """

    chips: tuple[AnyChip, ...] = ()
    previous: FilterState | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.chips)

    def __iter__(self) -> Iterator[AnyChip]:
        return iter(self.chips)

    def __bool__(self) -> bool:
        return bool(self.chips)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.chips)

    @property
    def has_search(self) -> bool:
        """A free-text chip is present: every query under this filter scans all the text
        (~0.9 s at 1M events), so results derived from one view beat re-running it."""
        return any(c.kind == "search" for c in self.chips)

    def add(self, chip: AnyChip) -> FilterState:
        """This state plus `chip`; adding a chip already present changes nothing."""
        if chip in self.chips:
            return self
        return FilterState((*self.chips, chip), self)

    def remove(self, chip: AnyChip | int) -> FilterState:
        """Without `chip` (or the chip at that index); unchanged when it is not there.

        Lenient on purpose: a stale click on a chip that is already gone must not crash.
        """
        if isinstance(chip, int):
            if not -len(self.chips) <= chip < len(self.chips):
                return self
            index = chip % len(self.chips)
        elif chip in self.chips:
            index = self.chips.index(chip)
        else:
            return self
        return FilterState(self.chips[:index] + self.chips[index + 1 :], self)

    def clear(self) -> FilterState:
        return FilterState((), self) if self.chips else self

    def undo(self) -> FilterState:
        if self.previous is not None:
            return self.previous
        if self.chips:
            return FilterState(self.chips[:-1])
        return self

    # -- SQL ------------------------------------------------------------------------------

    def where(self) -> tuple[str, list[object]]:
        """A DuckDB WHERE fragment over `events` (`TRUE` when empty) and its parameters."""
        if not self.chips:
            return "TRUE", []
        parts: list[str] = []
        params: list[object] = []
        for chip in self.chips:
            sql, p = chip.where()
            parts.append(f"({sql})")
            params += p
        return " AND ".join(parts), params

    def to_duckdb_sql(self, table: str = "events") -> str:
        """A standalone, readable DuckDB query for these events, newest first."""
        hidden = f" EXCLUDE ({', '.join(_BOOKKEEPING)})" if table == "events" else ""
        lines = [f"SELECT *{hidden}", f"FROM {table}"]
        lines += _where_lines(c.duckdb_sql() for c in self.chips)
        lines.append("ORDER BY eventTime DESC")
        return "\n".join(lines) + ";"

    def to_athena_sql(self, table: str = ATHENA_TABLE) -> str:
        """The same question for Athena over the CloudTrail table, newest first.

        No partition predicates are added (partition layouts differ between tables); add
        them to limit the data scanned.
        """
        lines = ["SELECT *", f"FROM {table}"]
        lines += _where_lines(c.athena_sql(copy_literal) for c in self.chips)
        lines.append("ORDER BY eventtime DESC")
        return "\n".join(lines) + ";"


def _where_lines(conditions: Iterator[str]) -> list[str]:
    out: list[str] = []
    for i, cond in enumerate(conditions):
        out.append(f"{'WHERE' if i == 0 else '  AND'} {cond}")
    return out


def pivot_chips(
    row: Mapping[str, object], around: timedelta = AROUND_HALF_WIDTH
) -> dict[str, Chip]:
    """Chips that pivot from one event, by key:

    - `actor`: the same readable actor; `access_key`: the same access key;
    - `session`: this credential, i.e. the same temporary access key (`ASIA...`); a role
      session name is reused by every AssumeRole with that name, so it is not a session;
    - `role`: every session of the same role (the session issuer's ARN);
    - `role_session`: the same role-session ARN (`assumed-role/<role>/<session name>`);
    - `source_ip`: the same source IP; `around`: `around` before and after the event.

    `row` is an event as `views.event_row` returns it (or any mapping with the same keys; a
    flat `session_arn`/`principal_id`/`role_arn` works too). Pivots with nothing to pivot on
    are left out: "same access key" when the event had none would match everything without one.
    """
    out: dict[str, Chip] = {}
    actor = row.get("actor")
    if isinstance(actor, str):
        out["actor"] = Chip.include("actor", actor)
    key = row.get("access_key")
    if isinstance(key, str) and key:
        out["access_key"] = Chip.include("access_key", key)
        if key.startswith("ASIA"):
            out["session"] = Chip.include("access_key", key)
    ip = row.get("sourceIPAddress")
    if isinstance(ip, str) and ip:
        out["source_ip"] = Chip.include("sourceIPAddress", ip)
    ui = row.get("userIdentity")
    ui_map: Mapping[str, object] = ui if isinstance(ui, Mapping) else {}
    context = ui_map.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    role = issuer.get("arn") if isinstance(issuer, Mapping) else row.get("role_arn")
    if isinstance(role, str) and role:
        out["role"] = Chip.include("role_arn", role)
    arn = ui_map.get("arn", row.get("session_arn"))
    principal = ui_map.get("principalId", row.get("principal_id"))
    if isinstance(arn, str) and arn:
        out["role_session"] = Chip.include("session_arn", arn)
    elif isinstance(principal, str) and principal:
        out["role_session"] = Chip.include("principal_id", principal)
    when = row.get("eventTime")
    if isinstance(when, datetime):
        out["around"] = Chip.around(when, around)
    return out


# -- chips on any field (issue 12) ---------------------------------------------------------------
# A `FieldChip` names a field by its path (`userIdentity.arn`, `requestParameters.bucketName`)
# and holds one or more values, ORed: `eventSource in (s3, ec2)` is one chip. Its SQL comes
# from `fields.field_for` (fixed identifiers, JSON keys as a quoted JSON pointer); values are
# always bound. It has the same surface as `Chip` (kind, label, where, duckdb_sql,
# athena_sql), so `FilterState` holds both.

FieldChipKind = Literal["field_in", "field_not_in"]


def _field_value(kind: str, value: object) -> FacetValue:
    """A value checked against a field's kind: text, or true/false for a BOOLEAN field."""
    if value is None:
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        raise TypeError(f"takes true/false, not {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return _utc_naive(value).isoformat(sep=" ")
    raise TypeError(f"takes text, not {type(value).__name__}")


@dataclass(frozen=True)
class FieldChip:
    """`path` equals one of `values` (field_in) or none of them (field_not_in).

    A None value means "has no value" (IS NULL). Exclusion keeps events without the field,
    as `Chip.exclude` does. Values keep the order they were picked in; duplicates are dropped.
    """

    kind: FieldChipKind
    path: str
    values: tuple[FacetValue, ...]

    def __post_init__(self) -> None:
        from trailtui.data.fields import field_for, format_path, parse_path

        if self.kind not in ("field_in", "field_not_in"):
            raise ValueError(f"unknown chip kind: {self.kind!r}")
        fld = field_for(self.path)  # raises ValueError for a path that names no field
        object.__setattr__(self, "path", format_path(parse_path(self.path)))
        if not self.values:
            raise ValueError("a field filter needs at least one value")
        kind = "bool" if fld.kind == "bool" else "text"
        values = tuple(dict.fromkeys(_field_value(kind, v) for v in self.values))
        object.__setattr__(self, "values", values)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def equals(cls, path: str, *values: FacetValue) -> FieldChip:
        """`path` equals any of `values` (OR)."""
        return cls("field_in", path, tuple(values))

    @classmethod
    def not_equals(cls, path: str, *values: FacetValue) -> FieldChip:
        """`path` equals none of `values`; events without the field are kept."""
        return cls("field_not_in", path, tuple(values))

    @property
    def negated(self) -> bool:
        return self.kind == "field_not_in"

    def with_value(self, value: FacetValue) -> FieldChip:
        """This chip with one more value ORed in (unchanged when it is already there)."""
        return FieldChip(self.kind, self.path, (*self.values, value))

    def without_value(self, value: FacetValue) -> FieldChip | None:
        """This chip without `value`; None when no value would be left."""
        rest = tuple(v for v in self.values if v != value or type(v) is not type(value))
        return FieldChip(self.kind, self.path, rest) if rest else None

    # -- text -------------------------------------------------------------------------------

    @property
    def column(self) -> str:
        """The path, under the name `Chip` uses (code that lists chips by column reads it)."""
        return self.path

    @property
    def label(self) -> str:
        """Short display text. Raw data: the UI must sanitise it before showing it."""
        if len(self.values) == 1:
            op = "!=" if self.negated else "="
            return f"{self.path} {op} {_fmt_value(self.values[0])}"
        op = "not in" if self.negated else "in"
        return f"{self.path} {op} ({', '.join(_fmt_value(v) for v in self.values)})"

    # -- SQL --------------------------------------------------------------------------------

    def _sql(self, expr: str, bind: _BindFn) -> tuple[str, list[object]]:
        has_null = any(v is None for v in self.values)
        present = [v for v in self.values if v is not None]
        params: list[object] = []
        holders: list[str] = []
        for v in present:
            ph, p = bind(v)
            holders.append(ph)
            params += p
        if len(holders) == 1:
            test = f"{expr} = {holders[0]}"
        elif holders:
            test = f"{expr} IN ({', '.join(holders)})"
        else:
            test = ""
        if not self.negated:
            parts = [t for t in (test, f"{expr} IS NULL" if has_null else "") if t]
            sql = " OR ".join(parts)
            return (f"({sql})" if len(parts) > 1 else sql), params
        parts = []
        if test:
            parts.append(f"NOT coalesce({test}, FALSE)")
        if has_null:
            parts.append(f"{expr} IS NOT NULL")
        return " AND ".join(parts), params

    def where(self) -> tuple[str, list[object]]:
        """This chip as a DuckDB condition over `events` with `?` placeholders, and params."""
        from trailtui.data.fields import field_for

        return self._sql(field_for(self.path).sql, lambda v: ("?", [v]))

    def duckdb_sql(self, literal: Callable[[object], str] = copy_literal) -> str:
        """This chip as a standalone DuckDB condition with the values inlined."""
        from trailtui.data.fields import field_for

        return self._sql(field_for(self.path).sql, lambda v: (literal(v), []))[0]

    def athena_sql(self, literal: Callable[[object], str] = copy_literal) -> str:
        """This chip over the Athena CloudTrail table, values inlined (booleans as text)."""
        from trailtui.data.fields import field_for

        fld = field_for(self.path)
        expr = COLUMNS[fld.top].athena if fld.top in COLUMNS and not fld.nested else (
            fld.athena_sql())

        def bind(v: object) -> tuple[str, list[object]]:
            if isinstance(v, bool):  # readonly & co. are 'true'/'false' text in Athena
                v = "true" if v else "false"
            return literal(v), []

        return self._sql(expr, bind)[0]


AnyChip: TypeAlias = Chip | FieldChip


def toggle_field_value(
    state: FilterState, path: str, value: FacetValue, *, negate: bool = False
) -> FilterState:
    """Pick or unpick one value of a field, ORed with the values already picked for it.

    The first value adds a chip; more values widen that chip (`eventSource in (a, b)`);
    picking a value again takes it out (the chip goes when none is left). Include and exclude
    chips on the same field are separate. Undo steps back one pick at a time.
    """
    kind: FieldChipKind = "field_not_in" if negate else "field_in"
    probe = FieldChip(kind, path, (value,))
    for i, chip in enumerate(state.chips):
        if isinstance(chip, FieldChip) and chip.kind == kind and chip.path == probe.path:
            present = any(v == probe.values[0] and type(v) is type(probe.values[0])
                          for v in chip.values)
            new = chip.without_value(probe.values[0]) if present else chip.with_value(
                probe.values[0])
            rest = list(state.chips)
            if new is None:
                del rest[i]
            else:
                rest[i] = new
            return FilterState(tuple(rest), state)
    # A pivot's `Chip.include` on the same column joins the OR instead of ANDing with it.
    old_kind = "exclude" if negate else "include"
    for i, chip in enumerate(state.chips):
        if isinstance(chip, Chip) and chip.kind == old_kind and chip.column == probe.path:
            if chip.value == probe.values[0]:
                return FilterState(state.chips[:i] + state.chips[i + 1:], state)
            rest = list(state.chips)
            rest[i] = FieldChip(kind, probe.path, (chip.value, probe.values[0]))
            return FilterState(tuple(rest), state)
    return state.add(probe)


def field_values(state: FilterState, path: str, *, negate: bool = False) -> tuple[FacetValue, ...]:
    """The values picked for a field (to tick them in its frequency list)."""
    kind = "field_not_in" if negate else "field_in"
    for chip in state.chips:
        if isinstance(chip, FieldChip) and chip.kind == kind and chip.path == path:
            return chip.values
    return ()


def set_field_values(
    state: FilterState, path: str, values: tuple[FacetValue, ...], *, negate: bool = False
) -> FilterState:
    """The field's include (or exclude) chip holding exactly `values` (none: chip removed).

    For a frequency list where several values were ticked at once: one undo step.
    """
    kind: FieldChipKind = "field_not_in" if negate else "field_in"
    new = FieldChip(kind, path, values) if values else None
    norm = new.path if new is not None else FieldChip(kind, path, (None,)).path
    chips = list(state.chips)
    for i, chip in enumerate(chips):
        if isinstance(chip, FieldChip) and chip.kind == kind and chip.path == norm:
            if new is None:
                del chips[i]
            elif new == chip:
                return state
            else:
                chips[i] = new
            return FilterState(tuple(chips), state)
    return state.add(new) if new is not None else state
