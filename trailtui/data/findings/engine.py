"""Run a converted rule set over the loaded events: the `finding_hits` table, the `findings` view.

One pass, not one scan per rule: the events any rule could match are selected once (an
`eventName IN (...)` prefilter for rules that name their events, OR the few rules that do not)
into a materialised candidate set, and each rule's WHERE runs over those few rows, all in one
UNION ALL statement. Correlation rules then read the base rules' hits (never the whole table).

Hits are keyed by the event's (`_file_id`, `_line`), the same key the browser uses to open an
event. Called from a thread worker with that thread's cursor; `cur.interrupt()` cancels it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import duckdb

from trailtui.data.findings.exclusions import Exclusion, exclusion_sql
from trailtui.data.findings.sigma import (
    LEVELS,
    ConversionError,
    Correlation,
    Problem,
    Rule,
    Sql,
    convert_correlation,
    convert_rule,
    iter_documents,
)
from trailtui.data.schema import COLUMN_NAMES

RULE_SUFFIXES: Final[tuple[str, ...]] = (".yml", ".yaml")


def pack_dir() -> Path:
    """trailtui's own rule pack, shipped as package data."""
    return Path(str(resources.files("trailtui.data.findings") / "rules"))


@dataclass
class RuleSet:
    """Converted rules, correlations, and the documents that could not be converted."""

    rules: list[Rule] = field(default_factory=list)
    correlations: list[Correlation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""

    def __len__(self) -> int:
        return len(self.rules) + len(self.correlations)


def rule_files(dirs: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        if d.is_file():
            out.append(d)
        else:
            out.extend(sorted(p for p in d.rglob("*") if p.suffix.lower() in RULE_SUFFIXES
                              and p.is_file()))
    return out


_CONVERTED: dict[str, RuleSet] = {}  # rule-set digest -> converted rules, for this process


def load_rules(dirs: Sequence[Path | str] = (), *, pack: bool = True) -> RuleSet:
    """Read and convert every Sigma rule of the pack and of `dirs` (files or folders).

    A document that cannot be converted becomes a Problem naming the file, the title and the
    reason. A missing directory is a Problem too. Converted once per process and rule-set
    digest (file names and contents): a second load reuses the SQL.
    """
    problems: list[Problem] = []
    paths = [pack_dir()] if pack else []
    for d in dirs:
        p = Path(d).expanduser()
        if not p.exists():
            problems.append(Problem(str(d), "", "no such file or folder"))
            continue
        paths.append(p)
    h = hashlib.sha256()
    texts: list[tuple[Path, str]] = []
    for path in rule_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), "", f"cannot read: {exc}"))
            continue
        h.update(str(path).encode() + b"\0" + text.encode() + b"\0")
        texts.append((path, text))
    digest = h.hexdigest()[:16]
    cached = _CONVERTED.get(digest)
    if cached is not None:
        return RuleSet(cached.rules, cached.correlations, problems + cached.problems, digest)
    rs = _convert(texts)
    rs.digest = digest
    _CONVERTED[digest] = rs
    return RuleSet(rs.rules, rs.correlations, problems + rs.problems, digest)


def _convert(texts: Sequence[tuple[Path, str]]) -> RuleSet:
    rs = RuleSet()
    seen: dict[str, str] = {}
    for path, text in texts:
        for doc, reason in iter_documents(text, str(path)):
            if doc is None:
                rs.problems.append(Problem(str(path), "", reason))
                continue
            title = str(doc.get("title") or "")
            try:
                if "correlation" in doc:
                    item: Rule | Correlation = convert_correlation(doc, str(path))
                elif "detection" in doc:
                    item = convert_rule(doc, str(path))
                elif doc.get("action"):
                    raise ConversionError(f"action: {doc['action']} documents are not supported")
                else:
                    raise ConversionError("neither detection nor correlation")
            except ConversionError as exc:
                rs.problems.append(Problem(str(path), title, str(exc)))
                continue
            if item.rule_id in seen:
                rs.problems.append(Problem(str(path), title,
                                           f"duplicate id {item.rule_id}, first in "
                                           f"{seen[item.rule_id]}; this one is not used"))
                continue
            seen[item.rule_id] = str(path)
            if isinstance(item, Rule):
                rs.rules.append(item)
            else:
                rs.correlations.append(item)
    return rs


# --- SQL --------------------------------------------------------------------------------------

SETUP_SQL: Final[tuple[str, ...]] = (
    "CREATE TABLE IF NOT EXISTS finding_rules (rule_idx INTEGER, rule_id VARCHAR, "
    "title VARCHAR, level VARCHAR, attempt_level VARCHAR, tags VARCHAR[], kind VARCHAR, "
    "description VARCHAR, generate BOOLEAN, source VARCHAR)",
    "CREATE TABLE IF NOT EXISTS finding_hits (rule_idx INTEGER, _file_id INTEGER, "
    "_line INTEGER)",
    """CREATE OR REPLACE VIEW findings AS
SELECT r.rule_id, r.title,
  CASE WHEN e.errorCode IS NOT NULL THEN coalesce(r.attempt_level, r.level) ELSE r.level END
    AS level,
  CASE WHEN e.errorCode IS NOT NULL THEN 'attempt' ELSE 'success' END AS outcome,
  r.tags, r.kind, e.eventID, e.eventName, e.eventTime, e.eventSource, e.actor,
  e.sourceIPAddress, e.errorCode, e.account_id, e.awsRegion, e.source_file,
  h._file_id, h._line
FROM finding_hits h
JOIN finding_rules r ON r.rule_idx = h.rule_idx
JOIN events e ON e._file_id = h._file_id AND e._line = h._line
WHERE r.generate""",
)

LEVEL_RANK_SQL: Final[str] = (
    "list_position([" + ", ".join(f"'{lv}'" for lv in LEVELS) + "], level)"
)


@dataclass
class FindingsRun:
    """What a run did: hits written, rules that fired, problems met at run time, seconds."""

    hits: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


_CAND: Final[str] = "findings_candidates"
_QUOTED = re.compile(r'"([A-Za-z_@][A-Za-z0-9_@]*)"')


def _columns(sql: str) -> set[str]:
    """Columns of `events` a converted WHERE reads (field_ref always quotes them)."""
    return {c for c in _QUOTED.findall(sql) if c in COLUMN_NAMES}


def _name_guard(names: frozenset[str], col: str) -> Sql:
    """`col` (a lower-cased eventName) is one of `names` (`x*`: starts with x)."""
    exact = sorted(n for n in names if not n.endswith("*"))
    prefixes = sorted(n[:-1] for n in names if n.endswith("*"))
    parts: list[str] = []
    params: list[Any] = []
    if exact:
        parts.append(f"{col} IN ({', '.join('?' for _ in exact)})")
        params.extend(exact)
    for p in prefixes:
        parts.append(f"starts_with({col}, ?)")
        params.append(p)
    return Sql("(" + (" OR ".join(parts) or "false") + ")", params)


_UI_PATH = re.compile(r'"userIdentity"((?:\."[A-Za-z0-9_]+")*)')


def _ui_projection(texts: Sequence[str]) -> str:
    """`userIdentity` for the candidate table: a STRUCT of only the fields the rules read.

    Materialising the whole STRUCT was half the cost of the candidate table; the fields read
    keep their paths, so the rules' SQL runs on it unchanged.
    """
    tree: dict[str, Any] = {}
    for text in texts:
        for m in _UI_PATH.finditer(text):
            parts = re.findall(r'"([A-Za-z0-9_]+)"', m.group(1))
            if not parts:
                return '"userIdentity"'  # the whole struct is read somewhere
            node = tree
            for p in parts[:-1]:
                node = node.setdefault(p, {})
                if not isinstance(node, dict):
                    break
            else:
                node.setdefault(parts[-1], None)

    def pack(node: dict[str, Any], prefix: str) -> str:
        items = []
        for key, child in sorted(node.items()):
            path = f'{prefix}."{key}"'
            items.append(f'"{key}" := ' + (pack(child, path) if child else path))
        return "struct_pack(" + ", ".join(items) + ")"

    return pack(tree, '"userIdentity"') + ' AS "userIdentity"' if tree else ""


def _candidates_sql(rules: Sequence[Rule], extra: Sequence[Sql]) -> Sql:
    """The candidate TEMP table: events any name-bound rule could match, with only the columns
    (and userIdentity fields) the rules and correlations read. Dropped at the end of the run."""
    bound = [r for r in rules if r.event_names is not None]
    names = frozenset(n for r in bound for n in (r.event_names or ()))
    texts = [r.where.text for r in bound] + [x.text for x in extra]
    cols = {"eventName", "eventTime"}
    for text in texts:
        cols |= _columns(text)
    exact = sorted(n for n in names if not n.endswith("*"))
    prefixes = _name_guard(frozenset(n for n in names if n.endswith("*")), "lower(eventName)")
    ui = _ui_projection(texts) if "userIdentity" in cols else ""
    cols.discard("userIdentity")
    sel = ", ".join([*(f'"{c}"' for c in sorted(cols)), *([ui] if ui else [])])
    return Sql(f"CREATE OR REPLACE TEMP TABLE {_CAND} AS SELECT _file_id, _line, "
               f"lower(eventName) AS _ln, {sel} FROM events "
               f"WHERE lower(eventName) IN (SELECT unnest(?::VARCHAR[])) OR {prefixes.text}",
               [exact, *prefixes.params])


def _base_sql(rules: Sequence[Rule], skip: set[int]) -> Sql | None:
    """One INSERT for every detection rule that alerts on its own (`skip`: building blocks).

    Rules bound to eventNames are evaluated in one pass over the candidate table: a list of
    `CASE WHEN <its names> AND <its WHERE> THEN <rule> END`, unnested (one pipeline; a UNION
    ALL of ~50 scans cost twice as much). The few rules that match any eventName (root
    activity) scan `events` with their own WHERE, column by column.
    """
    used = [(i, r) for i, r in enumerate(rules) if i not in skip]
    cases: list[str] = []
    params: list[Any] = []
    for i, r in used:
        if r.event_names is not None:
            guard = _name_guard(r.event_names, "_ln")
            cases.append(f"CASE WHEN {guard.text} AND {r.where.text} THEN {i} END")
            params.extend(guard.params)
            params.extend(r.where.params)
    parts: list[str] = []
    if cases:
        parts.append(f"SELECT unnest(list_filter([{', '.join(cases)}], lambda x: x IS NOT NULL))"
                     f" AS rule_idx, _file_id, _line FROM {_CAND}")
    for i, r in used:
        if r.event_names is None:
            parts.append(f"SELECT {i} AS rule_idx, _file_id, _line FROM events "
                         f"WHERE {r.where.text}")
            params.extend(r.where.params)
    if not parts:
        return None
    return Sql("INSERT INTO finding_hits\n" + "\nUNION ALL\n".join(parts), params)


def _group_key(c: Correlation) -> str:
    if not c.group_by:
        return "0"
    return "list_value(" + ", ".join(g.text for g in c.group_by) + ")"


def _correlation_sql(c: Correlation, idx: int, refs: list[int], inline: dict[int, Sql],
                     in_cand: set[int]) -> Sql:
    """INSERT of the events inside every window of `c.timespan_s` where the condition holds.

    Events of rules in `in_cand` are all in the candidate table, which is joined instead of
    the whole `events` table (a 10k-row join instead of a 200k-row one).
    """
    span = f"INTERVAL '{int(c.timespan_s)} seconds'"
    ref_list = ", ".join(str(int(r)) for r in refs)
    pos = "CASE h.rule_idx " + " ".join(f"WHEN {int(r)} THEN {i}" for i, r in enumerate(refs)) \
        + " END"
    val = c.value_field.text if c.value_field else "NULL"
    # Groups that cannot reach the threshold over all time are dropped before the windows.
    if c.kind == "event_count":
        need = f"count(DISTINCT (_file_id, _line)) >= {int(c.threshold)}"
    elif c.kind == "value_count":
        need = f"count(DISTINCT v) >= {int(c.threshold)}"
    else:
        need = f"count(DISTINCT r) >= {len(refs)}"
    # Building blocks that never alert on their own are not stored: their WHERE runs here.
    srcs: list[str] = []
    params: list[Any] = []
    stored = [r for r in refs if r not in inline]
    if stored:
        src = _CAND if all(r in in_cand for r in stored) else "events"
        srcs.append(f"""SELECT e._file_id, e._line, e.eventTime AS t, {_group_key(c)} AS g,
    {pos} AS r, {val} AS v
  FROM finding_hits h JOIN {src} e ON e._file_id = h._file_id AND e._line = h._line
  WHERE h.rule_idx IN ({ref_list}) AND e.eventTime IS NOT NULL""")
    for i, r in enumerate(refs):
        if r in inline:
            src = _CAND if r in in_cand else "events"
            srcs.append(f"""SELECT _file_id, _line, eventTime AS t, {_group_key(c)} AS g,
    {i} AS r, {val} AS v FROM {src} e WHERE eventTime IS NOT NULL AND {inline[r].text}""")
            params.extend(inline[r].params)
    base = f"""b0 AS (
  SELECT DISTINCT * FROM ({" UNION ALL ".join(srcs)})
),
b AS (SELECT * FROM b0 WHERE g IN (SELECT g FROM b0 GROUP BY g HAVING {need}))"""
    frame = f"PARTITION BY g ORDER BY t RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING"
    sym = {"gt": ">", "gte": ">=", "eq": "="}[c.op]
    if c.kind == "event_count":
        windows = f"""w AS (SELECT g, t AS t0, t + {span} AS t1,
    count(DISTINCT (_file_id, _line)) OVER ({frame}) AS n FROM b),
s AS (SELECT DISTINCT g, t0, t1 FROM w WHERE n {sym} {int(c.threshold)})"""
    elif c.kind == "value_count":
        windows = f"""w AS (SELECT g, t AS t0, t + {span} AS t1,
    count(DISTINCT v) OVER ({frame}) AS n FROM b),
s AS (SELECT DISTINCT g, t0, t1 FROM w WHERE n {sym} {int(c.threshold)})"""
    elif c.kind == "temporal":
        windows = f"""w AS (SELECT g, t AS t0, t + {span} AS t1,
    count(DISTINCT r) OVER ({frame}) AS n FROM b),
s AS (SELECT DISTINCT g, t0, t1 FROM w WHERE n >= {len(refs)})"""
    else:  # temporal_ordered: earliest chain r0 <= r1 <= ... within the span
        steps = ["s0 AS (SELECT DISTINCT g, t AS t0, t AS tk FROM b WHERE r = 0)"]
        for i in range(1, len(refs)):
            steps.append(
                f"s{i} AS (SELECT p.g, p.t0, min(b.t) AS tk FROM s{i - 1} p JOIN b "
                f"ON b.g IS NOT DISTINCT FROM p.g AND b.r = {i} AND b.t >= p.tk "
                f"AND b.t <= p.t0 + {span} GROUP BY p.g, p.t0)")
        last = len(refs) - 1
        windows = ",\n".join(steps) + f",\ns AS (SELECT g, t0, tk AS t1 FROM s{last})"
    return Sql(f"""INSERT INTO finding_hits
WITH {base},
{windows}
SELECT DISTINCT {int(idx)}, b._file_id, b._line FROM b JOIN s
  ON b.g IS NOT DISTINCT FROM s.g AND b.t BETWEEN s.t0 AND s.t1""", params)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _run_base(cur: duckdb.DuckDBPyConnection, out: FindingsRun, rules: list[Rule],
              skip: set[int]) -> None:
    """The one statement for all detection rules; if DuckDB rejects it (a regular expression
    RE2 does not accept, say), each rule alone, so one bad rule is reported, not all lost."""
    base = _base_sql(rules, skip)
    if base is None:
        return
    try:
        cur.execute(base.text, base.params)
        return
    except duckdb.InterruptException:
        raise
    except duckdb.Error:
        pass
    for i, r in enumerate(rules):
        if i in skip:
            continue
        alone = _base_sql([*([_NEVER] * i), r], set(range(i)))
        if alone is None:
            continue
        try:
            cur.execute(alone.text, alone.params)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            out.problems.append(Problem(r.source, r.title,
                                        f"failed in DuckDB: {_first_line(exc)}"))


_NEVER = Rule(rule_id="", title="", level="low", tags=[], where=Sql("false", []),
              event_names=frozenset())


def _run_correlations(cur: duckdb.DuckDBPyConnection, out: FindingsRun, rules: list[Rule],
                      corrs: list[Correlation], lookup: dict[str, int], inline: dict[int, Sql],
                      in_cand: set[int]) -> None:
    """Each correlation once the rules it reads are done (correlations can chain)."""
    pending = list(enumerate(corrs))
    done: set[int] = set(range(len(rules)))
    while pending:
        progressed = False
        for j, c in list(pending):
            idx = len(rules) + j
            missing = [n for n in c.rules if n not in lookup]
            if missing:
                out.problems.append(Problem(c.source, c.title,
                                            f"correlation names unknown rule(s): "
                                            f"{', '.join(missing)}"))
                pending.remove((j, c))
                progressed = True
                continue
            refs = [lookup[n] for n in c.rules]
            if all(r in done for r in refs):
                corr = _correlation_sql(c, idx, refs, inline, in_cand)
                try:
                    cur.execute(corr.text, corr.params)
                except duckdb.InterruptException:
                    raise
                except duckdb.Error as exc:
                    out.problems.append(Problem(c.source, c.title,
                                                f"failed in DuckDB: {_first_line(exc)}"))
                if all(r in in_cand for r in refs):
                    in_cand.add(idx)
                done.add(idx)
                pending.remove((j, c))
                progressed = True
        if not progressed:
            for _j, c in pending:
                out.problems.append(Problem(c.source, c.title, "correlations refer to each "
                                                               "other in a cycle"))
            break


def run_findings(cur: duckdb.DuckDBPyConnection, rs: RuleSet,
                 exclusions: Sequence[Exclusion] = ()) -> FindingsRun:
    """(Re)fill `finding_rules` and `finding_hits` for the events loaded now."""
    t0 = time.perf_counter()
    out = FindingsRun()
    for sql in SETUP_SQL:
        cur.execute(sql)
    cur.execute("DELETE FROM finding_hits")
    cur.execute("DELETE FROM finding_rules")
    rules = list(rs.rules)
    corrs = list(rs.correlations)
    # Referenced rules stay silent on their own unless the correlation says `generate: true`.
    lookup: dict[str, int] = {}
    for i, r in enumerate(rules):
        lookup[r.rule_id] = i
        if r.name:
            lookup.setdefault(r.name, i)
    for j, c in enumerate(corrs):
        lookup[c.rule_id] = len(rules) + j
        if c.name:
            lookup.setdefault(c.name, len(rules) + j)
    silent: set[int] = set()
    for c in corrs:
        if not c.generate_refs:
            silent.update(lookup[n] for n in c.rules if n in lookup)
    rows: list[tuple[Any, ...]] = []
    for i, r in enumerate(rules):
        rows.append((i, r.rule_id, r.title, r.level, r.attempt_level, r.tags, "rule",
                     r.description, i not in silent, r.source))
    for j, c in enumerate(corrs):
        idx = len(rules) + j
        rows.append((idx, c.rule_id, c.title, c.level, c.attempt_level, c.tags, c.kind,
                     c.description, idx not in silent, c.source))
    if rows:  # one statement: executemany costs ~1 ms a row
        one = "(" + ", ".join("?" for _ in rows[0]) + ")"
        cur.execute("INSERT INTO finding_rules VALUES " + ", ".join(one for _ in rows),
                    [v for row in rows for v in row])
    # Silent rules referenced only by correlations are evaluated inside those correlations.
    inline = {i: r.where for i, r in enumerate(rules) if i in silent}
    corr_fields = [g for c in corrs
                   for g in [*c.group_by, *([c.value_field] if c.value_field else [])]]
    in_cand = {i for i, r in enumerate(rules) if r.event_names is not None}
    cand = _candidates_sql(rules, corr_fields)
    cur.execute(cand.text, cand.params)
    try:
        _run_base(cur, out, rules, set(inline))
        _run_correlations(cur, out, rules, corrs, lookup, inline, in_cand)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {_CAND}")
    for ex in exclusions:
        ids = [i for i, r in enumerate(rows) if ex.applies_to(str(r[1]), str(r[2]))]
        if not ids:
            continue
        cond = exclusion_sql(ex)
        cur.execute(
            f"DELETE FROM finding_hits WHERE rule_idx IN ({', '.join(str(i) for i in ids)}) "
            f"AND (_file_id, _line) IN (SELECT _file_id, _line FROM events WHERE {cond.text})",
            cond.params)
    row = cur.execute("SELECT count(*) FROM finding_hits JOIN finding_rules USING (rule_idx) "
                      "WHERE generate").fetchone()
    out.hits = int(row[0]) if row else 0
    out.seconds = time.perf_counter() - t0
    return out


FINDINGS_ORDER: Final[str] = f"{LEVEL_RANK_SQL} DESC, rule_id, eventTime, _file_id, _line"
