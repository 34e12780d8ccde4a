"""Regenerate the README screenshots from the sample that ships with trailtui.

    pip install '.[screenshots]'      # cairosvg; PNGs need a monospace font: Debian fonts-firacode
    python screenshots/make_screenshots.py

Drives the real app headless (`run_test`), saves each screen as SVG, converts it to PNG.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle

HERE = Path(__file__).resolve().parent
SIZE = (180, 46)

Step = Callable[[Pilot[int]], Awaitable[None]]




async def main_screen(pilot: Pilot[int]) -> None:
    await settle(pilot)


async def facet_filtered(pilot: Pilot[int]) -> None:
    await settle(pilot)
    await pilot.press("f", "down", "enter")
    await settle(pilot)
    await pilot.press("f")
    pilot.app.screen.query_one("#facet-eventSource").focus()
    await pilot.pause()
    await pilot.press("down", "x")
    await settle(pilot)


async def detail(pilot: Pilot[int]) -> None:
    await settle(pilot)
    await pilot.press("down", "down", "enter")
    await settle(pilot)


async def sql_console(pilot: Pilot[int]) -> None:
    await settle(pilot)
    await pilot.press("colon")
    await pilot.pause()
    lines = ["SELECT actor, count(*) AS errors, count(DISTINCT sourceIPAddress) AS ips",
             "FROM events WHERE errorCode IS NOT NULL", "GROUP BY ALL ORDER BY errors DESC"]
    for i, line in enumerate(lines):
        await pilot.press(*(["enter"] if i else []), *line)
    await pilot.press("ctrl+r")
    await settle(pilot)


async def frequency(pilot: Pilot[int]) -> None:
    """A nested column added with C, then F on the service column with two values ticked."""
    await settle(pilot)
    await pilot.press("C")
    await settle(pilot)
    await pilot.press(*"issuer.username", "enter", "space", "enter")
    await settle(pilot)
    await pilot.press("right", "right", "right", "F")
    await settle(pilot)
    await pilot.press("space", "space")


async def actors(pilot: Pilot[int]) -> None:
    await settle(pilot)
    await pilot.press("A")
    await settle(pilot)
    await pilot.press("down", "down")
    await settle(pilot)


async def timeline(pilot: Pilot[int]) -> None:
    await settle(pilot)
    await pilot.press("z")
    await settle(pilot)


SHOTS: dict[str, Step] = {
    "main": main_screen,
    "facets": facet_filtered,
    "detail": detail,
    "sql": sql_console,
    "frequency": frequency,
    "actors": actors,
    "timeline": timeline,
}


async def shoot(name: str, step: Step) -> Path:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await step(pilot)
        await pilot.pause(0.3)
        svg = HERE / f"{name}.svg"
        app.save_screenshot(filename=svg.name, path=str(HERE))
    return svg


def to_png(svg: Path) -> Path:
    import cairosvg

    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=1800)
    return png


def main(names: list[str]) -> None:
    for name in names or list(SHOTS):
        svg = asyncio.run(shoot(name, SHOTS[name]))
        print(to_png(svg))


if __name__ == "__main__":
    main(sys.argv[1:])
