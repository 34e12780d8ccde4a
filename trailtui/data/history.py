"""The SQL console's query history, kept across runs in the user's data folder.

One JSON object per line (`{"sql": ..., "params": {...}, "at": <epoch seconds>}`), newest last,
so a run appends one line instead of rewriting the file. The file is compacted to the newest
`limit` entries when it grows past half again that size. A damaged file (a half-written line from
a crash, another program's bytes, a folder we cannot write) never stops the app: bad lines are
skipped and a read-only location keeps the history in memory, with `warning` saying why.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

DEFAULT_LIMIT: Final = 1000
FILE_NAME: Final = "history.jsonl"
MAX_SQL_CHARS: Final = 200_000
"""Longer texts are not kept (a pasted data dump is not a query worth recalling)."""


def default_data_dir() -> Path:
    """$TRAILTUI_DATA_DIR, else $XDG_DATA_HOME/trailtui, else ~/.local/share/trailtui."""
    env = os.environ.get("TRAILTUI_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "trailtui"


def default_history_path() -> Path:
    return default_data_dir() / FILE_NAME


def _json_safe(params: Mapping[str, object] | None) -> dict[str, object]:
    """Bound values as JSON data (they are str/None/numbers already; anything else as text)."""
    out: dict[str, object] = {}
    for key, value in (params or {}).items():
        if value is None or isinstance(value, str | int | float | bool):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


@dataclass(frozen=True)
class HistoryEntry:
    """One query the user ran, with the parameter values it was bound with."""

    sql: str
    params: dict[str, object] = field(default_factory=dict)
    at: float = 0.0

    def same_query(self, other: HistoryEntry) -> bool:
        return self.sql.strip() == other.sql.strip() and self.params == other.params

    @property
    def title(self) -> str:
        """One line for lists: the first non-empty line, with a `-- ` title comment unwrapped."""
        for line in self.sql.splitlines():
            text = line.strip()
            if not text:
                continue
            if text.startswith("--"):
                text = text[2:].strip()
                if not text:
                    continue
            return text
        return ""

    def to_json(self) -> str:
        return json.dumps(
            {"sql": self.sql, "params": self.params, "at": self.at}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, data: Any) -> HistoryEntry | None:
        """An entry from one parsed line, or None when the line is not one of ours."""
        if not isinstance(data, dict):
            return None
        sql = data.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            return None
        params = data.get("params")
        at = data.get("at")
        return cls(
            sql=sql,
            params=_json_safe(params) if isinstance(params, dict) else {},
            at=float(at) if isinstance(at, int | float) else 0.0,
        )


class History:
    """Past queries, oldest first. `add` persists at once; nothing here raises on I/O errors."""

    def __init__(self, path: Path | None = None, limit: int = DEFAULT_LIMIT) -> None:
        self.path = path if path is not None else default_history_path()
        self.limit = max(1, limit)
        self.warning: str | None = None
        """Why the history is not being saved or was partly unreadable (for a notification)."""
        self._entries: list[HistoryEntry] = []
        self._lines_on_disk = 0
        self._needs_rewrite = False
        self._load()

    # -- reading -------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"query history unreadable ({exc.strerror or exc}); starting empty"
            return
        entries: list[HistoryEntry] = []
        bad = 0
        lines = data.splitlines()
        for raw in lines:
            if not raw.strip():
                continue
            try:
                entry = HistoryEntry.from_json(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError, RecursionError):
                entry = None
            if entry is None:
                bad += 1
                continue
            if entries and entries[-1].same_query(entry):
                continue
            entries.append(entry)
        self._lines_on_disk = len(lines)
        if bad:
            self.warning = f"query history: skipped {bad} damaged line{'s' if bad > 1 else ''}"
            self._needs_rewrite = True
        if len(entries) > self.limit:
            entries = entries[-self.limit :]
            self._needs_rewrite = True
        self._entries = entries

    @property
    def entries(self) -> tuple[HistoryEntry, ...]:
        """Oldest first, newest last."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(tuple(self._entries))

    @property
    def last(self) -> HistoryEntry | None:
        return self._entries[-1] if self._entries else None

    # -- writing -------------------------------------------------------------------------------

    def add(self, sql: str, params: Mapping[str, object] | None = None) -> bool:
        """Remember a query; False when it repeats the newest entry (or is empty or huge)."""
        if not sql.strip() or len(sql) > MAX_SQL_CHARS:
            return False
        entry = HistoryEntry(sql=sql, params=_json_safe(params), at=time.time())
        if self._entries and self._entries[-1].same_query(entry):
            return False
        self._entries.append(entry)
        if len(self._entries) > self.limit:
            del self._entries[: len(self._entries) - self.limit]
        self._save(entry)
        return True

    def clear(self) -> None:
        self._entries.clear()
        self._needs_rewrite = True
        self._save(None)

    def _save(self, entry: HistoryEntry | None) -> None:
        """Append one line, or rewrite the file when it is damaged or too long."""
        try:
            _private_parent(self.path.parent)
            if (
                self._needs_rewrite
                or entry is None
                or self._lines_on_disk + 1 > self.limit + self.limit // 2
            ):
                self._rewrite()
            else:
                # 0600 whatever the umask: queries name the people under investigation.
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(entry.to_json() + "\n")
                self._lines_on_disk += 1
        except OSError as exc:
            self.warning = f"query history not saved ({exc.strerror or exc}): {self.path}"

    def _rewrite(self) -> None:
        """Write the kept entries to a temporary file and move it into place (atomic)."""
        fd, tmp = tempfile.mkstemp(prefix=".history-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for item in self._entries:
                    fh.write(item.to_json() + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._lines_on_disk = len(self._entries)
        self._needs_rewrite = False


def _private_parent(folder: Path) -> None:
    """Create the data folder 0700 (mkdir's mode is cut by the umask, chmod's is not)."""
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)


__all__ = [
    "DEFAULT_LIMIT",
    "History",
    "HistoryEntry",
    "default_data_dir",
    "default_history_path",
]
