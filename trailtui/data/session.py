"""An investigation saved per data set: filters, columns, facets, marks, bookmarks, time zone.

One JSON file per set of input paths under the user's data folder
(`$TRAILTUI_DATA_DIR/sessions/<key>.json`, see `history.default_data_dir`), written atomically,
readable by the user only (0600; the folder 0700): it names accounts, people and IPs. A
damaged or foreign file never stops the app: `load_session` returns None and a warning.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from trailtui.data.evidence import Evidence
from trailtui.data.filters import AnyChip, Chip, FieldChip, FilterState
from trailtui.data.history import default_data_dir

FORMAT: Final = 1
MAX_BYTES: Final = 20 << 20  # a session is a few KB; a huge file is not ours


def dataset_key(paths: Sequence[str | os.PathLike[str]]) -> str:
    """The same for the same input paths in any order (file contents may grow: a continued
    download keeps its session)."""
    h = hashlib.sha256(b"trailtui-session")
    for p in sorted({os.path.abspath(os.fspath(p)) for p in paths}):
        h.update(p.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:32]


def session_path(
    paths: Sequence[str | os.PathLike[str]], base: Path | None = None
) -> Path:
    return (base or default_data_dir()) / "sessions" / f"{dataset_key(paths)}.json"


# -- chips as JSON ------------------------------------------------------------------------------


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def chip_to_json(chip: AnyChip) -> dict[str, Any]:
    if isinstance(chip, FieldChip):
        return {"kind": chip.kind, "path": chip.path, "values": list(chip.values)}
    return {
        "kind": chip.kind,
        "column": chip.column,
        "value": chip.value,
        "start": _time(chip.start),
        "end": _time(chip.end),
        "center": _time(chip.center),
    }


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value)


def chip_from_json(data: Any) -> AnyChip:
    """A chip from saved JSON; raises ValueError/TypeError when it is not a valid chip."""
    if not isinstance(data, dict):
        raise ValueError("not a chip")
    kind = data.get("kind")
    if kind in ("field_in", "field_not_in"):
        values = data.get("values")
        if not isinstance(values, list):
            raise ValueError("a field chip needs values")
        return FieldChip(kind, str(data.get("path", "")), tuple(values))
    if kind == "around":
        center = _parse_time(data.get("center"))
        start = _parse_time(data.get("start"))
        if center is None or start is None:
            raise ValueError("an around chip needs its centre")
        return Chip.around(center, center - start)
    if kind in ("include", "exclude", "search", "time"):
        value = data.get("value")
        if value is not None and not isinstance(value, str | bool):
            raise TypeError("bad chip value")
        return Chip(kind, str(data.get("column") or ""), value,
                    _parse_time(data.get("start")), _parse_time(data.get("end")))
    raise ValueError(f"unknown chip kind: {kind!r}")


def filters_to_json(state: FilterState) -> list[dict[str, Any]]:
    return [chip_to_json(c) for c in state.chips]


def filters_from_json(data: Any) -> tuple[FilterState, int]:
    """The saved chips as a state (each chip one undo step); how many were not readable."""
    state = FilterState()
    bad = 0
    for item in data if isinstance(data, list) else ():
        try:
            state = state.add(chip_from_json(item))
        except (ValueError, TypeError):
            bad += 1
    return state, bad


# -- the session --------------------------------------------------------------------------------


@dataclass
class Session:
    """What reopening the same files brings back."""

    paths: list[str] = field(default_factory=list)
    filters: FilterState = field(default_factory=FilterState)
    columns: list[str] = field(default_factory=list)  # field paths, in order
    facets: list[str] = field(default_factory=list)  # field paths of the facet panels
    evidence: Evidence = field(default_factory=Evidence)
    time_zone: str = "UTC"
    sort: tuple[str, bool] = ("eventTime", True)
    saved_at: float = 0.0

    @property
    def is_empty(self) -> bool:
        """Nothing worth offering to restore."""
        return not (self.filters or self.evidence or self.columns or self.facets)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "paths": self.paths,
            "filters": filters_to_json(self.filters),
            "columns": self.columns,
            "facets": self.facets,
            "evidence": self.evidence.to_json(),
            "time_zone": self.time_zone,
            "sort": [self.sort[0], self.sort[1]],
            "saved_at": self.saved_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> tuple[Session, list[str]]:
        """A session and notes on what could not be read (never raises on odd content)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a trailtui session")
        notes: list[str] = []
        filters, bad = filters_from_json(data.get("filters"))
        if bad:
            notes.append(f"{bad} saved filter{'s' if bad != 1 else ''} could not be restored")

        def strings(key: str) -> list[str]:
            value = data.get(key)
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        sort = data.get("sort")
        sort_t = (
            (sort[0], sort[1])
            if isinstance(sort, list) and len(sort) == 2 and isinstance(sort[0], str)
            and isinstance(sort[1], bool) else ("eventTime", True)
        )
        tz = data.get("time_zone")
        saved = data.get("saved_at")
        return cls(
            paths=strings("paths"),
            filters=filters,
            columns=strings("columns"),
            facets=strings("facets"),
            evidence=Evidence.from_json(data.get("evidence")),
            time_zone=tz if isinstance(tz, str) else "UTC",
            sort=sort_t,
            saved_at=float(saved) if isinstance(saved, int | float) else 0.0,
        ), notes


def save_session(session: Session, path: Path) -> str | None:
    """Write atomically with mode 0600; None when saved, else why not (for one message)."""
    session.saved_at = time.time()
    text = json.dumps(session.to_json(), ensure_ascii=True, indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        return f"session not saved ({exc.strerror or exc}): {path}"
    return None


def load_session(path: Path) -> tuple[Session | None, list[str]]:
    """The saved session (None when there is none or it is unreadable) and notes for the user."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None, [f"saved session ignored (too large): {path}"]
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, []
    except (OSError, ValueError, RecursionError) as exc:
        return None, [f"saved session unreadable ({exc}): {path}"]
    try:
        return Session.from_json(data)
    except (ValueError, TypeError) as exc:
        return None, [f"saved session ignored ({exc}): {path}"]


def delete_session(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
