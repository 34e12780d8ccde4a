"""How long a big event takes to open in the detail view (was a timing assertion in the tests).

Prints the median time to parse and pretty-print a ~60 KB event (`DetailScreen(...)`), and to
draw the first screen and jump to its last line in a headless app. Goal: well under 0.5 s each
(typically a few ms: only the rows on screen are drawn).

    .venv/bin/python bench/bench_detail.py [--items 600] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from trailtui.screens.detail import DetailScreen
from trailtui.widgets.json_view import JsonView


def big_event(items: int) -> bytes:
    return json.dumps({
        "eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z", "eventID": "big",
        "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
        "responseElements": {
            "items": [{"id": f"i-{n:08x}", "tags": [{"k": "v" * 40}], "n": n} for n in range(items)]
        },
    }).encode()


class Host(App[None]):
    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(DetailScreen(self.raw, {}))


async def draw_and_jump(raw: bytes) -> float:
    app = Host(raw)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(JsonView)
        region = Region(0, 0, view.size.width, view.size.height)
        started = time.perf_counter()
        view.refresh()
        view.render_lines(region)
        await pilot.press("end")
        view.render_lines(region)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    raw = big_event(args.items)
    parse = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        DetailScreen(raw, {})
        parse.append(time.perf_counter() - started)
    draw = [asyncio.run(draw_and_jump(raw)) for _ in range(args.rounds)]
    print(f"event of {len(raw) / 1024:.0f} KB, median of {args.rounds}:")
    print(f"  parse + pretty-print   {statistics.median(parse) * 1000:7.1f} ms  (goal < 500 ms)")
    print(f"  draw + jump to the end {statistics.median(draw) * 1000:7.1f} ms  (goal < 500 ms)")


if __name__ == "__main__":
    main()
