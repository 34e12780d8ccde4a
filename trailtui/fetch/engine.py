"""The fetch itself: windows per region, worker threads, retries, checkpoints.

Workers (a few per region, sharing the region's token bucket) page through windows and hand
each page to the main loop; only the main loop touches the output and the state, so what the
state says was fetched is exactly what the file holds after the same checkpoint. Nothing here
prints: progress goes to a callback, problems come back as `Problem`s with an exit code.

LookupEvents pages a window newest first with a NextToken. A window's saved progress is its
NextToken plus the oldest event time seen (`cursor`): a resume tries the token and, if it is no
longer accepted, asks again for [start, cursor] (the events at `cursor` come twice and are
dropped by key).
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from trailtui.fetch.limiter import TokenBucket
from trailtui.fetch.output import OutputError, OutputFile
from trailtui.fetch.windows import Interval, merge, split, subtract

PAGE_SIZE = 50
LIMIT_TPS = 2.0
WORKERS_PER_REGION = 4
LAG = 900
"""Events can show up in Event history some minutes late: the newest 15 minutes of a run are
not counted as covered, so the next run asks for them again (duplicates are dropped)."""

THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                       "RequestLimitExceeded", "ThrottledException", "SlowDown"})
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired",
                     "TokenRefreshRequired", "InvalidToken"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                    "UnauthorizedException", "OperationNotPermittedException"})
BAD_CLIENT = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                        "InvalidSignatureException", "SignatureDoesNotMatch"})
BAD_REQUEST = frozenset({"InvalidLookupAttributesException", "InvalidTimeRangeException",
                         "InvalidMaxResultsException", "InvalidEventCategoryException"})
SERVER = frozenset({"InternalFailure", "ServiceUnavailable", "InternalServerError",
                    "ServiceUnavailableException"})

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_BOTO3 = 3
EXIT_CREDENTIALS = 4
EXIT_DENIED = 5
EXIT_INTERRUPTED = 130

MAX_THROTTLE_RETRIES = 12
MAX_OTHER_RETRIES = 5


@dataclass
class Problem:
    """One clear message and the exit code it stands for. `fatal` stops every region."""

    message: str
    code: int
    fatal: bool = False
    region: str | None = None


@dataclass
class Window:
    region: str
    start: int
    end: int
    next_token: str | None = None
    cursor: int | None = None  # oldest event time seen so far (None: nothing yet)

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "nextToken": self.next_token,
                "cursor": self.cursor}

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def done_seconds(self) -> int:
        return 0 if self.cursor is None else max(0, min(self.length, self.end - self.cursor))


@dataclass
class RegionProgress:
    region: str
    planned_seconds: int = 0
    done_seconds: int = 0
    events: int = 0  # new events written
    fetched: int = 0  # events received, duplicates included
    pages: int = 0
    throttled: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    complete: bool = False  # finished with every window fetched (not stopped, not failed)
    problem: str | None = None

    @property
    def status(self) -> str:
        if self.problem:
            return "failed"
        if self.complete:
            return "done"
        return "stopped" if self.finished is not None else "running"

    @property
    def fraction(self) -> float:
        if self.complete:
            return 1.0
        return min(1.0, self.done_seconds / self.planned_seconds) if self.planned_seconds else 0.0

    def rate(self, now: float | None = None) -> float:
        """Events received per second so far."""
        end = self.finished if self.finished is not None else (now or time.monotonic())
        return self.fetched / max(end - self.started, 1e-6)

    def eta(self, now: float | None = None) -> float | None:
        f = self.fraction
        if self.finished is not None or f <= 0.0:
            return None if self.finished is None else 0.0
        spent = (now or time.monotonic()) - self.started
        return spent * (1 - f) / f


@dataclass
class Request:
    """What to fetch, independent of the command line."""

    regions: list[str]
    start: int
    end: int
    lookup_attribute: tuple[str, str] | None = None
    tps: float = LIMIT_TPS
    workers: int = WORKERS_PER_REGION
    lag: int = LAG
    checkpoint_every: float = 2.0


@dataclass
class Result:
    progress: dict[str, RegionProgress]
    problems: list[Problem]
    interrupted: bool
    new_events: int
    total_events: int

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        codes = [p.code for p in self.problems if p.code != EXIT_OK]
        for code in (EXIT_USAGE, EXIT_CREDENTIALS, EXIT_DENIED):
            if code in codes:
                return code
        return EXIT_FAILED if codes else EXIT_OK


def _attr_json(attr: tuple[str, str] | None) -> dict[str, str] | None:
    return None if attr is None else {"AttributeKey": attr[0], "AttributeValue": attr[1]}


def _utc(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _epoch(value: Any) -> int | None:
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, int | float):
        return int(value)
    return None


def classify(exc: BaseException, region: str) -> Problem | None:
    """A botocore error as a Problem; None when it is worth retrying (throttling, network)."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        text = str(err.get("Message", "")) or code
        if code in THROTTLED or code in SERVER:
            return None
        if code in EXPIRED:
            return Problem(
                f"the AWS credentials expired ({code}). Progress is saved: refresh them "
                "(e.g. `aws sso login`) and run the same command again to resume.",
                EXIT_CREDENTIALS, fatal=True, region=region)
        if code in DENIED:
            return Problem(
                f"access denied in {region}: the credentials need the IAM permission "
                f"cloudtrail:LookupEvents ({code}: {text})", EXIT_DENIED, fatal=True,
                region=region)
        if code in BAD_CLIENT:
            return Problem(
                f"{region}: the credentials are not accepted there ({code}): a wrong or "
                "revoked key, or an opt-in region not enabled for this account",
                EXIT_CREDENTIALS, region=region)
        if code in BAD_REQUEST:
            return Problem(f"CloudTrail refused the request: {code}: {text}", EXIT_USAGE,
                           fatal=True, region=region)
        return Problem(f"{region}: {code}: {text}", EXIT_FAILED, region=region)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return Problem(NO_CREDENTIALS, EXIT_CREDENTIALS, fatal=True, region=region)
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError
                  | bx.UnauthorizedSSOTokenError):
        return Problem(
            f"the AWS login expired ({type(exc).__name__}). Progress is saved: run "
            "`aws sso login` (or refresh the credentials) and the same command again to resume.",
            EXIT_CREDENTIALS, fatal=True, region=region)
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return None
    if isinstance(exc, bx.BotoCoreError):
        return Problem(f"{region}: {exc}", EXIT_FAILED, region=region)
    return Problem(f"{region}: unexpected {type(exc).__name__}: {exc}", EXIT_FAILED,
                   region=region)


NO_CREDENTIALS = ("no AWS credentials found: set AWS_PROFILE or --profile, run `aws configure` "
                  "or `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def plan(request: Request, state: dict[str, Any] | None) -> dict[str, list[Window]]:
    """Per region: windows saved unfinished first, then the wanted range minus what is covered
    or already planned, split newest first."""
    regions_state = (state or {}).get("regions", {})
    plans: dict[str, list[Window]] = {}
    for region in request.regions:
        saved = regions_state.get(region, {})
        covered: list[Interval] = [(int(s), int(e)) for s, e in saved.get("covered", [])]
        windows = [Window(region, int(w["start"]), int(w["end"]), w.get("nextToken"),
                          None if w.get("cursor") is None else int(w["cursor"]))
                   for w in saved.get("pending", [])]
        taken = covered + [(w.start, w.end) for w in windows]
        for piece in subtract((request.start, request.end), taken):
            windows.extend(Window(region, s, e) for s, e in split(piece))
        plans[region] = windows
    return plans


class Fetcher:
    """Runs one fetch to the end, to a fatal problem or until `stop` is set."""

    def __init__(self, request: Request, output: OutputFile, state: dict[str, Any] | None,
                 client_for: Callable[[str], Any], *,
                 on_progress: Callable[[dict[str, RegionProgress]], None] | None = None,
                 stop: threading.Event | None = None,
                 sleep_jitter: Callable[[float], float] = lambda cap: random.uniform(0, cap),
                 ) -> None:
        self.request = request
        self.output = output
        self.client_for = client_for
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self._jitter = sleep_jitter
        self._state_regions: dict[str, Any] = dict((state or {}).get("regions", {}))
        self._first_start = int((state or {}).get("from", request.start))
        self.plans = plan(request, state)
        self.progress = {r: RegionProgress(r) for r in request.regions}
        for region, windows in self.plans.items():
            self.progress[region].planned_seconds = sum(w.length for w in windows)
            self.progress[region].done_seconds = sum(w.done_seconds for w in windows)
        self.problems: list[Problem] = []
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._run_started = int(time.time())
        self._failed: set[str] = set()  # regions that hit a problem: their workers stop

    # -- workers -------------------------------------------------------------------------
    def _call(self, client: Any, bucket: TokenBucket, params: dict[str, Any],
              region: str) -> dict[str, Any] | Problem | None:
        """One page with retries. None when stopped."""
        from botocore import exceptions as bx

        throttles = others = 0
        while not self.stop.is_set():
            if not bucket.acquire(self.stop):
                return None
            try:
                response: dict[str, Any] = client.lookup_events(**params)
                return response
            except Exception as exc:  # classified below; nothing escapes a worker
                if isinstance(exc, bx.ClientError) and exc.response.get("Error", {}).get(
                        "Code") == "InvalidNextTokenException":
                    return Problem("InvalidNextToken", EXIT_OK, region=region)
                problem = classify(exc, region)
                if problem is not None:
                    return problem
                is_throttle = isinstance(exc, bx.ClientError) and exc.response.get(
                    "Error", {}).get("Code") in THROTTLED
                if is_throttle:
                    throttles += 1
                    self._inbox.put(("throttled", region))
                    if throttles > MAX_THROTTLE_RETRIES:
                        return Problem(f"{region}: still throttled after {throttles} tries; "
                                       "run the same command again later to resume",
                                       EXIT_FAILED, region=region)
                    attempt = throttles
                else:
                    others += 1
                    if others > MAX_OTHER_RETRIES:
                        return Problem(
                            f"{region}: cannot reach CloudTrail ({exc}); check the region name,"
                            " --endpoint-url and the network, then run the same command again",
                            EXIT_FAILED, region=region)
                    attempt = others
                # Exponential backoff with full jitter (AWS's advice for throttling).
                if self.stop.wait(self._jitter(min(20.0, 0.5 * 2 ** attempt))):
                    return None
        return None

    def _work(self, region: str, windows: queue.Queue[Window], bucket: TokenBucket) -> None:
        try:
            client = self.client_for(region)
        except Exception as exc:
            self._inbox.put(("problem", classify(exc, region) or Problem(
                f"{region}: cannot set up a client: {exc}", EXIT_FAILED, region=region)))
            self._inbox.put(("worker-exit", region))
            return
        try:
            while not self.stop.is_set() and region not in self._failed:
                try:
                    window = windows.get_nowait()
                except queue.Empty:
                    break
                if not self._page_window(client, bucket, window):
                    break
        finally:
            self._inbox.put(("worker-exit", region))

    def _page_window(self, client: Any, bucket: TokenBucket, window: Window) -> bool:
        """Page one window to its end. False when the worker should stop."""
        token, end = window.next_token, window.end
        if token is None and window.cursor is not None:
            end = window.cursor  # saved without a token: ask again from the oldest seen
        while True:
            params: dict[str, Any] = {
                "StartTime": _utc(window.start),
                # Inclusive bounds in whole seconds; +1 keeps sub-second events at the edge.
                "EndTime": _utc(end + 1),
                "MaxResults": PAGE_SIZE,
            }
            attr = _attr_json(self.request.lookup_attribute)
            if attr is not None:
                params["LookupAttributes"] = [attr]
            if token is not None:
                params["NextToken"] = token
            got = self._call(client, bucket, params, window.region)
            if got is None:
                return False
            if isinstance(got, Problem):
                if got.message == "InvalidNextToken" and token is not None:
                    token = None
                    end = window.cursor if window.cursor is not None else window.end
                    continue
                if window.region not in self._failed:
                    self._failed.add(window.region)
                    self._inbox.put(("problem", got))
                return False
            events = got.get("Events", []) or []
            times = [t for t in (_epoch(e.get("EventTime")) for e in events) if t is not None]
            texts = [e["CloudTrailEvent"] for e in events
                     if isinstance(e.get("CloudTrailEvent"), str)]
            token = got.get("NextToken") or None
            self._inbox.put(("page", window, texts, len(events), token,
                             min(times) if times else None))
            if token is None:
                self._inbox.put(("window-done", window))
                return True
            if self.stop.is_set() or window.region in self._failed:
                return False

    # -- main loop -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        regions = dict(self._state_regions)
        for region, windows in self.plans.items():
            entry = dict(regions.get(region, {}))
            entry["covered"] = [list(i) for i in merge(
                [(int(s), int(e)) for s, e in entry.get("covered", [])])]
            entry["pending"] = [w.to_json() for w in windows]
            regions[region] = entry
        return {"from": min(self._first_start, self.request.start),
                "lookupAttribute": _attr_json(self.request.lookup_attribute),
                "regions": regions}

    def _cover(self, window: Window) -> None:
        entry = self._state_regions.setdefault(window.region, {})
        top = min(window.end, self._run_started - self.request.lag)
        covered = [(int(s), int(e)) for s, e in entry.get("covered", [])]
        if top >= window.start:
            covered.append((window.start, top))
        entry["covered"] = [list(i) for i in merge(covered)]

    def _handle(self, item: tuple[Any, ...], alive: dict[str, int]) -> int:
        """Apply one message from a worker; returns the number of new events it wrote."""
        kind = item[0]
        if kind == "page":
            _, window, texts, n_events, token, oldest = item
            prog = self.progress[window.region]
            added = sum(1 for text in texts if self.output.add(text))
            before = window.done_seconds
            window.next_token = token
            if oldest is not None:
                window.cursor = oldest if window.cursor is None else min(window.cursor, oldest)
            prog.done_seconds += window.done_seconds - before
            prog.events += added
            prog.fetched += n_events
            prog.pages += 1
            return added
        if kind == "window-done":
            window = item[1]
            self.progress[window.region].done_seconds += window.length - window.done_seconds
            self.plans[window.region].remove(window)
            self._cover(window)
        elif kind == "throttled":
            self.progress[item[1]].throttled += 1
        elif kind == "problem" and item[1] is not None:
            problem: Problem = item[1]
            self.problems.append(problem)
            if problem.region is not None:
                self.progress[problem.region].problem = problem.message
            if problem.fatal:
                self.stop.set()
        elif kind == "worker-exit":
            region = item[1]
            alive[region] -= 1
            if alive[region] == 0:
                self.progress[region].finished = time.monotonic()
                self.progress[region].complete = not self.plans[region]
        return 0

    def _checkpoint(self) -> bool:
        """Write the file and the state; a full disk or a vanished folder is a Problem."""
        try:
            self.output.checkpoint(self.state())
        except (OSError, OutputError) as exc:
            text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problem = Problem(f"cannot write {self.output.path}: {text}", EXIT_FAILED,
                              fatal=True)
            if problem.message not in (p.message for p in self.problems):
                self.problems.append(problem)
            self.stop.set()
            return False
        return True

    def run(self) -> Result:
        """Fetch until done, stopped or a fatal problem; the last checkpoint is always written."""
        threads: list[threading.Thread] = []
        alive: dict[str, int] = {}
        for region, windows in self.plans.items():
            if not windows:
                self.progress[region].finished = time.monotonic()
                self.progress[region].complete = True
                continue
            todo: queue.Queue[Window] = queue.Queue()
            for w in windows:
                todo.put(w)
            bucket = TokenBucket(self.request.tps)
            alive[region] = max(1, min(self.request.workers, len(windows)))
            threads.extend(
                threading.Thread(target=self._work, args=(region, todo, bucket),
                                 name=f"fetch-{region}-{i}", daemon=True)
                for i in range(alive[region]))
        new_events = 0
        interrupted = False
        last_cp = time.monotonic()
        cp_cost = 0.0
        dirty = False
        try:
            for t in threads:
                t.start()
            while sum(alive.values()) > 0:
                try:
                    item = self._inbox.get(timeout=0.25)
                except queue.Empty:
                    item = ()
                if item:
                    new_events += self._handle(item, alive)
                    dirty = dirty or item[0] in ("page", "window-done")
                now = time.monotonic()
                if dirty and now - last_cp >= max(self.request.checkpoint_every, 10 * cp_cost):
                    if not self._checkpoint():
                        break
                    last_cp = time.monotonic()
                    cp_cost = last_cp - now
                    dirty = False
                if self.on_progress is not None:
                    self.on_progress(self.progress)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=0.2 if interrupted else 10)
            # Pages that arrived after the stop still belong in the file.
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                new_events += self._handle(item, alive)
            self._checkpoint()
            self.output.close()
            if self.on_progress is not None:
                self.on_progress(self.progress)
        if not interrupted and any(w for w in self.plans.values()) and not self.problems:
            interrupted = True  # stopped from outside (the app's cancel)
        return Result(self.progress, self.problems, interrupted, new_events, self.output.count)


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
