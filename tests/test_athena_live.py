"""Against a real Athena CloudTrail table: runs only when TRAILTUI_ATHENA_TEST_TABLE
(DATABASE.TABLE) and AWS credentials are set; skipped with that reason otherwise.

Optional: TRAILTUI_ATHENA_TEST_WORKGROUP, TRAILTUI_ATHENA_TEST_OUTPUT (s3://...), AWS_REGION /
AWS_PROFILE as for the CLI. Costs at most a few 10 MB minimum charges (a one-hour range).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from trailtui.data import views
from trailtui.data.backend import QueryStatus
from trailtui.data.filters import Chip, FilterState
from trailtui.data.remote import RemoteBackend

TABLE = os.environ.get("TRAILTUI_ATHENA_TEST_TABLE", "")


def _credentials() -> bool:
    try:
        import boto3
    except ImportError:
        return False
    return boto3.Session().get_credentials() is not None


pytestmark = pytest.mark.skipif(
    not TABLE or not _credentials(),
    reason="live Athena test: set TRAILTUI_ATHENA_TEST_TABLE=DATABASE.TABLE and AWS credentials",
)


@pytest.fixture(scope="module")
def backend() -> Iterator[RemoteBackend]:
    from trailtui.data import athena

    database, table = TABLE.split(".")
    engine = athena.connect(
        workgroup=os.environ.get("TRAILTUI_ATHENA_TEST_WORKGROUP"),
        output_location=os.environ.get("TRAILTUI_ATHENA_TEST_OUTPUT"),
        database=database,
    )
    yield RemoteBackend(engine, engine.describe_table(database, table))


def test_live_count_facets_page(backend: RemoteBackend) -> None:
    seen: list[QueryStatus] = []
    backend.on_status = seen.append
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    state = FilterState((Chip.time(now - timedelta(hours=1), now),))
    facets = backend.facets(views.FACET_KEYS, state)
    total = backend.count(state)
    assert sum(n for _, n in facets["eventSource"]) == total
    rows = backend.page(state, 0, 50)
    assert len(rows) == min(50, total)
    if rows:
        detail = backend.event(rows[0][9:])
        assert detail is not None and detail.fields.get("eventID") == rows[0][9]
    assert backend.session.queries == 2  # count came from the facets query
    assert all(s.state in ("queued", "running", "succeeded", "cached") for s in seen)
