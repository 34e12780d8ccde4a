"""A local CloudTrail double speaking the JSON protocol of LookupEvents, for tests and bench.

127.0.0.1 only, one thread per request, shuts itself down after `lifetime` seconds. It pages
newest first with NextTokens tied to the request, answers ThrottlingException every
`throttle_every` requests per region and whenever a client goes above `tps` (that is recorded
in `violations`, which a test asserts empty), and can stall after N pages so a test can kill a
fetch mid-way.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET = "CloudTrail_20131101.LookupEvents"


def make_events(region: str, count: int, newest: int, spacing: int = 7,
                prefix: str = "") -> list[dict[str, Any]]:
    """`count` CloudTrail records in `region`, one every `spacing` seconds back from `newest`,
    some sharing a second, some with text a terminal or a JSON writer could trip on."""
    names = ["ConsoleLogin", "AssumeRole", "GetObject", "RunInstances", "DeleteBucket"]
    out = []
    for i in range(count):
        t = newest - (i // 2) * spacing  # pairs share a second
        out.append({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "userName": f"user{i % 11}",
                             "arn": f"arn:aws:iam::123456789012:user/user{i % 11}"},
            "eventTime": dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com",
            "eventName": names[i % len(names)],
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "curl/8 \u00e9\u2028 \\x1b[31m" if i % 17 == 0 else "aws-cli/2",
            "requestParameters": {"bucketName": f"b{i % 5}", "n": i, "f": 1.50},
            "eventID": f"{prefix}{region}-{i:08d}",
            "eventType": "AwsApiCall",
            "recipientAccountId": "123456789012",
        })
    return out


def _epoch(text: str) -> int:
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.UTC).timestamp())


class FakeCloudTrail:
    """`with FakeCloudTrail(...) as fake:` then `--endpoint-url fake.url`."""

    def __init__(self, *, tps: float = 2.0, throttle_every: int = 0, latency: float = 0.0,
                 lifetime: float = 120.0) -> None:
        self.tps = tps
        self.throttle_every = throttle_every
        self.latency = latency
        self.lifetime = lifetime
        self.generation = 0  # bump it to make every NextToken handed out so far invalid
        self.events: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        self.lock = threading.Lock()
        self.times: dict[str, deque[float]] = defaultdict(deque)
        self.requests: dict[str, int] = defaultdict(int)
        self.pages = 0
        self.throttled = 0
        self.violations: list[str] = []
        self.stall_after: int | None = None
        self.disabled: set[str] = set()  # opt-in regions this account has not enabled
        self.released = threading.Event()
        self.released.set()
        self.bodies: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    def add(self, region: str, records: list[dict[str, Any]]) -> list[str]:
        """Serve these records; returns their CloudTrailEvent texts (what the file must hold)."""
        texts = []
        with self.lock:
            for rec in records:
                text = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
                texts.append(text)
                self.events[region].append((_epoch(rec["eventTime"]), text, rec))
            self.events[region].sort(key=lambda e: (-e[0], e[1]))
        return texts

    # -- the server ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeCloudTrail:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = fake.answer(self.headers.get("X-Amz-Target", ""),
                                              self.headers.get("Authorization", ""), body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client was killed mid-way (the resume test does that)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.close)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.released.set()
        self._timer.cancel()
        if self._server is not None:
            server, self._server = self._server, None
            server.shutdown()
            server.server_close()

    @staticmethod
    def _error(code: str, message: str) -> tuple[int, dict[str, Any]]:
        return 400, {"__type": code, "message": message}

    def answer(self, target: str, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not target.endswith(TARGET):  # botocore >= 1.3x sends the full shape name
            return self._error("UnknownOperationException", target)
        try:
            region = auth.split("Credential=")[1].split("/")[2]
        except IndexError:
            return self._error("MissingAuthenticationTokenException", "unsigned")
        if region in self.disabled:
            return self._error("UnrecognizedClientException",
                               "The security token included in the request is invalid.")
        now = time.monotonic()
        with self.lock:
            self.requests[region] += 1
            n = self.requests[region]
            times = self.times[region]
            times.append(now)
            # More than `tps` requests within 0.75 s is above the limit whatever the jitter (a
            # client paced at 2/s sends 3 requests over 1 s; a loaded test machine can delay
            # one request's arrival by a few hundred ms and bunch it with the next; a client
            # that does not pace sends them within milliseconds).
            while times and times[0] < now - 0.75:
                times.popleft()
            over = len(times) > self.tps
            if over:
                self.violations.append(f"{region}: {len(times)} requests in 0.75 s")
            stall = self.stall_after is not None and self.pages >= self.stall_after
        if stall:
            self.released.wait(self.lifetime)
        if self.latency:
            time.sleep(self.latency)
        if over or (self.throttle_every and n % self.throttle_every == 0):
            with self.lock:
                self.throttled += 1
            return self._error("ThrottlingException", "Rate exceeded")
        return self._page(region, body)

    def _page(self, region: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        start = float(body.get("StartTime", 0))
        end = float(body.get("EndTime", 4e9))
        attrs = body.get("LookupAttributes") or []
        size = int(body.get("MaxResults", 50))
        key = [start, end, attrs, self.generation]
        offset = 0
        if body.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(body["NextToken"]))
                assert token["k"] == key
                offset = int(token["o"])
            except Exception:
                return self._error("InvalidNextTokenException", "invalid NextToken")
        with self.lock:
            hits = [e for e in self.events[region] if start <= e[0] <= end and all(
                a["AttributeKey"] != "EventName" or e[2]["eventName"] == a["AttributeValue"]
                for a in attrs)]
            self.pages += 1
            self.bodies.append(body)
        page = hits[offset:offset + size]
        payload: dict[str, Any] = {"Events": [{
            "EventId": rec["eventID"], "EventName": rec["eventName"], "ReadOnly": "false",
            "EventTime": t, "EventSource": rec["eventSource"],
            "Username": rec["userIdentity"]["userName"], "Resources": [],
            "CloudTrailEvent": text} for t, text, rec in page]}
        if offset + size < len(hits):
            payload["NextToken"] = base64.b64encode(
                json.dumps({"k": key, "o": offset + size}).encode()).decode()
        return 200, payload
