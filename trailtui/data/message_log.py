"""Every message of the session, kept so it can be read again after its toast is gone.

Load reports can hold hundreds of notes (one per damaged file); toasts show the first few and
vanish, so the whole list lives here, Textual-free, and the messages screen lists it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

MAX_ENTRIES = 10_000  # a folder of 10k bad files is still listed whole; beyond, the oldest go


@dataclass(frozen=True)
class Entry:
    at: float  # time.time()
    level: str  # "error" | "warning" | "information"
    title: str
    text: str


class _Report(Protocol):
    errors: list[str]
    warnings: list[str]
    duplicates: int


class MessageLog:
    """Append-only, thread-safe (loads report from a worker thread)."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._lock = threading.Lock()
        self.dropped = 0

    def add(self, text: str, level: str = "information", title: str = "") -> None:
        with self._lock:
            self._entries.append(Entry(time.time(), level, title, text))
            if len(self._entries) > MAX_ENTRIES:
                del self._entries[0]
                self.dropped += 1

    def add_report(self, report: _Report) -> None:
        """Every error and note of one load, none cut, and the duplicates merged."""
        for line in report.errors:
            self.add(line, "error", "Not loaded")
        for line in report.warnings:
            self.add(line, "warning", "Note")
        if report.duplicates:
            n = report.duplicates
            self.add(f"{n:,} duplicate record{'s' if n != 1 else ''} merged (equal content: "
                     "the same event in overlapping files)", "information", "Loaded")

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
