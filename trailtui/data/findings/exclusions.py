"""Exclusions: known-good activity a rule should not flag, per rule, read from YAML or TOML.

```yaml
exclusions:
  - rule: trailtui-root-console-login   # a rule id or title; "*" or absent: every rule
    actor: root                          # the `actor` column (user, role or service)
    role: deploy-*                       # the role of an assumed-role session (name or ARN)
    ip: 192.0.2.0/24                     # sourceIPAddress: one address, a CIDR, or a pattern
    account: "123456789012"              # the account (trail's, caller's, or recipient)
    reason: nightly backup job           # shown nowhere; for the reader of the file
```

Every field given must match (AND); strings compare case-insensitively and accept `*`
wildcards. The same in TOML is a list of `[[exclusions]]` tables.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trailtui.data.findings.sigma import ConversionError, Sql, cidr_sql, leaf_sql

_FIELDS = ("rule", "actor", "role", "ip", "account", "reason")


class ExclusionError(Exception):
    """The exclusions file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Exclusion:
    rule: str = "*"
    actor: str | None = None
    role: str | None = None
    ip: str | None = None
    account: str | None = None
    reason: str = ""

    def applies_to(self, rule_id: str, title: str) -> bool:
        pat = self.rule.lower()
        return pat == "*" or fnmatch.fnmatchcase(rule_id.lower(), pat) or \
            fnmatch.fnmatchcase(title.lower(), pat)


def load_exclusions(path: Path | str) -> list[Exclusion]:
    """Parse an exclusions file (.toml, else YAML). Raises ExclusionError."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExclusionError(f"{path}: cannot read ({exc})") from exc
    data: Any
    if p.suffix.lower() == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ExclusionError(f"{path}: not valid TOML ({exc})") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ExclusionError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    items = data.get("exclusions") if isinstance(data, dict) else data
    if items is None:
        return []
    if not isinstance(items, list):
        raise ExclusionError(f"{path}: `exclusions` must be a list")
    out: list[Exclusion] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ExclusionError(f"{path}: exclusion {n} is not a mapping")
        unknown = sorted(set(item) - set(_FIELDS))
        if unknown:
            raise ExclusionError(f"{path}: exclusion {n}: unknown key(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(_FIELDS)})")
        vals = {k: (str(v) if v is not None else None) for k, v in item.items()}
        if not any(vals.get(k) for k in ("actor", "role", "ip", "account")):
            raise ExclusionError(f"{path}: exclusion {n} names no actor, role, ip or account "
                                 "(it would silence the rule entirely; disable the rule instead)")
        ex = Exclusion(rule=vals.get("rule") or "*", actor=vals.get("actor"),
                       role=vals.get("role"), ip=vals.get("ip"), account=vals.get("account"),
                       reason=vals.get("reason") or "")
        try:
            exclusion_sql(ex)
        except ConversionError as exc:
            raise ExclusionError(f"{path}: exclusion {n}: {exc}") from exc
        out.append(ex)
    return out


def _any(exprs: list[str], value: str) -> Sql:
    parts = [leaf_sql(e, value, []) for e in exprs]
    return Sql("(" + " OR ".join(f"coalesce({p.text}, false)" for p in parts) + ")",
               [x for p in parts for x in p.params])


def exclusion_sql(ex: Exclusion) -> Sql:
    """A WHERE over `events` true for the events this exclusion covers."""
    conds: list[Sql] = []
    if ex.actor:
        conds.append(_any(['"actor"'], ex.actor))
    if ex.role:
        conds.append(_any(['"userIdentity"."sessionContext"."sessionIssuer"."userName"',
                           '"userIdentity"."sessionContext"."sessionIssuer"."arn"'], ex.role))
    if ex.ip:
        if "/" in ex.ip:
            c = cidr_sql('"sourceIPAddress"', ex.ip)
            conds.append(Sql(f"coalesce({c.text}, false)", c.params))
        else:
            conds.append(_any(['"sourceIPAddress"'], ex.ip))
    if ex.account:
        conds.append(_any(['"account_id"', '"recipientAccountId"',
                           '"userIdentity"."accountId"'], ex.account))
    return Sql(" AND ".join(c.text for c in conds) or "false",
               [p for c in conds for p in c.params])
