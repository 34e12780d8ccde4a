"""The output file: the console's `{"Records":[...]}` shape, valid at every moment.

Each checkpoint writes a temporary file beside the output (the previous body copied in the
kernel, the new records appended, the closing `]}`), fsyncs it and renames it over the output,
then does the same for the sidecar state. A reader never sees a half-written file; a kill
between the two renames leaves the state behind the data, so a resume fetches a few pages
twice and the keys read back from the file drop them. Records are the `CloudTrailEvent` text
exactly as LookupEvents returned it (the console download holds the same text).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
from pathlib import Path
from typing import Any

import msgspec

HEAD = b'{"Records":['
TAIL = b"\n]}\n"
STATE_SUFFIX = ".fetch-state.json"


class OutputError(Exception):
    """The output or its state cannot be used; the message says why and what to do."""


class _Key(msgspec.Struct):
    eventID: str = ""
    eventName: str = ""
    eventTime: str = ""


class _File(msgspec.Struct):
    Records: list[msgspec.Raw]


_decode_key = msgspec.json.Decoder(_Key).decode
_decode_file = msgspec.json.Decoder(_File).decode


def event_key(raw: bytes) -> tuple[bytes, str] | None:
    """(dedup key, eventTime) of one record, None when it is not a JSON object.

    eventID+eventName+eventTime when there is an eventID, else a hash of the whole record.
    """
    try:
        key = _decode_key(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if key.eventID:
        ident = f"{key.eventID}\0{key.eventName}\0{key.eventTime}".encode()
    else:
        ident = b"\1" + raw
    return hashlib.blake2b(ident, digest_size=16).digest(), key.eventTime


def record_bytes(text: str) -> bytes:
    """A CloudTrailEvent string as file bytes: its own text, unless it holds a lone surrogate
    (not encodable as UTF-8): then re-serialised with escapes so the file stays valid."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(json.loads(text)).encode("ascii")


class OutputFile:
    """Owned by one thread (the fetch's main loop): scan, add, checkpoint."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.state_path = self.path.with_name(self.path.name + STATE_SUFFIX)
        self.keys: set[bytes] = set()
        self.count = 0
        """Records in the file (as of the last checkpoint) plus those waiting for the next."""
        self.newest = ""
        """The newest eventTime in the file or buffer (CloudTrail's ISO text sorts by time)."""
        self._body_end = 0  # offset just after the last record (or after `[` when empty)
        self._empty = True
        self._buffer: list[bytes] = []
        self._lock_fd: int | None = None
        self._lock_path = self.path

    # -- opening -------------------------------------------------------------------------
    def open(self) -> dict[str, Any] | None:
        """Read the existing output's keys (if any) and return its saved state (if usable)."""
        self._lock()
        if self.path.exists():
            self._scan()
        state = self._read_state()
        if state is not None and int(state.get("records", 0)) > self.count:
            # The output was replaced or cut by hand: its progress does not describe this file.
            state = None
        return state

    def _lock(self) -> None:
        """One fetch per output: a second one (another terminal, the app) is refused."""
        lock_path = self.path.with_name(f".{self.path.name}.fetch-lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputError(f"cannot write next to {self.path}: {exc.strerror or exc}"
                              ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"another trailtui fetch is writing {self.path}") from None
        self._lock_fd = fd
        self._lock_path = lock_path

    def close(self) -> None:
        """Let go of the output (the lock file goes too)."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _scan(self) -> None:
        """Keys and newest time of every record; mapped, not read, so a 2 GB file does not
        cost 2 GB of memory."""
        try:
            with open(self.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size == 0:
                    raise OutputError(f"{self.path} is empty: delete it or choose another --out")
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    self._scan_mapped(mm)
        except OSError as exc:
            raise OutputError(f"cannot read {self.path}: {exc.strerror or exc}") from None

    def _scan_mapped(self, mm: mmap.mmap) -> None:
        try:
            records = _decode_file(mm).Records
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise OutputError(
                f"{self.path} exists and is not a CloudTrail {{\"Records\":[...]}} "
                "file: choose another --out") from None
        raw = None
        for raw in records:
            got = event_key(bytes(raw))
            if got is None:
                continue
            key, time = got
            self.keys.add(key)
            self.newest = max(self.newest, time)
        self.count = len(records)
        del records, raw  # they point into the map, which closes after this returns
        self._body_end, self._empty = self._find_body_end(mm)

    @staticmethod
    def _find_body_end(mm: mmap.mmap) -> tuple[int, bool]:
        """Where new records go: just after the last one (the file must end with `]` `}`)."""
        i = len(mm) - 1
        for expected in (b"}", b"]"):
            while i >= 0 and mm[i:i + 1].isspace():
                i -= 1
            if i < 0 or mm[i:i + 1] != expected:
                raise OutputError("the file does not end with its Records array: cannot append")
            i -= 1
        while i >= 0 and mm[i:i + 1].isspace():
            i -= 1
        return i + 1, mm[i:i + 1] == b"["

    def _read_state(self) -> dict[str, Any] | None:
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputError(f"cannot read {self.state_path}: {exc.strerror or exc}") from None
        try:
            state = json.loads(text)
        except ValueError:
            return None  # a damaged state only costs re-fetching; the file's keys stop duplicates
        if not isinstance(state, dict) or state.get("version") != 1:
            return None
        if not self.path.exists():
            return None  # the output was deleted: start again
        return state

    # -- adding --------------------------------------------------------------------------
    def add(self, text: str) -> bool | None:
        """Queue one CloudTrailEvent for the next checkpoint. True new, False duplicate,
        None not a JSON object (skipped)."""
        raw = record_bytes(text)
        got = event_key(raw)
        if got is None:
            return None
        key, time = got
        if key in self.keys:
            return False
        self.keys.add(key)
        self._buffer.append(raw)
        self.count += 1
        self.newest = max(self.newest, time)
        return True

    @property
    def pending(self) -> int:
        return len(self._buffer)

    # -- checkpoint ----------------------------------------------------------------------
    def checkpoint(self, state: dict[str, Any]) -> None:
        """Write the buffered records and `state` atomically (data first, then state)."""
        state = {**state, "version": 1, "records": self.count}
        if self._buffer or not self.path.exists():
            self._write_data()
        _atomic_write(self.state_path, (json.dumps(state) + "\n").encode())

    def _write_data(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.fetch-tmp")
        exists = self.path.exists()
        mode = self.path.stat().st_mode & 0o777 if exists else 0o600  # events are sensitive
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            with os.fdopen(fd, "wb") as out:
                if exists:
                    with open(self.path, "rb") as src:
                        _copy_prefix(src, out, self._body_end)
                else:
                    out.write(HEAD)
                    self._body_end, self._empty = len(HEAD), True
                body = bytearray()
                empty = self._empty
                for raw in self._buffer:
                    body += (b"\n" if empty else b",\n") + raw
                    empty = False
                out.write(body)
                out.write(TAIL)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._body_end += len(body)
        self._empty = empty
        self._buffer.clear()

    def remove_state(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()


def _copy_prefix(src: Any, dst: Any, length: int) -> None:
    """The first `length` bytes of src into dst, in the kernel where it can."""
    dst.flush()
    left = length
    try:
        while left > 0:
            n = os.copy_file_range(src.fileno(), dst.fileno(), left)
            if n == 0:
                break
            left -= n
    except (AttributeError, OSError):
        src.seek(length - left)
        dst.seek(length - left)
        while left > 0:
            chunk = src.read(min(left, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            left -= len(chunk)
    if left:
        raise OutputError("the output file shrank while fetching: another program changed it")
    dst.seek(length)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
