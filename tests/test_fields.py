"""Any field, nested ones included: the catalog, chips on any path (OR within a field), the
frequency table of any field under a filter, one event's value. Counts are checked against
the records themselves, not against trailtui's own SQL."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _fixtures import RECORDS, events_store, record, synthetic_records

from trailtui.data import explore, fields
from trailtui.data.filters import Chip, FieldChip, FilterState, field_values, toggle_field_value
from trailtui.data.store import EventStore

HOSTILE_KEYS = ["a.b", 'q"x', "s/l", "t~d", "", "x' OR 1=1 --", "$[0]", "ünï ✓", "[\"]"]


def _records() -> list[dict[str, Any]]:
    extra = [
        record(100, eventName="CreateUser", additionalEventData={"MFAUsed": "Yes"},
               requestParameters={k: f"v-{i}" for i, k in enumerate(HOSTILE_KEYS)}),
        record(101, eventName="CreateUser", additionalEventData={"MFAUsed": "No"},
               requestParameters={"nested": {"deep": {"leaf": "L"}}, "n": 42}),
    ]
    return [*RECORDS, *synthetic_records(300), *extra]


ALL = _records()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    with events_store(ALL, tmp_path_factory.mktemp("fields")) as s:
        yield s


@pytest.fixture
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


def _get(rec: dict[str, Any], segs: tuple[str, ...]) -> Any:
    value: Any = rec
    for s in segs:
        if not isinstance(value, dict) or s not in value:
            return None
        value = value[s]
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


# -- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_paths_round_trip_hostile_keys(key: str) -> None:
    segs = ("requestParameters", key)
    text = fields.format_path(segs)
    assert fields.parse_path(text) == segs


def test_plain_paths_read_as_dotted() -> None:
    segs = ("userIdentity", "sessionContext", "sessionIssuer", "userName")
    assert fields.format_path(segs) == "userIdentity.sessionContext.sessionIssuer.userName"
    assert fields.parse_path("requestParameters.bucketName") == ("requestParameters", "bucketName")


@pytest.mark.parametrize("bad", ["", ".", "a..b", "a.", '["unterminated', "a[1]", "1abc"])
def test_bad_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        fields.parse_path(bad)


def test_unknown_fields_are_refused() -> None:
    for path in ("nope", "userIdentity.nope", "eventName.sub", "_file_id", "userIdentity"):
        with pytest.raises(ValueError):
            fields.field_for(path)


# -- catalog -----------------------------------------------------------------------------------


def test_catalog_lists_nested_fields(cur: duckdb.DuckDBPyConnection) -> None:
    cat = fields.catalog(cur)
    paths = {f.path for f in cat}
    for want in ("eventName", "userIdentity.arn",
                 "userIdentity.sessionContext.sessionIssuer.userName",
                 "requestParameters.bucketName", "additionalEventData.MFAUsed",
                 "requestParameters.nested.deep.leaf", "serviceEventDetails.keyId",
                 "responseElements.ConsoleLogin", 'requestParameters["a.b"]'):
        assert want in paths, want
    assert not any(p.startswith("_") for p in paths)
    assert cat.search("bucket") and all("bucket" in f.path.lower() for f in cat.search("bucket"))
    assert [f.path for f in cat.search("issuer username")] == [
        "userIdentity.sessionContext.sessionIssuer.userName"]


def test_every_catalog_field_reads_the_records_value(cur: duckdb.DuckDBPyConnection) -> None:
    """Each field's SQL gives the value the record holds (hostile keys included)."""
    cat = fields.catalog(cur)
    by_id = {r["eventID"]: r for r in ALL}
    for fld in cat:
        if fld.source != "json":
            continue
        rows = cur.execute(f"SELECT eventID, {fld.sql} FROM events").fetchall()
        for event_id, value in rows:
            want = _get(by_id[event_id], fld.segments)
            if want is not None and fld.segments[-1] == "n":
                want = str(want)
            assert value == want, (fld.path, event_id)


# -- chips on any field ------------------------------------------------------------------------


def _count(cur: duckdb.DuckDBPyConnection, state: FilterState) -> int:
    where, params = state.where()
    return int(cur.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchall()[0][0])


def test_or_within_one_field(cur: duckdb.DuckDBPyConnection) -> None:
    state = toggle_field_value(FilterState(), "eventSource", "s3.amazonaws.com")
    state = toggle_field_value(state, "eventSource", "ec2.amazonaws.com")
    assert len(state) == 1
    assert state.labels == ("eventSource in (s3.amazonaws.com, ec2.amazonaws.com)",)
    want = sum(r["eventSource"] in ("s3.amazonaws.com", "ec2.amazonaws.com") for r in ALL)
    assert _count(cur, state) == want
    assert field_values(state, "eventSource") == ("s3.amazonaws.com", "ec2.amazonaws.com")
    # Picking a value again takes it out; undo steps back one pick.
    again = toggle_field_value(state, "eventSource", "s3.amazonaws.com")
    assert again.labels == ("eventSource = ec2.amazonaws.com",)
    assert again.undo() == state


def test_chip_on_nested_and_hostile_paths(cur: duckdb.DuckDBPyConnection) -> None:
    for key in HOSTILE_KEYS:
        path = fields.format_path(("requestParameters", key))
        i = HOSTILE_KEYS.index(key)
        state = FilterState().add(FieldChip.equals(path, f"v-{i}"))
        assert _count(cur, state) == 1, key
    arn = FieldChip.equals("userIdentity.sessionContext.sessionIssuer.userName", "DeployRole")
    want = sum(_get(r, ("userIdentity", "sessionContext", "sessionIssuer", "userName"))
               == "DeployRole" for r in ALL)
    assert want and _count(cur, FilterState().add(arn)) == want


def test_exclude_keeps_events_without_the_field(cur: duckdb.DuckDBPyConnection) -> None:
    chip = FieldChip.not_equals("requestParameters.bucketName", "needle-bucket-7f3a")
    want = sum(_get(r, ("requestParameters", "bucketName")) != "needle-bucket-7f3a" for r in ALL)
    assert _count(cur, FilterState().add(chip)) == want
    none = FieldChip.equals("errorCode", None, "AccessDenied")
    want = sum(r.get("errorCode") in (None, "AccessDenied") for r in ALL)
    assert _count(cur, FilterState().add(none)) == want
    not_none = FieldChip.not_equals("errorCode", None, "AccessDenied")
    assert _count(cur, FilterState().add(not_none)) == len(ALL) - want


def test_values_are_bound_and_rendered_safely(cur: duckdb.DuckDBPyConnection) -> None:
    evil = "x' OR 1=1 --"
    chip = FieldChip.equals(fields.format_path(("requestParameters", evil)), evil)
    sql, params = chip.where()
    assert sql == "json_extract_string(\"requestParameters\", '/x'' OR 1=1 --') = ?"
    assert params == [evil]
    state = FilterState().add(chip)
    text = state.to_duckdb_sql()
    assert cur.execute(f"SELECT count(*) FROM ({text.rstrip(';')})").fetchall()[0][0] == 0
    athena = state.to_athena_sql()
    assert "json_extract_scalar(requestparameters, '$[\"x'' OR 1=1 --\"]')" in athena


def test_bool_fields_take_true_false(cur: duckdb.DuckDBPyConnection) -> None:
    chip = FieldChip.equals("readOnly", "false")
    assert chip.values == (False,)
    assert _count(cur, FilterState().add(chip)) == sum(r.get("readOnly") is False for r in ALL)
    assert "readonly = 'false'" in FilterState().add(chip).to_athena_sql()
    with pytest.raises(TypeError):
        FieldChip.equals("readOnly", "maybe")


def test_field_chips_mix_with_other_chips(cur: duckdb.DuckDBPyConnection) -> None:
    state = FilterState().add(Chip.include("actor", "alice")).add(
        FieldChip.equals("additionalEventData.MFAUsed", "Yes"))
    assert _count(cur, state) == 1
    assert state.undo().undo() == FilterState()


# -- frequency ---------------------------------------------------------------------------------


def test_frequency_counts_match_the_records(cur: duckdb.DuckDBPyConnection) -> None:
    fld = fields.field_for("requestParameters.bucketName")
    freq = explore.frequency(cur, fld, FilterState())
    want = Counter(_get(r, ("requestParameters", "bucketName")) for r in ALL)
    assert dict(freq.rows) == dict(want)
    assert freq.events == len(ALL) and freq.distinct == len(want)
    counts = [n for _, n in freq.rows]
    assert counts == sorted(counts, reverse=True)
    up = explore.frequency(cur, fld, FilterState(), order="count_asc")
    assert [n for _, n in up.rows] == sorted(counts)


def test_frequency_under_a_filter_search_and_limit(cur: duckdb.DuckDBPyConnection) -> None:
    fld = fields.field_for("sourceIPAddress")
    state = FilterState().add(FieldChip.equals("eventSource", "s3.amazonaws.com"))
    under = [r for r in ALL if r["eventSource"] == "s3.amazonaws.com"]
    freq = explore.frequency(cur, fld, state, search="10.0.1.", limit=3)
    want = Counter(r.get("sourceIPAddress") for r in under
                   if "10.0.1." in (r.get("sourceIPAddress") or ""))
    assert freq.distinct == len(want) and len(freq.rows) == min(3, len(want))
    assert freq.events == len(under)
    for value, n in freq.rows:
        assert want[value] == n
    # `%` and `_` are literal in the search.
    assert explore.frequency(cur, fields.field_for("eventName"), FilterState(),
                             search="_").rows == (("Get_Thing", 1),)


def test_field_value_and_page_values(store: EventStore, cur: duckdb.DuckDBPyConnection) -> None:
    keys = [(int(f), int(n)) for f, n in cur.execute(
        "SELECT _file_id, _line FROM events ORDER BY eventID DESC LIMIT 5").fetchall()]
    flds = [fields.field_for("eventID"), fields.field_for("additionalEventData.MFAUsed")]
    rows = explore.field_values(cur, flds, [*keys, (999, 999)])
    assert rows[-1] == (None, None)
    by_id = {r["eventID"]: r for r in ALL}
    for event_id, mfa in rows[:-1]:
        assert isinstance(event_id, str)
        assert mfa == _get(by_id[event_id], ("additionalEventData", "MFAUsed"))
    found, value = explore.field_value(cur, flds[0], *keys[0])
    assert found and value == rows[0][0]
    assert explore.field_value(cur, flds[0], 999, 999) == (False, None)


def test_hostile_record_does_not_flood_the_catalog(tmp_path: Path) -> None:
    big = record(1, requestParameters={f"k{i}": i for i in range(fields.MAX_JSON_FIELDS + 500)})
    with events_store([big], tmp_path) as s:
        c = s.cursor()
        try:
            cat = fields.catalog(c)
        finally:
            c.close()
    assert sum(f.source == "json" for f in cat) == fields.MAX_JSON_FIELDS


# -- a view with any fields as columns ---------------------------------------------------------


def test_fields_view_holds_nested_columns_and_sorts_by_them(
    cur: duckdb.DuckDBPyConnection,
) -> None:
    paths = ["eventName", "userIdentity.arn", "requestParameters.bucketName", "nope.bad"]
    extra = explore.extra_fields(paths)
    assert [f.path for f in extra] == ["userIdentity.arn", "requestParameters.bucketName"]
    state = FilterState().add(FieldChip.equals("eventSource", "s3.amazonaws.com"))
    view = explore.materialize_fields_view(cur, state, extra, sort=extra[1], descending=False,
                                           generation=9001)
    try:
        under = [r for r in ALL if r["eventSource"] == "s3.amazonaws.com"]
        assert view.row_count == len(under)
        rows = explore.fetch_field_rows(cur, view, 0, view.row_count)
        keys = view.column_keys
        i = keys.index("requestParameters.bucketName")
        got = [r[i] for r in rows]
        want = sorted((_get(r, ("requestParameters", "bucketName")) for r in under),
                      key=lambda v: (v is None, v or ""))
        assert got == want
        arn = keys.index("userIdentity.arn")
        by_id = {r["eventID"]: r for r in ALL}
        eid = keys.index("eventName")
        assert all(isinstance(r[eid], str) for r in rows)
        file_i, line_i = keys.index("_file_id"), keys.index("_line")
        for r in rows[:20]:
            (event_id,) = cur.execute("SELECT eventID FROM events WHERE _file_id = ? AND "
                                      "_line = ?", [r[file_i], r[line_i]]).fetchall()[0]
            assert r[arn] == _get(by_id[event_id], ("userIdentity", "arn"))
        widths = explore.field_widths(cur, view)
        assert widths["requestParameters.bucketName"] == max(len(str(v)) for v in got if v)
    finally:
        cur.execute(f"DROP TABLE {view.table}")


def test_facet_counts_on_any_field_keep_own_values_to_or(
    cur: duckdb.DuckDBPyConnection,
) -> None:
    state = toggle_field_value(FilterState(), "eventSource", "s3.amazonaws.com")
    state = state.add(Chip.include("awsRegion", "eu-west-1"))
    counts = explore.facet_counts(cur, ["eventSource", "requestParameters.bucketName",
                                        "awsRegion", "bad..path"], state)
    assert list(counts) == ["eventSource", "requestParameters.bucketName", "awsRegion"]
    # The service facet ignores its own pick: every service in eu-west-1 is still listed.
    eu = [r for r in ALL if r.get("awsRegion") == "eu-west-1"]
    assert dict(counts["eventSource"]) == dict(Counter(r["eventSource"] for r in eu))
    # The region facet (an old-style include chip) likewise, under the service pick.
    s3 = [r for r in ALL if r["eventSource"] == "s3.amazonaws.com"]
    assert dict(counts["awsRegion"]) == dict(Counter(r.get("awsRegion") for r in s3))
    both = [r for r in s3 if r.get("awsRegion") == "eu-west-1"]
    assert dict(counts["requestParameters.bucketName"]) == dict(
        Counter(_get(r, ("requestParameters", "bucketName")) for r in both))
    limited = explore.facet_counts(cur, ["requestParameters.bucketName"], FilterState(), limit=3)
    assert len(limited["requestParameters.bucketName"]) == 3


def test_console_errors_count_lines_in_the_editor(store: EventStore) -> None:
    from trailtui.data.results import run_query

    cur = store.cursor()
    try:
        for sql, line in (("SELECT nope FROM events", 1),
                          ("SELECT 1;\n\nSELECT\n  nope FROM events", 4)):
            with pytest.raises(duckdb.Error) as info:
                run_query(cur, sql)
            assert f"LINE {line}:" in str(info.value), str(info.value)
    finally:
        cur.close()


def test_a_pivot_chip_joins_the_or_of_its_facet(cur: duckdb.DuckDBPyConnection) -> None:
    state = FilterState().add(Chip.include("actor", "alice"))
    state = toggle_field_value(state, "actor", "bob")
    assert state.labels == ("actor in (alice, bob)",)
    assert _count(cur, state) == sum(
        _get(r, ("userIdentity", "userName")) in ("alice", "bob")
        and r["userIdentity"].get("type") == "IAMUser" for r in ALL)
    again = toggle_field_value(FilterState().add(Chip.include("actor", "alice")), "actor",
                               "alice")
    assert again.labels == ()
