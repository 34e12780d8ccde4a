"""Sigma rules for CloudTrail, converted once to DuckDB SQL over the `events` table.

Why our own converter and not pySigma: pySigma 2.0 pulls in google-re2, jq, requests,
diskcache and jinja2, and its DuckDB backend (0.1.4) treats `userIdentity.type` as a column
named so, compares case-sensitively and negates without NULL safety (see the detections
benchmark README). CloudTrail needs three field kinds mapped: plain columns, the `userIdentity`
STRUCT and the JSON columns (`requestParameters.ipPermissions.items.ipRanges...`), where Sigma
means "any element" at each list. This module does exactly that and nothing else.

Semantics (Sigma specification 2.x): string matches are case-insensitive (`|cased` makes them
exact), `*` and `?` are wildcards (`\\*` a literal star), a list of values is OR (`|all`: AND),
a missing field never matches, so `not filter` is true when the filter's field is absent (every
leaf is `coalesce(..., false)`: SQL NULL never leaks into `NOT`). Every value is a bound
parameter; field names are validated against a fixed pattern before they reach SQL text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from trailtui.data.schema import EVENT_COLUMNS, USER_IDENTITY_SPEC

LEVELS: Final[tuple[str, ...]] = ("informational", "low", "medium", "high", "critical")


class ConversionError(Exception):
    """A rule that cannot be converted: reported by name and reason, never dropped silently."""


@dataclass
class Sql:
    """A SQL boolean (or value) expression and the parameters its `?` placeholders take."""

    text: str
    params: list[Any] = field(default_factory=list)


@dataclass
class Rule:
    """One Sigma detection rule, converted."""

    rule_id: str
    title: str
    level: str
    tags: list[str]
    where: Sql
    # lower-cased, `x*` a prefix; None: the rule can match any eventName (no prefilter)
    event_names: frozenset[str] | None
    name: str | None = None
    description: str = ""
    attempt_level: str | None = None  # our extension: the level when the event has an errorCode
    generate: bool = True
    source: str = ""


@dataclass
class Correlation:
    """One Sigma correlation rule (`event_count`, `value_count`, `temporal[_ordered]`)."""

    rule_id: str
    title: str
    level: str
    tags: list[str]
    kind: str
    rules: list[str]  # ids or names of the rules it correlates
    group_by: list[Sql]
    timespan_s: int
    op: str  # gt, gte, eq, ... (event_count, value_count)
    threshold: int
    value_field: Sql | None
    name: str | None = None
    description: str = ""
    attempt_level: str | None = None
    generate_refs: bool = False  # Sigma `generate`: do the referenced rules alert on their own?
    source: str = ""


@dataclass
class Problem:
    """A rule (document) that could not be converted, and why."""

    source: str
    title: str
    reason: str


# --- fields -----------------------------------------------------------------------------------

_COLUMN_TYPES: Final[dict[str, str]] = {n: t for n, t in EVENT_COLUMNS if not n.startswith("_")}
_COLUMNS_LOWER: Final[dict[str, str]] = {n.lower(): n for n in _COLUMN_TYPES}
_KEY = re.compile(r"^[A-Za-z0-9_@:\-]+(\[\*\])?$")


def _struct_paths(spec: str) -> set[str]:
    """Dotted paths of the userIdentity STRUCT (`sessionContext.sessionIssuer.userName`)."""
    import json

    out: set[str] = set()

    def walk(node: Any, prefix: str) -> None:
        for k, v in node.items():
            out.add(prefix + k)
            if isinstance(v, dict):
                walk(v, prefix + k + ".")

    walk(json.loads(spec), "")
    return out


_UI_PATHS: Final[set[str]] = _struct_paths(USER_IDENTITY_SPEC)
_UI_LOWER: Final[dict[str, str]] = {p.lower(): p for p in _UI_PATHS}
_UI_JSON_LEAVES: Final[set[str]] = {
    "sessionContext.webIdFederationData.attributes",
}


@dataclass(frozen=True)
class FieldRef:
    """Where a Sigma field's value(s) come from: one scalar, or a list (any element matches)."""

    expr: str
    is_list: bool


def field_ref(name: str) -> FieldRef:
    """Map a Sigma field name onto the events table, or raise ConversionError."""
    parts = name.split(".")
    head = _COLUMNS_LOWER.get(parts[0].lower())
    if head is None:
        raise ConversionError(f"unknown field {name!r}")
    kind = _COLUMN_TYPES[head]
    col = f'"{head}"'
    rest = parts[1:]
    if not rest:
        if kind == "VARCHAR":
            return FieldRef(col, False)
        if kind == "BOOLEAN":
            return FieldRef(f"lower(CAST({col} AS VARCHAR))", False)
        if kind == "TIMESTAMP":
            return FieldRef(f"strftime({col}, '%Y-%m-%dT%H:%M:%SZ')", False)
        if kind == "JSON":
            return FieldRef(f"CAST({col} AS VARCHAR)", False)
        if kind == "STRUCT":
            return FieldRef(f"CAST(to_json({col}) AS VARCHAR)", False)
        raise ConversionError(f"field {name!r} has no comparable value")
    for p in rest:
        if not _KEY.match(p):
            raise ConversionError(f"field {name!r}: unsupported characters in {p!r}")
    if kind == "STRUCT":
        path = ".".join(rest)
        real = _UI_LOWER.get(path.lower())
        if real is None:
            # a deeper key inside a JSON leaf of the struct (webIdFederationData.attributes.x)
            for leaf in _UI_JSON_LEAVES:
                if path.lower().startswith(leaf.lower() + "."):
                    sub = path[len(leaf) + 1:]
                    acc = col + "".join(f'."{p}"' for p in leaf.split("."))
                    return _json_ref(acc, sub.split("."))
            raise ConversionError(f"unknown field {name!r} (not a userIdentity field)")
        acc = col + "".join(f'."{p}"' for p in real.split("."))
        return FieldRef(f"CAST({acc} AS VARCHAR)", False)
    if kind == "JSON":
        return _json_ref(col, rest)
    raise ConversionError(f"field {name!r}: {head} has no sub-fields")


def _json_ref(col: str, parts: list[str]) -> FieldRef:
    """JSON path with any-element semantics at EC2-style `items` lists and explicit `[*]`."""
    segs: list[str] = []
    is_list = False
    for p in parts:
        star = p.endswith("[*]")
        key = p[:-3] if star else p
        segs.append(f'."{key}"' + ("[*]" if star or key == "items" else ""))
        is_list = is_list or star or key == "items"
    path = "$" + "".join(segs)
    return FieldRef(f"json_extract_string({col}, '{path}')", is_list)


# --- values -----------------------------------------------------------------------------------

_SUPPORTED_MODS: Final[set[str]] = {
    "contains", "startswith", "endswith", "all", "re", "i", "m", "s", "exists", "cidr",
    "cased", "gt", "gte", "lt", "lte", "fieldref",
}


def _like(value: str, prefix: bool, suffix: bool) -> str:
    """A Sigma string (with `*`, `?`, `\\` escapes) as a LIKE pattern (escape char `\\`)."""
    out: list[str] = ["%"] if prefix else []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            lit = value[i + 1]
            out.append("\\\\" if lit == "\\" else lit)
            i += 2
            continue
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    if suffix:
        out.append("%")
    return "".join(out)


def _has_wildcard(value: str) -> bool:
    return bool(re.search(r"(?<!\\)[*?]", value))


def _unescape(value: str) -> str:
    return re.sub(r"\\([*?\\])", r"\1", value)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def leaf_sql(x: str, value: Any, mods: list[str]) -> Sql:
    """One comparison of the value expression `x` (VARCHAR) with one Sigma value."""
    if value is None:
        return Sql(f"{x} IS NULL")
    cased = "cased" in mods
    if "re" in mods:
        flags = "".join(f for f in ("i", "m", "s") if f in mods)
        pattern = (f"(?{flags})" if flags else "") + _as_text(value)
        try:
            re.compile(_as_text(value))
        except re.error as exc:
            raise ConversionError(f"bad regular expression {value!r}: {exc}") from exc
        return Sql(f"regexp_matches({x}, ?)", [pattern])
    if "cidr" in mods:
        return cidr_sql(x, _as_text(value))
    for op, sym in (("gte", ">="), ("gt", ">"), ("lte", "<="), ("lt", "<")):
        if op in mods:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConversionError(f"|{op} needs a number, got {value!r}")
            return Sql(f"TRY_CAST({x} AS DOUBLE) {sym} ?", [float(value)])
    text = _as_text(value)
    pre = "contains" in mods or "endswith" in mods
    suf = "contains" in mods or "startswith" in mods
    if not pre and not suf and not _has_wildcard(text):
        if cased:
            return Sql(f"{x} = ?", [_unescape(text)])
        return Sql(f"lower({x}) = ?", [_unescape(text).lower()])
    pattern = _like(text, pre, suf)
    op = "LIKE" if cased else "ILIKE"
    return Sql(f"{x} {op} ? ESCAPE '\\'", [pattern])


def cidr_sql(x: str, value: str) -> Sql:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ConversionError(f"bad CIDR {value!r}") from exc
    if isinstance(net, ipaddress.IPv6Network):
        if net.prefixlen % 16:
            raise ConversionError(f"IPv6 CIDR {value!r}: only /16 multiples are supported")
        groups = net.exploded.split("/")[0].split(":")[: net.prefixlen // 16]
        prefix = ":".join(g.lstrip("0") or "0" for g in groups)
        return Sql(f"lower({x}) LIKE ? ESCAPE '\\'", [prefix.lower() + ":%" if groups else "%:%"])
    lo, hi = int(net.network_address), int(net.broadcast_address)
    num = "+".join(
        f"TRY_CAST(split_part({x}, '.', {i + 1}) AS BIGINT) * {256 ** (3 - i)}" for i in range(4)
    )
    return Sql(f"(regexp_full_match({x}, '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}') "
               f"AND ({num}) BETWEEN ? AND ?)", [lo, hi])


def _field_condition(key: str, value: Any) -> Sql:
    """`field|mod|mod: value or [values]` as one boolean."""
    name, *mods = key.split("|")
    if not name:
        raise ConversionError(f"keyword search ({key!r}) is not supported")
    bad = [m for m in mods if m not in _SUPPORTED_MODS]
    if bad:
        raise ConversionError(f"modifier {'|'.join(bad)!r} is not supported")
    ref = field_ref(name)
    values = value if isinstance(value, list) else [value]
    if "exists" in mods:
        if len(values) != 1 or not isinstance(values[0], bool):
            raise ConversionError(f"{key}: |exists needs true or false")
        present = f"len({ref.expr}) > 0" if ref.is_list else f"{ref.expr} IS NOT NULL"
        return Sql(f"coalesce({present}, false)" if values[0] else
                   f"NOT coalesce({present}, false)")
    if not values:
        raise ConversionError(f"{key}: empty list of values")
    if "fieldref" in mods:
        others = [field_ref(str(v)) for v in values]
        if any(o.is_list for o in others) or ref.is_list:
            raise ConversionError(f"{key}: |fieldref between list fields is not supported")
        joiner = " AND " if "all" in mods else " OR "
        return Sql("coalesce(" + joiner.join(f"(lower({ref.expr}) = lower({o.expr}))"
                                             for o in others) + ", false)")
    var = "x" if ref.is_list else ref.expr
    leaves = [leaf_sql(var, v, mods) for v in values]
    joiner = " AND " if "all" in mods else " OR "
    inner = Sql("(" + joiner.join(f"({s.text})" for s in leaves) + ")",
                [p for s in leaves for p in s.params])
    if ref.is_list:
        return Sql(f"coalesce(len(list_filter({ref.expr}, lambda x: {inner.text})) > 0, false)",
                   inner.params)
    return Sql(f"coalesce({inner.text}, false)", inner.params)


def _eventname_set(key: str, value: Any) -> frozenset[str] | None:
    """The eventNames an `eventName` item allows, lower-cased, for the candidate prefilter.

    `name*` entries are prefixes (from `|startswith` or a trailing `*`). None: no usable set
    (another modifier, wildcards inside the value...), the rule then scans every event.
    """
    name, *mods = key.split("|")
    if name.lower() != "eventname" or any(m not in ("startswith",) for m in mods):
        return None
    values = value if isinstance(value, list) else [value]
    out: set[str] = set()
    for v in values:
        if not isinstance(v, str):
            return None
        if "startswith" in mods:
            v = v + "*"
        body = v[:-1] if v.endswith("*") and not v.endswith("\\*") else v
        if _has_wildcard(body) or not body:
            return None
        out.add(_unescape(body).lower() + ("*" if body != v else ""))
    return frozenset(out) or None


def _and_names(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """A prefilter for `a AND b`: the intersection when both are exact, else either one."""
    if a is None or b is None:
        return a if b is None else b
    if not any(n.endswith("*") for n in a | b):
        return a & b
    return a if not any(n.endswith("*") for n in a) else b


@dataclass
class _Selection:
    sql: Sql
    names: frozenset[str] | None  # eventNames it requires (None: any)


def _selection(body: Any) -> _Selection:
    if isinstance(body, dict):
        if not body:
            raise ConversionError("empty selection")
        parts = [_field_condition(str(k), v) for k, v in body.items()]
        names: frozenset[str] | None = None
        for k, v in body.items():
            names = _and_names(names, _eventname_set(str(k), v))
        return _Selection(Sql("(" + " AND ".join(p.text for p in parts) + ")",
                              [x for p in parts for x in p.params]), names)
    if isinstance(body, list) and body and all(isinstance(b, dict) for b in body):
        subs = [_selection(b) for b in body]
        nm: frozenset[str] | None = frozenset()
        for sub in subs:
            nm = None if nm is None or sub.names is None else nm | sub.names
        return _Selection(Sql("(" + " OR ".join(x.sql.text for x in subs) + ")",
                              [p for x in subs for p in x.sql.params]), nm)
    raise ConversionError("keyword (plain value list) selections are not supported")


# --- condition --------------------------------------------------------------------------------

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class _Cond:
    """Recursive-descent parser of Sigma conditions: or < and < not < (..) / x of y / name."""

    def __init__(self, text: str, sels: dict[str, _Selection]) -> None:
        if "|" in text:
            raise ConversionError("aggregation conditions (`| count()`) are not supported; "
                                  "use a correlation rule")
        self.toks: list[str] = _TOKEN.findall(text)
        self.i = 0
        self.sels = sels

    def parse(self) -> _Selection:
        out = self._or()
        if self.i != len(self.toks):
            raise ConversionError(f"unexpected {self.toks[self.i]!r} in condition")
        return out

    def _peek(self) -> str | None:
        return self.toks[self.i].lower() if self.i < len(self.toks) else None

    def _next(self) -> str:
        if self.i >= len(self.toks):
            raise ConversionError("condition ends too early")
        self.i += 1
        return str(self.toks[self.i - 1])

    def _or(self) -> _Selection:
        items = [self._and()]
        while self._peek() == "or":
            self.i += 1
            items.append(self._and())
        return _combine(items, "OR")

    def _and(self) -> _Selection:
        items = [self._not()]
        while self._peek() == "and":
            self.i += 1
            items.append(self._not())
        return _combine(items, "AND")

    def _not(self) -> _Selection:
        if self._peek() == "not":
            self.i += 1
            inner = self._not()
            return _Selection(Sql(f"(NOT {inner.sql.text})", inner.sql.params), None)
        return self._atom()

    def _atom(self) -> _Selection:
        tok = self._next()
        low = tok.lower()
        if tok == "(":
            inner = self._or()
            if self._next() != ")":
                raise ConversionError("unbalanced parentheses in condition")
            return inner
        if low in ("1", "any", "all") and self._peek() == "of":
            self.i += 1
            target = self._next()
            if target.lower() == "them":
                names = [n for n in self.sels if not n.startswith("_")]
            else:
                rx = re.compile("^" + re.escape(target).replace("\\*", ".*") + "$")
                names = [n for n in self.sels if rx.match(n)]
            if not names:
                raise ConversionError(f"{tok} of {target}: no selection matches")
            return _combine([self.sels[n] for n in names], "AND" if low == "all" else "OR")
        if low in ("and", "or", "not", ")", "of"):
            raise ConversionError(f"unexpected {tok!r} in condition")
        if tok not in self.sels:
            raise ConversionError(f"condition names {tok!r}, which is not defined")
        return self.sels[tok]


def _combine(items: list[_Selection], op: str) -> _Selection:
    if len(items) == 1:
        return items[0]
    sql = Sql("(" + f" {op} ".join(i.sql.text for i in items) + ")",
              [p for i in items for p in i.sql.params])
    if op == "AND":
        names: frozenset[str] | None = None
        for i in items:
            names = _and_names(names, i.names)
        return _Selection(sql, names)
    acc: frozenset[str] | None = frozenset()
    for i in items:
        acc = None if acc is None or i.names is None else acc | i.names
    return _Selection(sql, acc)


# --- documents --------------------------------------------------------------------------------

_TIMESPAN = re.compile(r"^(\d+)\s*([smhdwMy])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}


def _level(doc: dict[str, Any], key: str = "level") -> str:
    lv = str(doc.get(key) or "medium").lower()
    if lv not in LEVELS:
        raise ConversionError(f"unknown {key} {lv!r}")
    return lv


def _common(doc: dict[str, Any], source: str) -> dict[str, Any]:
    title = str(doc.get("title") or "").strip()
    if not title:
        raise ConversionError("no title")
    rule_id = str(doc.get("id") or doc.get("name") or title)
    attempt = doc.get("attempt_level")
    tags = doc.get("tags") or []
    if not isinstance(tags, list):
        raise ConversionError("tags must be a list")
    return {
        "rule_id": rule_id, "title": title, "level": _level(doc), "tags": [str(t) for t in tags],
        "name": str(doc["name"]) if doc.get("name") else None,
        "description": str(doc.get("description") or "").strip(),
        "attempt_level": _level(doc, "attempt_level") if attempt else None,
        "source": source,
    }


def convert_rule(doc: dict[str, Any], source: str = "") -> Rule:
    """One Sigma detection document as a Rule (raises ConversionError)."""
    ls = doc.get("logsource") or {}
    if not isinstance(ls, dict) or str(ls.get("product", "")).lower() != "aws" or \
            str(ls.get("service", "cloudtrail")).lower() != "cloudtrail":
        raise ConversionError("logsource is not product: aws, service: cloudtrail")
    det = doc.get("detection")
    if not isinstance(det, dict) or "condition" not in det:
        raise ConversionError("no detection condition")
    sels = {str(k): _selection(v) for k, v in det.items() if k not in ("condition", "timeframe")}
    if "timeframe" in det:
        raise ConversionError("timeframe with aggregation is not supported; "
                              "use a correlation rule")
    cond = det["condition"]
    conds = cond if isinstance(cond, list) else [cond]
    parsed = _combine([_Cond(str(c), sels).parse() for c in conds], "OR")
    return Rule(where=parsed.sql, event_names=parsed.names, **_common(doc, source))


def convert_correlation(doc: dict[str, Any], source: str = "") -> Correlation:
    c = doc["correlation"]
    if not isinstance(c, dict):
        raise ConversionError("correlation must be a mapping")
    kind = str(c.get("type", ""))
    if kind not in ("event_count", "value_count", "temporal", "temporal_ordered"):
        raise ConversionError(f"correlation type {kind!r} is not supported")
    if c.get("aliases"):
        raise ConversionError("correlation aliases are not supported")
    rules = c.get("rules")
    if isinstance(rules, str):
        rules = [rules]
    if not rules:
        raise ConversionError("correlation names no rules")
    m = _TIMESPAN.match(str(c.get("timespan", "")).strip())
    if not m:
        raise ConversionError(f"bad timespan {c.get('timespan')!r}")
    span = int(m.group(1)) * _SECONDS[m.group(2)]
    gb = c.get("group-by") or []
    if isinstance(gb, str):
        gb = [gb]
    group = [Sql(field_ref(str(g)).expr) for g in gb]
    op, threshold, vfield = "gte", len(rules), None
    if kind in ("event_count", "value_count"):
        cond = c.get("condition")
        if not isinstance(cond, dict):
            raise ConversionError("correlation needs a condition (e.g. gte: 10)")
        ops = [k for k in cond if k in ("gt", "gte", "eq")]
        if len(ops) != 1:
            raise ConversionError("correlation condition must be one of gt, gte, eq "
                                  "(lt/lte need absence logic, not supported)")
        op = ops[0]
        threshold = int(cond[op])
        if kind == "value_count":
            if not cond.get("field"):
                raise ConversionError("value_count needs condition.field")
            vfield = Sql(field_ref(str(cond["field"])).expr)
    common = _common(doc, source)
    return Correlation(kind=kind, rules=[str(r) for r in rules], group_by=group,
                       timespan_s=span, op=op, threshold=threshold, value_field=vfield,
                       generate_refs=bool(c.get("generate", False)),
                       **common)


def iter_documents(text: str, source: str) -> Iterator[tuple[dict[str, Any] | None, str]]:
    """YAML documents of a rule file; (None, reason) for one that is not a mapping."""
    import yaml

    try:
        # libyaml's loader when PyYAML has it: ~10x faster than the pure-Python one
        docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        yield None, f"not valid YAML: {str(exc).splitlines()[0]}"
        return
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            yield None, "a YAML document that is not a mapping"
            continue
        yield doc, ""
