"""The one boundary where CloudTrail text becomes safe display text.

Every string in a CloudTrail record can be written by whoever called AWS (`userAgent`,
`errorMessage`, request parameters, resource names). Textual 8 passes ESC and C1 control
characters straight to the terminal from every widget, so a `userAgent` carrying
`ESC ] 52 ; c ; ...` can write the user's clipboard; Label/Static/DataTable parse `str` as markup
and crash on `[/x]`. So every data-derived string goes through this module before it is shown:
control and invisible characters become visible stand-ins, and text is wrapped in `Content`
(never parsed as markup). See DESIGN.md "Safety" and research/aesthetics.md B.6.

No Textual import at module level: the headless CLI uses `safe_text` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from rich.cells import cell_len, split_text

if TYPE_CHECKING:
    from textual.content import Content

ELLIPSIS: Final = "…"

# Characters that are invisible or reorder text. Shown as <U+XXXX> so that a spoofed
# "adm\u00adin" or a right-to-left override in an ARN cannot hide from the investigator.
_INVISIBLE_RANGES: Final[tuple[tuple[int, int], ...]] = (
    # Every format (Cf) character and line/paragraph separator in Unicode 15 ...
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605),  # Arabic number signs
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space/joiners, LRM, RLM
    (0x2028, 0x202E),  # line/paragraph separators, bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0xFEFF, 0xFEFF),  # byte-order mark / zero-width no-break space
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical formatting
    (0xE0000, 0xE007F),  # tag characters ("ASCII smuggling")
    # ... plus letters and marks that draw nothing (look-alike padding in names) ...
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    # ... and lone surrogates, which would make the terminal writer raise.
    (0xD800, 0xDFFF),
)


def _build_tables() -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Build the translate tables once at import (str.translate is the fast path)."""
    display: dict[int, str] = {}
    for code in range(0x20):
        display[code] = chr(0x2400 + code)  # Unicode Control Pictures: ␀ ␁ … ␛ …
    display[0x09] = "⇥"
    display[0x0A] = "⏎"
    display[0x7F] = "␡"
    for code in range(0x80, 0xA0):
        display[code] = f"\\x{code:02x}"  # C1 shown as typed: \x9b
    for start, end in _INVISIBLE_RANGES:
        for code in range(start, end + 1):
            display[code] = f"<U+{code:04X}>"

    multiline = dict(display)
    del multiline[0x0A]

    # For pretty JSON: the same characters as JSON escapes, so the text stays valid JSON with
    # the same value (they can only occur inside JSON strings). Newlines are layout.
    json_escapes: dict[int, str] = {}
    for code in display:
        if code == 0x0A:
            continue
        if code > 0xFFFF:
            high, low = divmod(code - 0x10000, 0x400)
            json_escapes[code] = f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
        else:
            json_escapes[code] = f"\\u{code:04x}"
    return display, multiline, json_escapes


_DISPLAY, _MULTILINE, _JSON_ESCAPES = _build_tables()


def _to_str(value: object, placeholder: str) -> str:
    """Turn any cell value into text; `None` (SQL NULL, missing field) becomes the placeholder."""
    if value is None:
        return placeholder
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(value)


def safe_text(value: object, placeholder: str = "") -> str:
    """One-line display text: every control/invisible character replaced by a visible stand-in.

    Tab -> "⇥", newline -> "⏎", other C0 -> Control Pictures (ESC -> "␛"), DEL -> "␡",
    C1 -> `\\x9b` as typed, bidi/format/invisible characters -> `<U+202E>`.
    """
    text = _to_str(value, placeholder)
    if text.isascii() and text.isprintable():  # C-speed fast path for the common case
        return text
    return text.translate(_DISPLAY)


def safe_multiline(value: object, placeholder: str = "") -> str:
    """Like `safe_text` but keeps newlines, for multi-line views (error messages, SQL output)."""
    text = _to_str(value, placeholder)
    if text.isascii() and text.isprintable():
        return text
    return text.translate(_MULTILINE)


def safe_json_text(text: str) -> str:
    """Make already-serialised JSON safe to show while keeping it valid JSON of the same value.

    `json.dumps(..., ensure_ascii=False)` escapes C0 but leaves DEL, C1 and bidi overrides raw;
    here they become `\\u009b`-style escapes. Newlines (indentation) are kept.
    """
    return text.translate(_JSON_ESCAPES)


def cell_fit(text: str, width: int) -> str:
    """Cut `text` to at most `width` terminal cells, ending in "…" when anything was cut.

    Measured in cells (CJK and emoji take two), never `len()`. When a wide character would be
    split the result is one cell short; callers pad. Never cuts silently.
    """
    if width <= 0:
        return ""
    if text.isascii():
        if len(text) <= width:
            return text
        return text[: width - 1] + ELLIPSIS
    if cell_len(text) <= width:
        return text
    head, _tail = split_text(text, width - 1)
    if not text.startswith(head):
        # Rich pads a wide character split in half with a space; drop it, "…" marks the cut.
        head = head[:-1]
    return head + ELLIPSIS


def safe_cell(value: object, width: int, placeholder: str = "") -> str:
    """`safe_text` then `cell_fit`, reading only a bounded prefix of long values.

    A cell can hold a multi-kilobyte user agent or JSON blob; only what can be seen is
    sanitised and measured, so rendering cost does not grow with the value's length.
    """
    text = _to_str(value, placeholder)
    if width <= 0:
        return ""
    limit = 2 * width + 16
    if len(text) > limit:
        head = safe_text(text[:limit])
        if cell_len(head) > width:
            # The cut point lies inside the prefix: identical to fitting the whole value.
            return cell_fit(head, width)
    return cell_fit(safe_text(text), width)


def safe_content(value: object, placeholder: str = "", *, multiline: bool = False) -> Content:
    """A Textual `Content` for data: sanitised, and never parsed as markup or emoji codes.

    `[bold]x[/]`, `[link=...]`, `:smile:` all show exactly as typed.
    """
    from textual.content import Content

    text = safe_multiline(value, placeholder) if multiline else safe_text(value, placeholder)
    return Content(text)
