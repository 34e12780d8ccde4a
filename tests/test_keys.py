"""One source for the keys: the help screen and README's table come from the bindings, and the
data layer is the only door to DuckDB."""

from __future__ import annotations

import ast
from pathlib import Path

from trailtui.keys import key_rows, keys_markdown
from trailtui.screens.browser import BrowserScreen
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.virtual_table import VirtualTable

REPO = Path(__file__).resolve().parents[1]


def readme_keys_table() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Keys\n"):]
    start = section.index("| Where | Key | Does |")
    end = section.index("\n\n", start)
    return section[start:end]


def test_readme_key_table_is_the_generated_one() -> None:
    """Fails when a binding changes and README was not regenerated
    (`python -m trailtui.keys` prints the table to paste)."""
    assert readme_keys_table() == keys_markdown()


def test_keys_that_went_missing_before_are_listed() -> None:
    rows = {(row.group, row.keys) for row in key_rows()}
    assert ("SQL console", "ctrl+space") in rows
    assert ("Table", "down or j") in rows and ("Table", "up or k") in rows
    assert ("Table", "left") in rows and ("Table", "right") in rows  # column cursor
    assert ("Filters", "backspace or delete or x") in rows  # chip keys
    assert ("Filters", "left") in rows


def test_every_described_binding_has_a_row() -> None:
    shown = {(row.keys, row.description) for row in key_rows()}
    for cls in (VirtualTable, SqlConsole, BrowserScreen):
        for binding in cls.BINDINGS:
            assert not isinstance(binding, tuple)
            text = binding.tooltip or binding.description
            if text:
                assert any(description == text for _keys, description in shown), binding


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_duckdb_outside_the_data_layer() -> None:
    """Screens, widgets, workers, the app and the CLI reach DuckDB only through
    `trailtui.data` (the `DataService`)."""
    package = REPO / "trailtui"
    offenders = [
        str(path.relative_to(REPO))
        for path in package.rglob("*.py")
        if "data" not in path.relative_to(package).parts[:1] and "duckdb" in _imports(path)
    ]
    assert offenders == []


def test_the_data_layer_never_imports_the_ui() -> None:
    data = REPO / "trailtui" / "data"
    for path in data.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree_imports = {
            (node.module or "") for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.ImportFrom)
        }
        assert not any(m.startswith(("trailtui.screens", "trailtui.widgets", "trailtui.workers",
                                     "trailtui.app", "textual")) for m in tree_imports), path
