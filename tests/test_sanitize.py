"""Hostile CloudTrail text must show as what it is and never reach the terminal as control codes."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.widgets import Static

from trailtui.jsontext import lines_for
from trailtui.sanitize import (
    cell_fit,
    safe_cell,
    safe_content,
    safe_json_text,
    safe_multiline,
    safe_text,
)

# Categories a terminal may act on or draw as nothing.
DANGEROUS_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _dangerous(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in DANGEROUS_CATEGORIES]


def test_no_control_format_or_surrogate_character_survives() -> None:
    every = "".join(
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in DANGEROUS_CATEGORIES
    )
    assert len(every) > 2000  # C0, C1, formats, tags, surrogates
    assert _dangerous(safe_text(every)) == []
    assert _dangerous(safe_multiline(every).replace("\n", "")) == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("aws-cli\x1b]52;c;SGk=\x07 ok", "aws-cli␛]52;c;SGk=␇ ok"),
        ("a\x1b[31mred", "a␛[31mred"),
        ("\x9b31m", "\\x9b31m"),
        ("x\x85y", "x\\x85y"),
        ("admin\u202etxt.exe", "admin<U+202E>txt.exe"),
        ("adm\u00adin", "adm<U+00AD>in"),
        ("\u2066iso\u2069", "<U+2066>iso<U+2069>"),
        ("\ufeffbom", "<U+FEFF>bom"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("line\u2028sep", "line<U+2028>sep"),
        ("tag\U000e0041", "tag<U+E0041>"),
        ("lone\ud800", "lone<U+D800>"),
        ("hangul\u3164filler", "hangul<U+3164>filler"),
        ("a\tb", "a⇥b"),
        ("a\nb", "a⏎b"),
        ("a\r\nb", "a␍⏎b"),
        ("nul\x00del\x7f", "nul␀del␡"),
    ],
)
def test_control_characters_become_visible_stand_ins(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_ordinary_text_is_unchanged() -> None:
    for text in [
        "aws-cli/2.15.0 Python/3.11.6",
        "Zürich Ünïcode",
        "日本語",
        "[bold]x[/]",
        ":smile:",
    ]:
        assert safe_text(text) == text


def test_none_and_non_strings() -> None:
    assert safe_text(None) == ""
    assert safe_text(None, placeholder="—") == "—"
    assert safe_text(42) == "42"
    assert safe_text(b"a\x1bb") == "a␛b"


def test_multiline_keeps_newlines_only() -> None:
    assert safe_multiline("one\ntwo\x1b[2J\u202e") == "one\ntwo␛[2J<U+202E>"


def test_markup_is_never_parsed() -> None:
    for text in [
        "[bold]x[/]",
        "user[/x]",
        "[link=http://evil]y[/link]",
        ":smile:",
        "[@click=quit]z[/]",
    ]:
        content = safe_content(text)
        assert content.plain == text
        assert content.spans == []


async def test_safe_content_in_a_static_shows_literally_and_does_not_crash() -> None:
    hostile = "user[/x] [link=http://evil]y[/link] :smile: \x1b]52;c;SGk=\x07"

    class ShowApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(safe_content(hostile), id="s")

    app = ShowApp()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        static = app.query_one("#s", Static)
        line = static.render_line(0).text
        assert "user[/x] [link=http://evil]y[/link] :smile: ␛]52;c;SGk=␇" in line
        assert "\x1b" not in line


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdef", 5, "abcd…"),
        ("abcdef", 1, "…"),
        ("abcdef", 0, ""),
        ("日本語テキスト", 6, "日本…"),  # 2-cell characters
        ("日本語テキスト", 7, "日本語…"),
        ("日本語", 6, "日本語"),
        ("😀😀😀", 4, "😀…"),
    ],
)
def test_cell_fit_cuts_by_terminal_cells_and_marks_the_cut(
    text: str, width: int, expected: str
) -> None:
    fitted = cell_fit(text, width)
    assert fitted == expected
    assert cell_len(fitted) <= width


def test_safe_cell_reads_only_what_fits_but_cuts_like_the_whole_value() -> None:
    long = "agent\x1b[31m" + "x" * 100_000
    assert safe_cell(long, 12) == cell_fit(safe_text(long), 12) == "agent␛[31mx…"
    # Zero-width combining marks after the prefix: falls back to the whole value, still right.
    combining = "e" + "\u0301" * 200 + "f"
    assert safe_cell(combining, 5) == cell_fit(safe_text(combining), 5)
    assert safe_cell(None, 5, placeholder="—") == "—"


def pretty_json(value: object) -> str:
    """What the detail view prints for a record (sanitize.pretty_json was unused: the view
    prints through trailtui.jsontext)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return "\n".join(line.plain for line in lines_for(text))


def test_pretty_json_keeps_structure_and_value_but_escapes_hostile_characters() -> None:
    record = {
        "userAgent": "aws-cli\u009b31m\u202eevil\u001b]52;c;SGk=\u0007",
        "requestParameters": {"bucketName": "b\u2066x", "list": [1, None, "日本"]},
        "tag": "\U000e0041",
    }
    shown = pretty_json(json.dumps(record))
    assert _dangerous(shown.replace("\n", "")) == []
    assert "\\u009b" in shown and "\\u202e" in shown
    assert json.loads(shown) == record  # still valid JSON with the same value
    assert '\n  "requestParameters": {' in shown  # indented
    assert "日本" in shown  # non-ASCII text stays readable


def test_pretty_json_accepts_objects_and_non_json_text() -> None:
    assert json.loads(pretty_json({"a": "\u202e"})) == {"a": "\u202e"}
    assert pretty_json("not json \x1b[2J\nline two") == "not json ␛[2J\nline two"


def test_safe_json_text_leaves_plain_json_alone() -> None:
    text = json.dumps({"a": [1, 2, {"b": "c"}]}, indent=2)
    assert safe_json_text(text) == text
