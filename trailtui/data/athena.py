"""Athena as a query engine: start a query, follow its state, page its results, stop it.

boto3 is an optional extra (`pip install 'trailtui[athena]'`); this module imports it only in
`connect()`, and takes ready-made clients otherwise (tests hand it stubbed ones). What the user
sees of every query is a `QueryStatus` (queued, running, scanned bytes, cost), reported while it
runs; every failure becomes one `BackendError` whose text says what to do.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from trailtui.data.backend import (
    BackendError,
    QueryCancelled,
    QueryStatus,
    StatusListener,
    query_cost,
)
from trailtui.data.trino_sql import TableInfo, check_ident, table_from_glue

RESULT_PAGE: Final[int] = 1000  # GetQueryResults' own maximum per call
_THROTTLED: Final[frozenset[str]] = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded",
     "SlowDown"}
)  # fmt: skip
_DENIED: Final[frozenset[str]] = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
     "UnrecognizedClientException", "ExpiredTokenException", "InvalidClientTokenId"}
)  # fmt: skip


@dataclass
class ResultSet:
    """A query's result: the rows fetched so far; `fetch_to(n)` reads more pages (no new scan).

    Values are text or None, as Athena hands them (GetQueryResults returns VarCharValue).
    """

    columns: list[str]
    rows: list[tuple[str | None, ...]]
    status: QueryStatus
    _more: Callable[[], list[tuple[str | None, ...]] | None] | None = field(
        default=None, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def complete(self) -> bool:
        return self._more is None

    def fetch_to(self, n: int) -> None:
        """Read result pages until `n` rows are here or the result ends."""
        with self._lock:
            while len(self.rows) < n and self._more is not None:
                page = self._more()
                if page is None:
                    self._more = None
                else:
                    self.rows.extend(page)

    def fetch_all(self) -> None:
        self.fetch_to(1 << 62)


class Engine:
    """What a remote engine offers `remote.RemoteBackend` (Athena here, Trino in trino_engine)."""

    label = "engine"
    costs_money = False

    def describe_table(self, database: str, table: str) -> TableInfo:  # pragma: no cover
        raise NotImplementedError

    def run(self, sql: str, on_status: StatusListener | None = None) -> ResultSet:
        raise NotImplementedError  # pragma: no cover

    def cancel(self) -> None:
        raise NotImplementedError  # pragma: no cover


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error")
        if isinstance(err, dict):
            return str(err.get("Code", ""))
    return ""


def _error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error")
        if isinstance(err, dict) and err.get("Message"):
            return str(err["Message"])
    return str(exc)


class AthenaEngine(Engine):
    """Athena over boto3 clients (`athena`, `glue`), one query at a time per thread."""

    label = "athena"
    costs_money = True

    def __init__(
        self,
        athena: Any,
        glue: Any,
        *,
        workgroup: str | None = None,
        output_location: str | None = None,
        database: str | None = None,
        catalog: str = "AwsDataCatalog",
        poll_interval: float = 0.5,
        max_poll_interval: float = 2.0,
        retries: int = 6,
        backoff: float = 0.5,
    ) -> None:
        self.athena = athena
        self.glue = glue
        self.workgroup = workgroup
        self.output_location = output_location
        self.database = database
        self.catalog = catalog
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.retries = retries
        self.backoff = backoff
        # Queries running now, and those the user asked to stop: several workers (facets, the
        # page) may each be following a query; escape stops them all.
        self._cond = threading.Condition()
        self._running: set[str] = set()
        self._stopping: set[str] = set()
        self._epoch = 0  # bumped by cancel(): a query being started then is stopped at once

    # -- errors and retries -------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """One API call, throttling retried with exponential backoff and jitter."""
        for attempt in range(self.retries + 1):
            try:
                return fn(**kwargs)
            except Exception as exc:  # botocore's exceptions, without importing botocore
                code = _error_code(exc)
                if code in _THROTTLED and attempt < self.retries:
                    delay = self.backoff * (2**attempt) * (0.5 + random.random() / 2)
                    if delay:
                        time.sleep(delay)
                    continue
                raise self._friendly(what, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _friendly(self, what: str, exc: BaseException) -> BackendError:
        name = type(exc).__name__
        code = _error_code(exc)
        message = _error_message(exc)
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            return BackendError(
                "no AWS credentials: set AWS_PROFILE or pass --profile, or run "
                "`aws configure` / `aws sso login` first"
            )
        if name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"):
            return BackendError(f"the AWS SSO session has expired: run `aws sso login` ({message})")
        if name == "NoRegionError":
            return BackendError("no AWS region: pass --region or set AWS_REGION")
        if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
            return BackendError(f"cannot reach AWS ({what}): {message}")
        if code in _DENIED:
            return BackendError(f"access denied ({what}): {message}")
        if code in _THROTTLED:
            return BackendError(f"AWS is throttling {what}; try again in a minute ({message})")
        if code == "EntityNotFoundException":
            return BackendError(f"not found in the Glue catalog: {message}")
        lowered = message.lower()
        if "workgroup" in lowered and ("not found" in lowered or "does not exist" in lowered):
            return BackendError(f"Athena workgroup {self.workgroup or 'primary'!r} not found")
        if "output location" in lowered or "outputlocation" in lowered:
            return BackendError(
                "the workgroup has no query result location: pass --output-location s3://..."
            )
        return BackendError(f"{what} failed: {message}")

    # -- the table ----------------------------------------------------------------------------

    def describe_table(self, database: str, table: str) -> TableInfo:
        """Columns and partition scheme from Glue `GetTable`."""
        check_ident(database)
        check_ident(table)
        response = self._call("reading the table from Glue", self.glue.get_table,
                              DatabaseName=database, Name=table)  # fmt: skip
        info = table_from_glue(response.get("Table") or {})
        if not info.columns:
            raise BackendError(f"{database}.{table} has no columns in the Glue catalog")
        if "eventtime" not in info.columns:
            raise BackendError(
                f"{database}.{table} does not look like a CloudTrail table (no eventtime column)"
            )
        return info

    # -- queries ------------------------------------------------------------------------------

    def run(self, sql: str, on_status: StatusListener | None = None) -> ResultSet:
        """Start `sql`, follow it to the end, return its first result page (more on demand).

        Raises QueryCancelled (escape, or cancelled in Athena) and BackendError (failed, with
        Athena's reason).
        """
        kwargs: dict[str, Any] = {"QueryString": sql}
        context = {"Catalog": self.catalog}
        if self.database:
            context["Database"] = self.database
        kwargs["QueryExecutionContext"] = context
        if self.workgroup:
            kwargs["WorkGroup"] = self.workgroup
        if self.output_location:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.output_location}
        with self._cond:
            epoch = self._epoch
        started = self._call("starting the query", self.athena.start_query_execution, **kwargs)
        qid = str(started["QueryExecutionId"])
        with self._cond:
            self._running.add(qid)
            if self._epoch != epoch:  # escape while StartQueryExecution was on its way
                self._stopping.add(qid)
        try:
            status, statement_type = self._wait(qid, on_status)
        finally:
            with self._cond:
                self._running.discard(qid)
                self._stopping.discard(qid)
        return self._results(qid, status, statement_type)

    def _wait(self, qid: str, on_status: StatusListener | None) -> tuple[QueryStatus, str]:
        interval = self.poll_interval
        t0 = time.monotonic()
        while True:
            if self._stop_asked(qid):
                self._stop(qid)
                status = QueryStatus("cancelled", message="stopped", query_id=qid,
                                     elapsed_ms=int((time.monotonic() - t0) * 1000))  # fmt: skip
                if on_status:
                    on_status(status)
                raise QueryCancelled("query stopped (StopQueryExecution)")
            response = self._call("following the query", self.athena.get_query_execution,
                                  QueryExecutionId=qid)  # fmt: skip
            execution = response.get("QueryExecution", {})
            st = execution.get("Status", {})
            stats = execution.get("Statistics", {})
            state = str(st.get("State", "QUEUED")).lower()
            scanned = int(stats.get("DataScannedInBytes", 0) or 0)
            elapsed = int(stats.get("TotalExecutionTimeInMillis", 0) or 0)
            reason = str(
                (st.get("AthenaError") or {}).get("ErrorMessage") or st.get("StateChangeReason")
                or ""
            )  # fmt: skip
            status = QueryStatus(
                "queued" if state == "queued" else "running" if state == "running" else
                "succeeded" if state == "succeeded" else
                "cancelled" if state == "cancelled" else "failed",
                scanned_bytes=scanned,
                cost_usd=query_cost(scanned),
                message=reason if state in ("failed", "cancelled") else "",
                query_id=qid,
                elapsed_ms=elapsed,
            )  # fmt: skip
            if on_status:
                on_status(status)
            if status.state == "succeeded":
                return status, str(execution.get("StatementType", "DML"))
            if status.state == "failed":
                raise BackendError(f"Athena query failed: {reason or 'no reason given'}")
            if status.state == "cancelled":
                raise QueryCancelled(f"Athena query cancelled: {reason or 'by another user'}")
            with self._cond:
                self._cond.wait_for(lambda: qid in self._stopping, timeout=interval)
            interval = min(self.max_poll_interval, interval * 1.5)

    def _stop_asked(self, qid: str) -> bool:
        with self._cond:
            return qid in self._stopping

    def _stop(self, qid: str) -> None:
        # It may have ended on its own meanwhile: then there is nothing left to stop.
        with contextlib.suppress(BackendError):
            self._call("stopping the query", self.athena.stop_query_execution, QueryExecutionId=qid)

    def _results(self, qid: str, status: QueryStatus, statement_type: str) -> ResultSet:
        pages = self._pages(qid, skip_header=statement_type.upper() == "DML")
        columns, first = next(pages)
        rs = ResultSet(columns, list(first), status)

        def more() -> list[tuple[str | None, ...]] | None:
            try:
                return next(pages)[1]
            except StopIteration:
                return None

        rs._more = more
        rs.fetch_to(0)
        return rs

    def _pages(
        self, qid: str, *, skip_header: bool
    ) -> Iterator[tuple[list[str], list[tuple[str | None, ...]]]]:
        token: str | None = None
        first = True
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": qid, "MaxResults": RESULT_PAGE}
            if token:
                kwargs["NextToken"] = token
            response = self._call("reading results", self.athena.get_query_results, **kwargs)
            result = response.get("ResultSet", {})
            info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            columns = [str(c.get("Name", "")) for c in info]
            rows = [
                tuple(cell.get("VarCharValue") for cell in row.get("Data", []))
                for row in result.get("Rows", [])
            ]
            if first and skip_header and rows and list(rows[0]) == columns:
                rows = rows[1:]  # a SELECT's first row repeats the column names
            first = False
            yield columns, rows
            token = response.get("NextToken")
            if not token:
                return

    def cancel(self) -> None:
        """Stop the running query: the polling thread calls StopQueryExecution at once."""
        with self._cond:
            self._epoch += 1
            self._stopping |= self._running
            self._cond.notify_all()

    @property
    def running(self) -> Sequence[str]:
        with self._cond:
            return tuple(self._running)


def connect(
    *,
    region: str | None = None,
    profile: str | None = None,
    workgroup: str | None = None,
    output_location: str | None = None,
    database: str | None = None,
) -> AthenaEngine:
    """An AthenaEngine from the user's AWS configuration (boto3 from the `athena` extra)."""
    try:
        import boto3
        import botocore.exceptions
    except ImportError as exc:
        raise BackendError("Athena needs boto3: pip install 'trailtui[athena]'") from exc
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        if session.region_name is None:
            raise BackendError("no AWS region: pass --region or set AWS_REGION")
        athena = session.client("athena")
        glue = session.client("glue")
    except botocore.exceptions.ProfileNotFound as exc:
        raise BackendError(f"AWS profile not found: {profile}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise BackendError(f"cannot set up AWS clients: {exc}") from exc
    return AthenaEngine(
        athena, glue, workgroup=workgroup, output_location=output_location, database=database
    )
