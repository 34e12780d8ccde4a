"""Choose files and folders to load, for a start without paths or `o` to add more.

CloudTrail arrives as trees of many small `.json.gz` files (`AWSLogs/<acct>/CloudTrail/<region>/
YYYY/MM/DD/`), so one file at a time is not enough: `space` marks files and folders, `l` loads
a whole folder recursively, and the path box takes a typed or pasted path or glob. Built on
Textual's `DirectoryTree` (lazy, listed in a thread); its labels are sanitised `Text`, so a file
named `b[bold]c.json` or one holding ESC shows literally. Folders are returned as folders:
`data.ingest.expand_paths` walks them.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Final

from rich.style import Style
from rich.text import Text, TextType
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Input, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from trailtui.clipboard import human_size
from trailtui.data.ingest import EVENT_SUFFIXES
from trailtui.sanitize import safe_text

MARK: Final = "● "
NO_MARK: Final = "  "
GLOB_CHARS: Final = "*?["


def is_event_file(name: str) -> bool:
    """A name trailtui can load (same suffixes as the loader's folder walk)."""
    return name.lower().endswith(EVENT_SUFFIXES)


class CloudTrailTree(DirectoryTree):
    """Folders and loadable files only (no dotfiles), with marks and file sizes."""

    ICON_NODE_EXPANDED = "▼ "
    ICON_NODE = "▶ "
    ICON_FILE = "  "

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="trailtui.picker.mark"),
        Binding("l", "load_folder", "Load folder", id="trailtui.picker.load_folder"),
        Binding("backspace", "parent", "Parent folder", id="trailtui.picker.parent"),
    ]

    DEFAULT_CSS = """
    CloudTrailTree {
        height: 1fr;
        background: $surface;
        & > .directory-tree--extension { text-style: none; }
    }
    """

    class Changed(Message):
        """The marks or the folder shown changed (the screen's status line follows)."""

        def __init__(self, tree: CloudTrailTree) -> None:
            super().__init__()
            self.tree = tree

        @property
        def control(self) -> CloudTrailTree:
            return self.tree

    class LoadFolder(Message):
        """The user asked to load `path` recursively (plus the marked paths)."""

        def __init__(self, tree: CloudTrailTree, path: Path) -> None:
            super().__init__()
            self.tree = tree
            self.path = path

        @property
        def control(self) -> CloudTrailTree:
            return self.tree

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self.marked: dict[Path, None] = {}
        """Marked paths in the order they were marked (a dict as an ordered set)."""
        self._sizes: dict[Path, int] = {}
        super().__init__(path, name=name, id=id, classes=classes)

    def process_label(self, label: TextType) -> Text:
        """Names are data: control characters made visible, never parsed as markup."""
        plain = label.plain if isinstance(label, Text) else label
        return Text(safe_text(plain), no_wrap=True, end="")

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Keep folders and loadable files; note file sizes (this runs in the listing thread)."""
        kept: list[Path] = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                kept.append(path)
            elif is_event_file(path.name):
                self._sizes[path] = info.st_size
                kept.append(path)
        return kept

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is None or node is self.root:
            return label
        path = node.data.path
        marked = path in self.marked
        mark_style = self.get_component_rich_style("tree--highlight", partial=True)
        prefix = Text(MARK if marked else NO_MARK, style=mark_style if marked else "")
        label = Text.assemble(prefix, label)
        size = self._sizes.get(path)
        if size is not None:
            label.append(f"  {human_size(size)}", style="dim")
        return label

    @property
    def cursor_path(self) -> Path | None:
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data.path

    def action_toggle_mark(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None or node is self.root:
            return
        path = node.data.path
        if path in self.marked:
            del self.marked[path]
        else:
            self.marked[path] = None
        node.refresh()
        self.post_message(self.Changed(self))
        self.action_cursor_down()

    def clear_marks(self) -> None:
        self.marked.clear()
        self._clear_line_cache()
        self.refresh()
        self.post_message(self.Changed(self))

    def action_load_folder(self) -> None:
        path = self.cursor_path
        if path is None:
            return
        folder = path if self._safe_is_dir(path) else path.parent
        self.post_message(self.LoadFolder(self, folder))

    def action_parent(self) -> None:
        current = Path(self.path)
        parent = current.parent
        if parent != current:
            self.path = parent
            self.post_message(self.Changed(self))


def combine(chosen: Iterable[Path], marked: Iterable[Path]) -> list[Path]:
    """Marked paths then the chosen ones, each once, leaving out files inside chosen folders.

    The loader de-duplicates too; this keeps the list the user sees in messages honest.
    """
    ordered: dict[Path, None] = {}
    for path in [*marked, *chosen]:
        ordered[Path(os.path.abspath(path))] = None
    folders = [p for p in ordered if p.is_dir()]
    result: list[Path] = []
    for path in ordered:
        if any(folder != path and folder in path.parents for folder in folders):
            continue
        result.append(path)
    return result


def expand_typed(text: str, base: Path) -> tuple[list[Path], str | None]:
    """Resolve what was typed in the path box: a path as-is first (names may hold `[`), then a
    glob (`**` recursive). Relative paths are relative to `base`. Returns (paths, problem).
    """
    text = text.strip()
    if not text:
        return [], "type or paste a path, a folder or a glob"
    expanded = os.path.expanduser(text)
    path = Path(expanded)
    if not path.is_absolute():
        path = base / path
    if path.exists():
        return [Path(os.path.abspath(path))], None
    if any(ch in text for ch in GLOB_CHARS):
        # The start folder is a place, not a pattern: its own `[` must not act as a glob.
        pattern = (
            expanded if os.path.isabs(expanded) else os.path.join(glob.escape(str(base)), expanded)
        )
        hits: list[Path] = []
        skipped = 0
        for match in sorted(glob.glob(pattern, recursive=True)):
            candidate = Path(match)
            if candidate.is_dir() or is_event_file(candidate.name):
                hits.append(Path(os.path.abspath(candidate)))
            else:
                skipped += 1
        if hits:
            return hits, None
        if skipped:
            return [], (
                f"{safe_text(text)}: {skipped} match(es), none .json, .json.gz, .ndjson, "
                ".jsonl, .csv or .gz"
            )
        return [], f"{safe_text(text)}: nothing matches this pattern"
    return [], f"{safe_text(text)}: no such file or folder"


class PickerScreen(ModalScreen[list[Path] | None]):
    """Pick files/folders; dismisses with absolute paths (folders not expanded) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="trailtui.picker.cancel"),
        Binding("ctrl+o", "load_marked", "Load marked", id="trailtui.picker.load_marked"),
        Binding("f", "fetch", "Fetch from AWS", id="trailtui.picker.fetch"),
    ]

    DEFAULT_CSS = """
    PickerScreen {
        align: center middle;
        & > #picker {
            width: 90%;
            max-width: 120;
            height: 90%;
            border: round $primary;
            border-title-color: $text-primary;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        & #picker-message { height: auto; padding: 0 1; color: $text-muted; }
        & #picker-message.-error { color: $text-error; }
        & #picker-marked { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    }
    """

    def __init__(
        self,
        start: str | Path | None = None,
        title: str = "Open CloudTrail files",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`start`: the folder shown first (default: the current directory)."""
        super().__init__(name=name, id=id, classes=classes)
        base = Path(start).expanduser() if start is not None else Path.cwd()
        if not base.is_dir():  # a stale or mistyped start must not leave an empty tree
            base = base.parent if base.parent.is_dir() else Path.cwd()
        self.start = Path(os.path.abspath(base))
        self.title_text = title
        self._dismissed = False  # dismissed already: later keys do nothing

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as box:
            box.border_title = Content(safe_text(self.title_text))
            box.border_subtitle = "enter: open a file (+ marked), expand a folder"
            yield Input(
                placeholder="path, folder or glob (~/AWSLogs/**/*.json.gz) · enter loads it",
                id="picker-path",
            )
            yield Static(
                Content(".json .json.gz .ndjson .jsonl .csv .gz files and folders shown"),
                id="picker-message",
            )
            yield CloudTrailTree(self.start, id="picker-tree")
            yield Static(Content(""), id="picker-marked")
        yield Footer()

    def on_mount(self) -> None:
        self.file_tree.focus()
        self._update_status()

    def on_key(self, event: events.Key) -> None:
        """Typing a path from the folder tree (`/`, `~`) goes to the path box, as in a
        shell: the tree's own letters (`l` loads a folder) would act instead."""
        path_box = self.query_one("#picker-path", Input)
        if event.character in ("/", "~") and self.focused is self.file_tree:
            event.stop()
            event.prevent_default()
            path_box.focus()
            path_box.value = event.character
            path_box.cursor_position = len(path_box.value)

    @property
    def file_tree(self) -> CloudTrailTree:
        return self.query_one(CloudTrailTree)

    def _message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#picker-message", Static)
        widget.set_class(error, "-error")
        widget.update(Content(safe_text(text)))

    def _close(self, result: list[Path] | None) -> None:
        """Dismiss once: a second key (`l` pressed twice, enter then escape) before the
        screen is gone must not dismiss it again (Textual raises ScreenStackError)."""
        if self._dismissed:
            return
        self._dismissed = True
        self.dismiss(result)

    def _finish(self, chosen: Iterable[Path]) -> None:
        paths = combine(chosen, self.file_tree.marked)
        if paths:
            self._close(paths)

    @on(CloudTrailTree.Changed)
    def _update_status(self) -> None:
        tree = self.file_tree
        count = len(tree.marked)
        marks = f"{count} marked (enter on a file or ctrl+o loads them)" if count else "none marked"
        folder = safe_text(os.fspath(Path(tree.path)))
        self.query_one("#picker-marked", Static).update(
            Content.assemble((folder, "bold"), ("  ·  ", "dim"), marks)
        )

    @on(DirectoryTree.FileSelected)
    def _on_file_selected(self, message: DirectoryTree.FileSelected) -> None:
        message.stop()
        self._finish([message.path])

    @on(CloudTrailTree.LoadFolder)
    def _on_load_folder(self, message: CloudTrailTree.LoadFolder) -> None:
        message.stop()
        self._finish([message.path])

    @on(Input.Submitted, "#picker-path")
    def _on_path_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self._message("looking…")
        self._expand(message.value)

    @work(thread=True, exclusive=True, group="picker-path", exit_on_error=False)
    def _expand(self, text: str) -> None:
        """A `**` glob can walk a big tree: off the UI thread."""
        try:
            paths, problem = expand_typed(text, self.start)
        except OSError as error:
            paths, problem = [], f"{safe_text(text)}: {error}"
        self.app.call_from_thread(self._expanded, paths, problem)

    def _expanded(self, paths: list[Path], problem: str | None) -> None:
        if problem is not None:
            self._message(problem, error=True)
            return
        self._finish(paths)

    def action_load_marked(self) -> None:
        if not self.file_tree.marked:
            self._message("nothing marked: space marks a file or folder", error=True)
            return
        self._finish([])

    def action_cancel(self) -> None:
        self._close(None)

    def action_fetch(self) -> None:
        """`trailtui fetch` from inside the app (screens/fetch.py); the file it writes loads."""
        from trailtui.screens.fetch import FetchScreen

        def fetched(path: Path | None) -> None:
            if path is not None:
                self._finish([path])

        self.app.push_screen(FetchScreen(Path(self.file_tree.path)), fetched)
