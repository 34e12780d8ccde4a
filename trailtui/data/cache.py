"""The load cache cannot lie, leak or be read by others.

Integrity, and why this design: each cached chunk (records compressed in zstd frames, see
`packed`; its line index and frame index beside it) has its size and a CRC-32 of every 1 MiB
block (of the compressed bytes) written with it (one pass, in the background save). On open:
every file's size is compared (a stat each), every line index is read whole and checked
against its chunk (it is 8 bytes a record: 1.6 MB per 200k events), and block CRCs are
verified up to EAGER_VERIFY_BYTES (~50 ms); beyond that, the first and last block of each
chunk now and every other block the first time a record is read from it (`Verifier`), so no
reopen pays a full rehash of hundreds of MB and no damaged record is ever shown, copied or
exported. The DuckDB file carries its own block checksums (a damaged one fails to attach).
Any damage found on open means a rebuild with a note; damage found later is refused loudly
and the entry is dropped so the next start rebuilds.

The key adds inode and ctime to path, size and mtime: a source replaced with the same size
and mtime (`mv`, `touch -r`) gets a new ctime. Folders are 0700 and files 0600 whatever the
umask; work folders of interrupted loads are removed on the next start; the cache is capped
($TRAILTUI_CACHE_MAX or --cache-max, least recently used entries go first).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trailtui.data import ingest

BLOCK = 1 << 20
EAGER_VERIFY_BYTES = 64 << 20
DEFAULT_MAX_BYTES = 4 << 30
_TMP_NAME = re.compile(r"^(?P<key>[0-9a-f]{32})\.tmp-(?P<pid>\d+)-\d+$")
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class CacheDamaged(OSError):
    """A cached record failed its check: it is never returned."""


def parse_size(text: str) -> int:
    """`500M`, `2G`, `1.5G`, `1000000` -> bytes; ValueError if not a size."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text.upper())
    if not m:
        raise ValueError(f"not a size: {text!r} (try 500M or 2G)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def max_bytes() -> int:
    """$TRAILTUI_CACHE_MAX (e.g. 2G; 0 keeps nothing) or 4 GiB."""
    raw = os.environ.get("TRAILTUI_CACHE_MAX", "")
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(raw)
    except ValueError:
        return DEFAULT_MAX_BYTES


def key(files: Sequence[Path], fmt: int) -> str:
    """Changes whenever a file is added, removed, resized, touched or replaced."""
    h = hashlib.sha256(f"trailtui-cache-{fmt}".encode())
    # One realpath per folder: a resolve() per file cost seconds for an S3 tree.
    for f in sorted(ingest.real_paths(files)):
        st = os.stat(f)
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\n"
                 .encode())
    return h.hexdigest()[:32]


# --- permissions ---------------------------------------------------------------------------


def private_dir(path: Path) -> None:
    """mkdir -p, then 0700 (mkdir's mode is cut by the umask; chmod is not)."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


def make_private(root: Path) -> None:
    """Every folder under `root` 0700, every file 0600."""
    for folder, _dirs, files in os.walk(root):
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
        for name in files:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(folder, name), 0o600)


# --- checksums -----------------------------------------------------------------------------


def block_crcs(path: Path) -> list[int]:
    """CRC-32 of every BLOCK of a file."""
    out: list[int] = []
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            out.append(zlib.crc32(block))
    return out


def describe(folder: Path, chunks: dict[int, int]) -> dict[str, Any]:
    """What `verify` checks later: sizes of every file, block CRCs of the chunks' files.

    `chunks` maps each chunk id to the size of its records uncompressed (the line index's end).
    """
    files: dict[str, Any] = {}
    for cid, raw in chunks.items():
        for ext in ("zst", "frm", "idx"):
            path = folder / "chunks" / f"{cid}.{ext}"
            files[f"chunks/{cid}.{ext}"] = {"size": path.stat().st_size, "crc": block_crcs(path)}
        files[f"chunks/{cid}.zst"]["raw"] = raw
    db = folder / "events.duckdb"
    files["events.duckdb"] = {"size": db.stat().st_size}
    return files


def _check_blocks(path: Path, crcs: list[int], blocks: Iterable[int]) -> int | None:
    """The first block whose CRC differs, else None."""
    with path.open("rb") as fh:
        for b in blocks:
            fh.seek(b * BLOCK)
            if zlib.crc32(fh.read(BLOCK)) != crcs[b]:
                return b
    return None


def verify(folder: Path, manifest: dict[str, Any]) -> str | None:
    """Why this cache entry cannot be trusted, or None. Cheap: see the module doc."""
    files = manifest.get("integrity")
    if not isinstance(files, dict):
        return "no integrity record"
    budget = EAGER_VERIFY_BYTES
    for name, want in files.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if size != want.get("size"):
            return f"{name} changed size ({size:,} bytes, {want.get('size'):,} written)"
    for cid in manifest.get("chunks", []):
        names = {ext: f"chunks/{cid}.{ext}" for ext in ("idx", "frm", "zst")}
        for ext in ("idx", "frm"):
            crcs = files.get(names[ext], {}).get("crc")
            if crcs is None:
                return f"{names[ext]} has no checksum"
            if _check_blocks(folder / names[ext], crcs, range(len(crcs))) is not None:
                return f"{names[ext]} is damaged"
        offsets = array("q")
        offsets.frombytes((folder / names["idx"]).read_bytes())
        frames = array("q")
        frames.frombytes((folder / names["frm"]).read_bytes())
        half = len(frames) // 2
        zst = files[names["zst"]]
        # Their content is covered by the CRCs above; the ends tie them to their chunk.
        if not offsets or offsets[0] != 0 or offsets[-1] != zst.get("raw"):
            return f"{names['idx']} does not match its chunk"
        if (len(frames) % 2 or not half or frames[0] != 0 or frames[half - 1] != zst["size"]
                or frames[half] != 0 or frames[-1] != len(offsets) - 1):
            return f"{names['frm']} does not match its chunk"
        crcs = zst["crc"]
        n = len(crcs)
        if n * BLOCK <= budget:
            budget -= n * BLOCK
            blocks: Iterable[int] = range(n)
        else:
            blocks = sorted({0, n - 1})
        bad = _check_blocks(folder / names["zst"], crcs, blocks)
        if bad is not None:
            return f"{names['zst']} is damaged (block {bad})"
    return None


class Verifier:
    """Checks each 1 MiB block of a cached chunk the first time a record is read from it."""

    def __init__(self) -> None:
        self._crcs: dict[int, list[int]] = {}
        self._done: dict[int, set[int]] = {}
        self.on_damage: Any = None  # called once with (chunk path) when damage is found

    def watch(self, chunk_id: int, crcs: list[int], verified: Iterable[int] = ()) -> None:
        self._crcs[chunk_id] = crcs
        self._done[chunk_id] = set(verified)

    def check(self, chunk_id: int, path: Path, start: int, end: int) -> None:
        crcs = self._crcs.get(chunk_id)
        if crcs is None:
            return
        done = self._done[chunk_id]
        todo = [b for b in range(start // BLOCK, max(start, end - 1) // BLOCK + 1)
                if b not in done]
        if not todo:
            return
        try:
            outside = [b for b in todo if b >= len(crcs)]
            bad = outside[0] if outside else _check_blocks(path, crcs, todo)
        except OSError as exc:
            raise CacheDamaged(f"cached records unreadable ({exc.strerror or exc})") from exc
        if bad is not None:
            if self.on_damage is not None:
                self.on_damage(path)
            raise CacheDamaged(
                "cached records are damaged on disk; not shown. Reopen the files: the cache "
                "is rebuilt")
        done.update(todo)


# --- housekeeping --------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, not ours
    return True


def sweep(root: Path) -> int:
    """Remove work folders of loads that were interrupted (their process is gone); bytes freed."""
    freed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        m = _TMP_NAME.match(name)
        if m and not _alive(int(m.group("pid"))):
            freed += folder_size(root / name)
            shutil.rmtree(root / name, ignore_errors=True)
    return freed


_TEMP_NAME = re.compile(r"^trailtui-(?P<pid>\d+)-[\w]+$")


def sweep_temp(tmp: Path) -> None:
    """Remove our temporary chunk folders (`trailtui-<pid>-*`) whose process is gone."""
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    uid = os.getuid() if hasattr(os, "getuid") else -1
    for name in names:
        m = _TEMP_NAME.match(name)
        if not m or _alive(int(m.group("pid"))):
            continue
        path = tmp / name
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink() and path.stat().st_uid == uid:
                shutil.rmtree(path, ignore_errors=True)


def folder_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size
    return total


@dataclass
class EntryInfo:
    key: str
    path: Path
    size: int
    used: float  # last opened or written (the manifest's mtime)
    sources: list[str]
    events: int


def entries(root: Path) -> list[EntryInfo]:
    """Cache entries, least recently used first."""
    out: list[EntryInfo] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return out
    for name in names:
        folder = root / name
        manifest = folder / "manifest.json"
        if not re.fullmatch(r"[0-9a-f]{32}", name) or not manifest.is_file():
            continue
        try:
            data = json.loads(manifest.read_text())
            used = manifest.stat().st_mtime
        except (OSError, ValueError):
            data, used = {}, 0.0
        files = data.get("files", []) if isinstance(data, dict) else []
        out.append(EntryInfo(name, folder, folder_size(folder), used,
                             [str(f.get("path", "")) for f in files],
                             sum(int(f.get("added", 0)) for f in files)))
    out.sort(key=lambda e: e.used)
    return out


def touch(folder: Path) -> None:
    """Mark an entry as just used (LRU order)."""
    with contextlib.suppress(OSError):
        os.utime(folder / "manifest.json")


def evict(root: Path, limit: int | None = None, keep: str | None = None) -> list[EntryInfo]:
    """Remove least recently used entries until the cache fits `limit`; the removed ones."""
    limit = max_bytes() if limit is None else limit
    found = entries(root)
    total = sum(e.size for e in found)
    removed: list[EntryInfo] = []
    for e in found:
        if total <= limit:
            break
        if e.key == keep:
            continue  # the entry in use: its chunks are read by the open session
        shutil.rmtree(e.path, ignore_errors=True)
        total -= e.size
        removed.append(e)
    return removed


def clear(root: Path) -> tuple[int, int]:
    """Remove every entry and work folder; (entries removed, bytes freed)."""
    n = freed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0, 0
    for name in names:
        if re.fullmatch(r"[0-9a-f]{32}", name) or _TMP_NAME.match(name):
            freed += folder_size(root / name)
            shutil.rmtree(root / name, ignore_errors=True)
            n += 1 if "." not in name else 0
    return n, freed


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def info_text(root: Path) -> str:
    """`trailtui --cache-info`: where, how big, the limit, each entry (plain text)."""
    found = entries(root)
    total = sum(e.size for e in found)
    lines = [f"cache: {root}", f"size: {human(total)} in {len(found)} entr"
             f"{'y' if len(found) == 1 else 'ies'} (limit {human(max_bytes())}; "
             "TRAILTUI_CACHE_MAX or --cache-max)"]
    for e in reversed(found):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.used))
        src = e.sources[0] if e.sources else "?"
        more = f" and {len(e.sources) - 1:,} more files" if len(e.sources) > 1 else ""
        lines.append(f"  {e.key}  {human(e.size):>10}  used {when}  {e.events:,} events  "
                     f"{src}{more}")
    return "\n".join(lines)
