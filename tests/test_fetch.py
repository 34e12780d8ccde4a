"""`trailtui fetch`: limiter, windows, the output file, botocore Stubber paging and errors, and
the real command end to end against a local CloudTrail double (no network, dummy credentials).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import msgspec
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from fake_cloudtrail import FakeCloudTrail, make_events

from trailtui.cli import headless
from trailtui.cli import main as trailtui_main
from trailtui.fetch import engine
from trailtui.fetch.cli import ATTRIBUTE_KEYS, parse_attribute
from trailtui.fetch.cli import main as fetch_main
from trailtui.fetch.engine import Fetcher, Request
from trailtui.fetch.limiter import TokenBucket
from trailtui.fetch.output import OutputError, OutputFile
from trailtui.fetch.windows import merge, parse_duration, parse_time, split, subtract

NOW = int(time.time())
TEST_TPS = 50.0  # the double enforces this rate: fast tests, the same limiter code path


# -- pieces -----------------------------------------------------------------------------

def test_limiter_never_lets_more_than_the_rate_through() -> None:
    clock = [100.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    bucket = TokenBucket(2.0, clock=lambda: clock[0], sleep=sleep)
    sent = []
    for _ in range(20):
        bucket.acquire()
        sent.append(clock[0])
    for i, t in enumerate(sent):
        in_one_second = [s for s in sent if t <= s < t + 1.0]
        assert len(in_one_second) <= 2, (i, in_one_second)
    assert sent[-1] - sent[0] == pytest.approx(19 * 0.5)


def test_limiter_is_shared_between_threads() -> None:
    """Eight threads, one bucket: the k-th request never leaves before k/rate (a lower bound,
    so a slow machine cannot make this fail)."""
    rate = 200.0
    bucket = TokenBucket(rate)
    stamps: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def worker() -> None:
        for _ in range(8):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for k, t in enumerate(sorted(stamps)):
        assert t - start >= (k - 1) / rate - 1e-3


def test_limiter_wait_can_be_cancelled() -> None:
    bucket = TokenBucket(0.01)
    bucket.acquire()
    stop = threading.Event()
    stop.set()
    assert bucket.acquire(stop) is False


def test_durations_times_and_windows() -> None:
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("90m") == 5400
    with pytest.raises(ValueError, match="7d"):
        parse_duration("seven days")
    assert parse_time("2026-01-31") == parse_time("2026-01-31T00:00:00Z")
    assert parse_time("2026-01-31T02:00+02:00") == parse_time("2026-01-31T00:00Z")
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")
    assert merge([(5, 9), (1, 3), (4, 4)]) == [(1, 9)]
    assert subtract((0, 100), [(10, 20), (50, 200)]) == [(0, 9), (21, 49)]
    assert subtract((0, 100), []) == [(0, 100)]
    assert subtract((0, 100), [(0, 100)]) == []
    windows = split((0, 7 * 86400 - 1))
    assert windows[0][1] == 7 * 86400 - 1 and windows[-1][0] == 0  # newest first
    assert all(e - s + 1 <= 86400 for s, e in windows)
    covered = sorted(windows)
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(covered))
    assert len(split((0, 3599))) == 4  # an hour: four windows to page side by side
    assert len(split((0, 30))) == 1


def test_lookup_attribute_is_checked() -> None:
    assert parse_attribute("eventname=ConsoleLogin") == ("EventName", "ConsoleLogin")
    with pytest.raises(Exception, match="EventName") as info:
        parse_attribute("Colour=blue")
    for key in ATTRIBUTE_KEYS:
        assert key in str(info.value)


# -- the output file --------------------------------------------------------------------

def _records(path: Path) -> list[bytes]:
    class F(msgspec.Struct):
        Records: list[msgspec.Raw]

    return [bytes(r) for r in msgspec.json.decode(path.read_bytes(), type=F).Records]


def test_output_is_valid_json_after_every_checkpoint_and_keeps_bytes(tmp_path: Path) -> None:
    out = OutputFile(tmp_path / "o.json")
    assert out.open() is None
    texts = [json.dumps(r, ensure_ascii=False) for r in make_events("us-east-1", 5, NOW)]
    texts[1] = texts[1].replace('"eventVersion"', '  "eventVersion"')  # odd spacing stays
    assert out.add(texts[0]) is True
    out.checkpoint({})
    assert json.loads((tmp_path / "o.json").read_text())["Records"][0]["eventID"]
    for text in texts[1:]:
        assert out.add(text) is True
    assert out.add(texts[2]) is False  # the same event again
    assert out.add("not json") is None
    out.checkpoint({"regions": {}})
    assert _records(tmp_path / "o.json") == [t.encode() for t in texts]
    state = json.loads((tmp_path / "o.json.fetch-state.json").read_text())
    assert state["records"] == 5
    out.close()
    again = OutputFile(tmp_path / "o.json")  # a later run knows what is there
    assert again.open() is not None
    assert again.add(texts[3]) is False and again.count == 5


def test_output_appends_to_a_console_download(tmp_path: Path) -> None:
    path = tmp_path / "console.json"
    recs = make_events("eu-west-1", 3, NOW)
    path.write_text(json.dumps({"Records": recs[1:]}, indent=2) + "\n\n")
    out = OutputFile(path)
    out.open()
    assert out.newest == recs[1]["eventTime"]
    assert out.add(json.dumps(recs[0])) is True
    assert out.add(json.dumps(recs[1])) is False
    out.checkpoint({})
    assert [r["eventID"] for r in json.loads(path.read_text())["Records"]] == [
        recs[1]["eventID"], recs[2]["eventID"], recs[0]["eventID"]]


def test_output_continues_an_empty_fetch(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    first = OutputFile(path)
    first.open()
    first.checkpoint({})
    first.close()
    assert json.loads(path.read_text()) == {"Records": []}
    again = OutputFile(path)
    again.open()
    assert again.add(json.dumps(make_events("us-east-1", 1, NOW)[0])) is True
    again.checkpoint({})
    again.close()
    assert len(json.loads(path.read_text())["Records"]) == 1


def test_output_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(OutputError, match="choose another --out"):
        OutputFile(path).open()


# -- Stubber: paging, throttling, errors --------------------------------------------------

def _client() -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).client("cloudtrail", region_name="us-east-1",
             config=Config(retries={"total_max_attempts": 1}))


def _event(rec: dict[str, Any]) -> dict[str, Any]:
    return {"EventId": rec["eventID"], "EventName": rec["eventName"],
            "EventTime": dt.datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
            .replace(tzinfo=dt.UTC), "CloudTrailEvent": json.dumps(rec)}


def _fetch(tmp_path: Path, stub: Stubber, client: Any) -> tuple[engine.Result, OutputFile]:
    out = OutputFile(tmp_path / "s.json")
    state = out.open()
    # Ten minutes: one window, one worker, so the stubbed answers come in a known order.
    request = Request(regions=["us-east-1"], start=NOW - 600, end=NOW, workers=1,
                      checkpoint_every=0.0)
    fetcher = Fetcher(request, out, state, lambda region: client, sleep_jitter=lambda cap: 0.0)
    with stub:
        result = fetcher.run()
    return result, out


def test_stubbed_pages_follow_next_token_and_survive_throttling(tmp_path: Path) -> None:
    client = _client()
    stub = Stubber(client)
    recs = make_events("us-east-1", 4, NOW - 60)
    params = {"StartTime": ANY, "EndTime": ANY, "MaxResults": 50}
    stub.add_response("lookup_events", {"Events": [_event(r) for r in recs[:2]],
                                        "NextToken": "t1"}, params)
    stub.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded", 400)
    stub.add_response("lookup_events", {"Events": [_event(r) for r in recs[1:]]},
                      {**params, "NextToken": "t1"})
    result, _out = _fetch(tmp_path, stub, client)
    assert result.exit_code == 0
    assert result.new_events == 4 and result.progress["us-east-1"].throttled == 1
    assert [json.loads(r)["eventID"] for r in _records(tmp_path / "s.json")] == [
        r["eventID"] for r in recs]
    stub.assert_no_pending_responses()


def test_stubbed_invalid_next_token_restarts_from_the_oldest_event(tmp_path: Path) -> None:
    client = _client()
    stub = Stubber(client)
    recs = make_events("us-east-1", 3, NOW - 60)
    stub.add_response("lookup_events", {"Events": [_event(r) for r in recs[:2]],
                                        "NextToken": "stale"})
    stub.add_client_error("lookup_events", "InvalidNextTokenException", "bad token", 400)
    stub.add_response("lookup_events", {"Events": [_event(r) for r in recs[1:]]},
                      {"StartTime": ANY, "EndTime": ANY, "MaxResults": 50})
    result, out = _fetch(tmp_path, stub, client)
    assert result.exit_code == 0 and out.count == 3


@pytest.mark.parametrize(("code", "exit_code", "words"), [
    ("AccessDeniedException", 5, "cloudtrail:LookupEvents"),
    ("ExpiredTokenException", 4, "run the same command again to resume"),
    ("UnrecognizedClientException", 4, "opt-in region"),
    ("InvalidTimeRangeException", 2, "InvalidTimeRangeException"),
])
def test_stubbed_errors_are_one_clear_message(tmp_path: Path, code: str, exit_code: int,
                                              words: str) -> None:
    client = _client()
    stub = Stubber(client)
    stub.add_client_error("lookup_events", code, "nope", 400)
    result, _out = _fetch(tmp_path, stub, client)
    assert result.exit_code == exit_code
    assert len(result.problems) == 1 and words in result.problems[0].message
    state = json.loads((tmp_path / "s.json.fetch-state.json").read_text())
    assert state["regions"]["us-east-1"]["pending"], "the unfinished window is kept to resume"


# -- the real command against the local double --------------------------------------------

@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Dummy credentials only: no ~/.aws, no profile, no instance metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    env = {"AWS_ACCESS_KEY_ID": "AKIATESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def fake() -> Iterator[FakeCloudTrail]:
    with FakeCloudTrail(tps=TEST_TPS, throttle_every=6, lifetime=90) as server:
        yield server


def _run(fake: FakeCloudTrail, out: Path, *extra: str) -> tuple[int, str]:
    err = io.StringIO()
    code = fetch_main(["--endpoint-url", fake.url, "--tps", str(TEST_TPS), "--out", str(out),
                       "--progress", "lines", *extra], err=err)
    return code, err.getvalue()


def _count(path: Path) -> int:
    out = io.StringIO()
    assert headless([str(path)], "select count(*) from events", "csv", cache=False,
                    out=out, err=io.StringIO()) == 0
    return int(out.getvalue().splitlines()[1])


def test_fetch_several_regions_end_to_end(aws_env: dict[str, str], fake: FakeCloudTrail,
                                         tmp_path: Path) -> None:
    want = set(fake.add("us-east-1", make_events("us-east-1", 400, NOW - 7200, spacing=300)))
    want |= set(fake.add("eu-west-1", make_events("eu-west-1", 130, NOW - 3600, spacing=900)))
    out = tmp_path / "events.json"
    code, err = _run(fake, out, "--region", "us-east-1", "--region", "eu-west-1",
                     "--since", "10d")
    assert code == 0, err
    assert fake.violations == [] and fake.throttled > 0
    records = _records(out)
    assert len(records) == len(want) and {r.decode() for r in records} == want
    assert _count(out) == 530
    assert "us-east-1: 400 new events" in err and "530 events (530 new)" in err
    assert err.count("throttled, done") == 2


def test_incremental_run_asks_only_for_newer_events(aws_env: dict[str, str],
                                                    fake: FakeCloudTrail,
                                                    tmp_path: Path) -> None:
    fake.add("us-east-1", make_events("us-east-1", 200, NOW - 7200, spacing=600))
    out = tmp_path / "events.json"
    assert _run(fake, out, "--region", "us-east-1", "--since", "7d")[0] == 0
    first_pages = fake.pages
    fake.bodies.clear()
    fake.add("us-east-1", make_events("us-east-1", 60, NOW - 30, spacing=20, prefix="new-"))
    code, err = _run(fake, out, "--region", "us-east-1", "--since", "7d")
    assert code == 0, err
    assert min(b["StartTime"] for b in fake.bodies) >= NOW - 7200 - engine.LAG - 5
    assert fake.pages - first_pages < first_pages
    assert _count(out) == 260 and len(set(_records(out))) == 260
    # No range given: from just before the newest event of the file.
    fake.bodies.clear()
    assert _run(fake, out, "--region", "us-east-1")[0] == 0
    assert min(b["StartTime"] for b in fake.bodies) >= NOW - 30 - engine.LAG - 5


def test_a_killed_fetch_resumes_without_duplicates(aws_env: dict[str, str],
                                                   fake: FakeCloudTrail,
                                                   tmp_path: Path) -> None:
    want = set(fake.add("us-east-1", make_events("us-east-1", 900, NOW - 600, spacing=400)))
    want |= set(fake.add("us-west-2", make_events("us-west-2", 300, NOW - 600, spacing=900)))
    out = tmp_path / "events.json"
    state = tmp_path / "events.json.fetch-state.json"
    fake.stall_after = 12
    fake.released.clear()
    argv = [sys.executable, "-m", "trailtui", "fetch", "--endpoint-url", fake.url,
            "--tps", str(TEST_TPS), "--region", "us-east-1", "--region", "us-west-2",
            "--since", "20d", "--out", str(out)]
    proc = subprocess.Popen(argv, env={**os.environ, **aws_env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the pages before the stall are checkpointed
            if (fake.pages >= fake.stall_after and state.exists()
                    and time.time() - state.stat().st_mtime > 2.5):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the fetch wrote no checkpoint")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    partial = _records(out)  # valid JSON, whatever moment the kill came
    assert 0 < len(partial) < len(want)
    fake.generation += 1  # the saved NextTokens are not accepted any more
    fake.stall_after = None
    fake.released.set()
    code, err = _run(fake, out, "--region", "us-east-1", "--region", "us-west-2",
                     "--since", "20d")
    assert code == 0, err
    assert "resuming" in err
    records = _records(out)
    assert len(records) == len(want) and {r.decode() for r in records} == want
    assert fake.violations == []


def test_interrupt_saves_and_says_how_to_resume(aws_env: dict[str, str], fake: FakeCloudTrail,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add("us-east-1", make_events("us-east-1", 300, NOW - 600, spacing=60))
    calls = [0]
    real = engine.Fetcher._handle

    def handle(self: Fetcher, item: tuple[Any, ...], alive: dict[str, int]) -> int:
        if item[0] == "page" and self.progress["us-east-1"].pages == 2 and not calls[0]:
            calls[0] += 1  # Ctrl-C once, in the main loop, as a user would
            raise KeyboardInterrupt
        return real(self, item, alive)

    monkeypatch.setattr(engine.Fetcher, "_handle", handle)
    out = tmp_path / "events.json"
    code, err = _run(fake, out, "--region", "us-east-1", "--since", "1d")
    assert code == 130 and "run the same command again to resume" in err
    assert "throttled, stopped" in err
    assert 0 < len(_records(out)) < 300
    monkeypatch.setattr(engine.Fetcher, "_handle", real)
    assert _run(fake, out, "--region", "us-east-1", "--since", "1d")[0] == 0
    assert len(set(_records(out))) == 300


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--region", "us-east-9"], 2, "unknown region"),
    (["--region", "us-east-1", "--lookup-attribute", "Colour=red"], 2, "AccessKeyId"),
    (["--region", "us-east-1", "--since", "a week"], 2, "not a duration"),
    (["--region", "us-east-1", "--from", "2026-01-02", "--to", "2025-01-01"], 2, "empty"),
    (["--region", "us-east-1", "--tps", "10"], 2, "test endpoint"),
])
def test_bad_arguments_get_one_message(aws_env: dict[str, str], tmp_path: Path,
                                       args: list[str], code: int, words: str) -> None:
    err = io.StringIO()
    assert fetch_main([*args, "--out", str(tmp_path / "o.json")], err=err) == code
    assert words in err.getvalue() and "Traceback" not in err.getvalue()


def test_no_credentials(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                        tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    err = io.StringIO()
    code = fetch_main(["--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
                       "--out", str(tmp_path / "o.json")], err=err)
    assert code == 4 and "no AWS credentials" in err.getvalue()


def test_boto3_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    err = io.StringIO()
    assert fetch_main(["--region", "us-east-1", "--out", str(tmp_path / "o")], err=err) == 3
    assert "pip install 'trailtui[aws]'" in err.getvalue()


def test_trailtui_fetch_is_a_sub_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        trailtui_main(["fetch", "--help"])
    assert info.value.code == 0
    assert "--lookup-attribute" in capsys.readouterr().out


def test_out_in_a_missing_folder_is_a_usage_error(aws_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    err = io.StringIO()
    code = fetch_main(["--region", "us-east-1", "--out", str(tmp_path / "nope" / "o.json")],
                      err=err)
    assert code == 2 and "no such folder" in err.getvalue()


def test_an_unwritable_output_stops_with_one_message(aws_env: dict[str, str],
                                                     fake: FakeCloudTrail, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add("us-east-1", make_events("us-east-1", 120, NOW - 600, spacing=10))

    def full(self: OutputFile, state: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(OutputFile, "checkpoint", full)
    code, err = _run(fake, tmp_path / "o.json", "--region", "us-east-1", "--since", "1h")
    assert code == 1 and "No space left on device" in err and "Traceback" not in err


def test_fetch_imports_no_textual() -> None:
    """`trailtui fetch` on a server over SSH does not pay for the UI."""
    code = ("import sys, trailtui.fetch.cli, trailtui.fetch.engine; "
            "sys.exit('textual' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_all_regions_skips_regions_not_enabled(aws_env: dict[str, str], fake: FakeCloudTrail,
                                               tmp_path: Path) -> None:
    fake.add("us-east-1", make_events("us-east-1", 30, NOW - 600, spacing=10))
    fake.add("eu-west-1", make_events("eu-west-1", 20, NOW - 600, spacing=10))
    fake.disabled = {"af-south-1", "me-south-1"}
    out = tmp_path / "all.json"
    code, err = _run(fake, out, "--all-regions", "--since", "30m")
    assert code == 0, err
    assert "skipped (not enabled for this account?): af-south-1, me-south-1" in err
    assert len(_records(out)) == 50 and fake.violations == []


def test_lookup_attribute_reaches_the_api_and_sticks_to_the_file(
        aws_env: dict[str, str], fake: FakeCloudTrail, tmp_path: Path) -> None:
    fake.add("us-east-1", make_events("us-east-1", 50, NOW - 600, spacing=10))
    out = tmp_path / "logins.json"
    code, err = _run(fake, out, "--region", "us-east-1", "--since", "1h",
                     "--lookup-attribute", "EventName=ConsoleLogin")
    assert code == 0, err
    assert {json.loads(r)["eventName"] for r in _records(out)} == {"ConsoleLogin"}
    assert len(_records(out)) == 10
    code, err = _run(fake, out, "--region", "us-east-1", "--since", "1h")
    assert code == 2 and "different --lookup-attribute" in err


def test_sigterm_saves_what_arrived(aws_env: dict[str, str], fake: FakeCloudTrail,
                                    tmp_path: Path) -> None:
    fake.add("us-east-1", make_events("us-east-1", 400, NOW - 600, spacing=10))
    fake.stall_after = 3
    fake.released.clear()
    out = tmp_path / "events.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trailtui", "fetch", "--endpoint-url", fake.url, "--tps",
         str(TEST_TPS), "--region", "us-east-1", "--since", "2h", "--out", str(out)],
        env={**os.environ, **aws_env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while fake.pages < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the pages reach the main loop
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    fake.released.set()
    assert proc.returncode == 130, stderr
    assert b"run the same command again to resume" in stderr
    assert len(_records(out)) >= 100  # 3 pages of 50, less what two windows share


def test_the_same_problem_in_many_regions_is_one_line() -> None:
    from trailtui.fetch.cli import grouped
    from trailtui.fetch.engine import Problem

    problems = [Problem(f"{r}: the credentials are not accepted there", 4, region=r)
                for r in ("us-east-1", "eu-west-1", "ap-south-1")]
    problems.append(Problem("cannot write o.json: disk full", 1, fatal=True))
    assert grouped(problems) == [
        "us-east-1, eu-west-1, ap-south-1: the credentials are not accepted there",
        "cannot write o.json: disk full"]


@pytest.mark.samples
def test_real_lookup_events_records_are_written_as_they_came(samples: Path,
                                                             tmp_path: Path) -> None:
    """Real LookupEvents output (scrubbed): each CloudTrailEvent string lands byte for byte,
    and trailtui opens the file with every event."""
    lines = (samples / "odd-shapes" / "plaso_lookup-events-api-output.jsonl").read_text()
    events = [json.loads(line) for line in lines.splitlines() if line.strip()]
    client = _client()
    stub = Stubber(client)
    stub.add_response("lookup_events", {"Events": [
        {"EventId": e["EventId"], "EventName": e["EventName"],
         "EventTime": dt.datetime.fromisoformat(e["EventTime"]),
         "CloudTrailEvent": e["CloudTrailEvent"]} for e in events]})
    result, _out = _fetch(tmp_path, stub, client)
    assert result.exit_code == 0
    path = tmp_path / "s.json"
    assert _records(path) == [e["CloudTrailEvent"].encode() for e in events]
    assert _count(path) == len(events)


def test_open_goes_on_into_the_app(aws_env: dict[str, str], fake: FakeCloudTrail,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailtui.app import TrailApp

    fake.add("us-east-1", make_events("us-east-1", 10, NOW - 600, spacing=10))
    opened: list[object] = []
    monkeypatch.setattr(TrailApp, "run", lambda self, *a, **k: opened.append(self))
    out = tmp_path / "o.json"
    code, err = _run(fake, out, "--region", "us-east-1", "--since", "1h", "--open")
    assert code == 0, err
    assert len(opened) == 1


def test_one_fetch_per_output(aws_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    first = OutputFile(out)
    first.open()
    err = io.StringIO()
    code = fetch_main(["--region", "us-east-1", "--since", "1h", "--out", str(out)], err=err)
    assert code == 2 and "another trailtui fetch is writing" in err.getvalue()
    first.close()
    second = OutputFile(out)
    assert second.open() is None  # free again once the first let go
    second.close()


def test_the_double_catches_a_client_above_the_limit(aws_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    """The per-region check the end-to-end tests rely on does fire: the same engine with its
    limiter opened wide is caught (and throttled) at once."""
    with FakeCloudTrail(tps=2.0, lifetime=30) as fake:
        fake.add("us-east-1", make_events("us-east-1", 40, NOW - 600, spacing=60))
        client = boto3.session.Session().client(
            "cloudtrail", region_name="us-east-1", endpoint_url=fake.url,
            config=Config(retries={"total_max_attempts": 1}))
        out = OutputFile(tmp_path / "o.json")
        request = Request(regions=["us-east-1"], start=NOW - 3600, end=NOW, tps=1000.0)
        result = Fetcher(request, out, out.open(), lambda region: client,
                         sleep_jitter=lambda cap: 0.05).run()
        assert fake.violations and fake.throttled
        assert result.progress["us-east-1"].throttled > 0
