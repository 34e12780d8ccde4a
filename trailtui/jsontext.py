"""JSON for display and copying, faithful to the file: no Textual here.

The JSON is re-printed from a parse that keeps the original key order, duplicate keys and number
spellings, so what is shown is what the file says. Every string goes through
`sanitize.safe_json_text`: control characters, ESC, C1 and bidi overrides appear as
`\\u001b`-style JSON escapes. `widgets.json_view.JsonView` draws these lines; the detail and value
screens use both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from trailtui.sanitize import safe_json_text, safe_multiline, safe_text

INDENT: Final = 2

Kind = Literal["key", "string", "number", "literal", "punct", "plain", "more"]
JsonPath = tuple[str | int, ...]


class JsonNumber(str):
    """A JSON number kept as the text the file had: no float rounding, no `1e5` -> `100000.0`."""

    __slots__ = ()


class JsonObject(list[tuple[str, object]]):
    """A JSON object as its (key, value) pairs: original order, duplicate keys kept."""

    __slots__ = ()

    def get(self, key: str) -> object:
        """The last value for `key` (what `json.loads` would have kept), or None."""
        for name, value in reversed(self):
            if name == key:
                return value
        return None


def parse_json(text: str) -> object:
    """Parse JSON faithfully for display (see `JsonNumber`, `JsonObject`).

    `strict=False` accepts raw control characters inside strings (a tampered file); they are
    escaped again when shown. Raises ValueError (or RecursionError) when it is not JSON.
    """
    return json.loads(
        text,
        object_pairs_hook=JsonObject,
        parse_int=JsonNumber,
        parse_float=JsonNumber,
        parse_constant=JsonNumber,
        strict=False,
    )


def json_string(value: str) -> str:
    """A JSON string literal that is safe to show and to copy: valid JSON, controls escaped."""
    return safe_json_text(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One printed line: its tokens (already safe text) and the JSON value it belongs to."""

    indent: int
    tokens: tuple[tuple[str, Kind], ...]
    path: JsonPath
    value: object
    plain: str
    """The whole line as text (indent included): what search looks at."""


def make_line(
    indent: int, tokens: tuple[tuple[str, Kind], ...], path: JsonPath, value: object
) -> JsonLine:
    plain = " " * indent + "".join(text for text, _ in tokens)
    return JsonLine(indent, tokens, path, value, plain)


_COMMA: Final[tuple[tuple[str, Kind], ...]] = ((",", "punct"),)

# A string value longer than this shows its start and "… N characters · + shows more": a 1 MB
# value (an attacker's requestParameters) must open at once, not lay out a million cells.
# `+` on the line shows SHOW_MORE_FACTOR times more; copies always take the whole value.
VALUE_CAP: Final = 10_000
SHOW_MORE_FACTOR: Final = 8


def _string_tokens(value: str, cap: int | None) -> tuple[tuple[str, Kind], ...]:
    """A string value's tokens: whole, or its first `cap` characters and a "more" marker."""
    if cap is None:
        return ((json_string(value), "string"),)
    # The cap counts shown characters: 1 MB of ESC shows as `\u001b` x 6 per character.
    head = json_string(value[: cap + 1])
    if len(value) <= cap and len(head) <= cap + 2:
        return ((head, "string"),)
    return ((head[:cap], "string"),  # no closing quote: the value goes on
            (f" … {len(value):,} characters in all · + shows more", "more"))


def show_more(line: JsonLine) -> JsonLine | None:
    """The same line with SHOW_MORE_FACTOR times more of its long string; None if whole."""
    if not isinstance(line.value, str) or not any(k == "more" for _t, k in line.tokens):
        return None
    shown = next(t for t, k in line.tokens if k == "string")
    cap = max(VALUE_CAP, len(shown)) * SHOW_MORE_FACTOR
    tokens: list[tuple[str, Kind]] = []
    for text, kind in line.tokens:
        if kind == "string":
            tokens.extend(_string_tokens(line.value, cap))
        elif kind != "more":
            tokens.append((text, kind))
    return make_line(line.indent, tuple(tokens), line.path, line.value)


def json_lines(value: object, cap: int | None = VALUE_CAP) -> list[JsonLine]:
    """Pretty-print a parsed value (2-space indent, keys in file order) as coloured lines.

    Also takes plain dicts, lists and tuples (DuckDB STRUCT/LIST values). Iterative, so a
    deeply nested hostile document cannot overflow the Python stack here. Strings longer
    than `cap` show their start (see VALUE_CAP); `cap=None` prints everything (copies).
    """
    lines: list[JsonLine] = []
    # Work items: (value, path, level, prefix tokens, trailing comma) or a closing line.
    stack: list[tuple[str, object, JsonPath, int, tuple[tuple[str, Kind], ...], bool]] = [
        ("value", value, (), 0, (), False)
    ]
    while stack:
        item, node, path, level, prefix, comma = stack.pop()
        pad = level * INDENT
        tail = _COMMA if comma else ()
        if item == "close":
            lines.append(make_line(pad, (*prefix, *tail), path, node))
            continue
        if isinstance(node, Mapping) and not isinstance(node, JsonObject):
            node = JsonObject((str(key), child) for key, child in node.items())
        elif isinstance(node, tuple):
            node = list(node)
        if isinstance(node, JsonObject | list):
            is_object = isinstance(node, JsonObject)
            opening, closing = ("{", "}") if is_object else ("[", "]")
            if not node:
                empty = (*prefix, (opening + closing, "punct"), *tail)
                lines.append(make_line(pad, empty, path, node))
                continue
            lines.append(make_line(pad, (*prefix, (opening, "punct")), path, node))
            stack.append(("close", node, path, level, ((closing, "punct"),), comma))
            last = len(node) - 1
            children: list[tuple[str, object, JsonPath, int, tuple[tuple[str, Kind], ...], bool]]
            if isinstance(node, JsonObject):
                children = [
                    (
                        "value",
                        child,
                        (*path, key),
                        level + 1,
                        ((json_string(key), "key"), (": ", "punct")),
                        index < last,
                    )
                    for index, (key, child) in enumerate(node)
                ]
            else:
                children = [
                    ("value", child, (*path, index), level + 1, (), index < last)
                    for index, child in enumerate(node)
                ]
            stack.extend(reversed(children))
            continue
        scalar = (_string_tokens(node, cap) if isinstance(node, str)
                  and not isinstance(node, JsonNumber) else (_scalar_token(node),))
        lines.append(make_line(pad, (*prefix, *scalar, *tail), path, node))
    return lines


def _scalar_token(value: object) -> tuple[str, Kind]:
    if isinstance(value, JsonNumber):
        return (safe_text(str(value)), "number")
    if value is True:
        return ("true", "literal")
    if value is False:
        return ("false", "literal")
    if value is None:
        return ("null", "literal")
    if isinstance(value, int | float):
        return (json.dumps(value), "number")
    return (json_string(str(value)), "string")


def text_lines(text: str) -> list[JsonLine]:
    """Fallback for a record that is not JSON: its text, sanitised, one line per line."""
    out = []
    for part in text.split("\n"):
        if len(part) > VALUE_CAP:  # a 1 MB line of garbage: its start only
            out.append(make_line(0, ((safe_text(part[:VALUE_CAP]), "plain"),
                                     (f" … {len(part):,} characters in all", "more")), (), None))
        else:
            out.append(make_line(0, ((safe_multiline(part), "plain"),), (), None))
    return out


def lines_for(text: str) -> list[JsonLine]:
    """Coloured JSON lines when `text` parses, plain sanitised lines otherwise."""
    try:
        value = parse_json(text)
    except (ValueError, RecursionError):
        return text_lines(text)
    return json_lines(value)


def dumps(value: object) -> str:
    """Indented JSON text of a parsed value, with the same safety as the view (for copying)."""
    return "\n".join(line.plain for line in json_lines(value, cap=None))


def format_path(path: JsonPath) -> str:
    """`$.userIdentity.sessionContext["odd key"][0]`: how a jq/JSONPath user writes it."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append("." + step)
        else:
            parts.append(f"[{json_string(step)}]")
    return safe_text("".join(parts))


def is_copy_safe(text: str) -> bool:
    """True when `text` holds no control, bidi or invisible character (newlines are fine)."""
    return safe_multiline(text) == text


def clipboard_text(value: object) -> tuple[str, bool]:
    """The text to copy for a value, and whether it had to be JSON-encoded to be safe.

    A plain string is copied as itself (an ARN, an IP). A string carrying control characters
    is copied as a JSON string literal instead: pasting raw ESC into a shell is how terminal
    attacks land. Objects and arrays become indented JSON; numbers keep their spelling.
    """
    if isinstance(value, JsonObject | list | tuple | Mapping):
        return dumps(value), False
    if isinstance(value, JsonNumber):
        return str(value), False
    if value is None:
        return "null", False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    text = value if isinstance(value, str) else str(value)
    if is_copy_safe(text):
        return text, False
    return json_string(text), True
