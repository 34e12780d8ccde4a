"""One time-zone setting for the whole app: the table, the detail view, the dialogs, the report.

`events.eventTime` is naive UTC. Everything that shows a time formats it through a `TimeZone`
and everything that reads a typed time parses it through the same one, so a time copied from
the table into the time-range dialog means the same instant. The zone's name is always at hand
(`label`) so the screen can say which zone it shows.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Bound = Literal["from", "to"]

_RELATIVE: Final = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([smhdw])$", re.IGNORECASE)
_DATE_ONLY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNITS: Final[dict[str, str]] = {
    "s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks",
}  # fmt: skip
FORMATS_HINT: Final = "2024-01-01 · 2024-01-01 10:00 · 2024-01-01T10:00:00Z · -1h · -24h · -7d"


def _local_zone() -> tuple[dt.tzinfo, str]:
    """The machine's zone with a name: $TZ, else /etc/localtime's zoneinfo key, else its
    current offset (a fixed offset is wrong across a DST change, hence the lookups first)."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env), env
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = str(Path("/etc/localtime").resolve())
        key = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
        if key:
            return ZoneInfo(key), key
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    now = dt.datetime.now().astimezone()
    tz = now.tzinfo or dt.UTC
    return tz, now.strftime("UTC%z")


@dataclass(frozen=True)
class TimeZone:
    """A zone by name: "UTC", "local" (the machine's), or an IANA name ("Europe/Paris")."""

    name: str = "UTC"
    _tz: dt.tzinfo = field(default=dt.UTC, compare=False, repr=False)
    _label: str = field(default="UTC", compare=False, repr=False)

    @classmethod
    def named(cls, name: str) -> TimeZone:
        """Raises ValueError with a message for the user when the zone is unknown."""
        text = name.strip()
        if not text or text.upper() in ("UTC", "Z", "GMT"):
            return cls("UTC", dt.UTC, "UTC")
        if text.lower() == "local":
            tz, label = _local_zone()
            return cls("local", tz, label)
        try:
            return cls(text, ZoneInfo(text), text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {text!r} (try UTC, local, Europe/Paris)") from None

    @property
    def is_utc(self) -> bool:
        return self.name == "UTC"

    @property
    def label(self) -> str:
        """The zone's name as shown beside times: `UTC`, `Europe/Paris`."""
        return self._label

    @property
    def tzinfo(self) -> dt.tzinfo:
        return self._tz

    def offset_label(self, when: dt.datetime | None = None) -> str:
        """`UTC`, or the zone with its offset at `when` (naive UTC; now when None)."""
        if self.is_utc:
            return "UTC"
        moment = (when or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
        return f"{self._label} ({moment.astimezone(self._tz).strftime('UTC%z')})"

    # -- show -------------------------------------------------------------------------------

    def local(self, value: dt.datetime) -> dt.datetime:
        """A naive UTC time (as eventTime is) as an aware time in this zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self._tz)

    def format(self, value: object, *, seconds: bool = True) -> str:
        """`2024-05-01 10:00:00` in this zone; '' for None, other values as text."""
        if not isinstance(value, dt.datetime):
            return "" if value is None else str(value)
        fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
        return self.local(value).strftime(fmt)

    # -- read -------------------------------------------------------------------------------

    def to_utc(self, value: dt.datetime) -> dt.datetime:
        """An aware time, or a naive one read as this zone's wall clock, as naive UTC."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def parse(
        self, text: str, bound: Bound = "from", newest: dt.datetime | None = None
    ) -> dt.datetime | None:
        """A typed time as naive UTC; empty text is None (an open bound).

        Times without an offset are in this zone; `Z` or `+02:00` say otherwise. A date alone
        covers the whole day in this zone (as `to`, exclusive, it is the next midnight).
        `-1h`, `-7d` count back from `newest` (naive UTC), the newest event loaded. Raises
        ValueError with a message for the user.
        """
        text = text.strip()
        if not text:
            return None
        relative = _RELATIVE.match(text)
        if relative:
            amount = float(relative.group(1))
            unit = _UNITS[relative.group(2).lower()]
            anchor = newest if newest is not None else dt.datetime.now(dt.UTC)
            if anchor.tzinfo is not None:
                anchor = anchor.astimezone(dt.UTC).replace(tzinfo=None)
            try:
                return anchor - dt.timedelta(**{unit: amount})
            except OverflowError:
                raise ValueError(f"{text!r} reaches before year 1") from None
        if _DATE_ONLY.match(text):
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a real date") from None
            if bound == "to":
                day += dt.timedelta(days=1)
            return self.to_utc(dt.datetime.combine(day, dt.time()))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a time: try {FORMATS_HINT}") from None
        return self.to_utc(parsed)


UTC: Final = TimeZone()
