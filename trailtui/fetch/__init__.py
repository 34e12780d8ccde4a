"""`trailtui fetch`: CloudTrail Event history straight from the LookupEvents API.

The console download stops at 200,000 events and a browser session that times out leaves a cut
file; LookupEvents returns the same 90 days of management events, 50 a page, 2 requests per
second per account and region. This package fetches regions in parallel, splits the time range
into windows so several pages are in flight within that limit, writes the console's
`{"Records":[...]}` shape atomically at every checkpoint and keeps a sidecar state file so the
same command resumes (and later tops up) without duplicates.

No Textual here; boto3 is imported only when a fetch runs (`pip install 'trailtui[aws]'`).
"""
