"""Compare two versions of a data contract: what changed, which changes break, and whether the version says so.

A change is breaking when the new version may refuse a payload the old one accepted (a new required
field, a narrower enum, a tighter limit, a new pattern or format, a new quality rule, unknown fields now
refused), takes away what consumers read (a removed or retyped field), or promises older data (a looser
freshness). Everything else is not: a new optional field, a wider enum, a looser limit, documentation.
A breaking change needs a new major version, which is a new contract id: `supplier-invoice.v2`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from backoffice.definitions.contracts import ChangeRules, Contract, Field, Version, describe_duration
from backoffice.errors import ContractsNotComparable

TOP_LEVEL = "(payload)"


class ChangeKind(StrEnum):
    REMOVED_FIELD = "removed field"
    NEW_FIELD = "new field"
    RETYPED_FIELD = "retyped field"
    REQUIRED = "required"
    NULLABLE = "nullable"
    ENUM = "allowed values"
    LIMIT = "limit"
    PATTERN = "pattern"
    FORMAT = "format"
    ITEMS = "array items"
    UNKNOWN_FIELDS = "unknown fields"
    QUALITY = "quality rule"
    FRESHNESS = "freshness"
    DOCUMENTATION = "documentation"


@dataclass(frozen=True)
class Change:
    """One difference between two versions; `path` is a field path or a contract key such as `freshness`."""

    kind: ChangeKind
    path: str
    old: str | None
    new: str | None
    breaking: bool
    reason: str


@dataclass(frozen=True)
class ContractDiff:
    """Every change between two versions of a contract, and whether the new version may be published."""

    name: str
    old_version: Version
    new_version: Version
    changes: tuple[Change, ...]
    approvers: tuple[str, ...] = ()
    notice: timedelta | None = None

    @property
    def breaking_changes(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.breaking)

    @property
    def breaking(self) -> bool:
        return bool(self.breaking_changes)

    @property
    def major_bump(self) -> bool:
        return self.new_version.major > self.old_version.major

    @property
    def refused(self) -> bool:
        """Return True when a breaking change comes without a new major version."""
        return self.breaking and not self.major_bump

    @property
    def warnings(self) -> tuple[str, ...]:
        """Return what is allowed but probably a mistake in how the version was set."""
        found = []
        if self.new_version < self.old_version:
            found.append(f"the version goes backwards ({self.old_version} → {self.new_version}): "
                         "are OLD and NEW the right way round?")
        elif self.changes and self.new_version == self.old_version:
            found.append(f"the contract changed but its version did not ({self.new_version}); "
                         "expected a new minor version for a non-breaking change")
        return tuple(found)

    @property
    def message(self) -> str:
        """Return the verdict in one sentence: accepted or refused, and why."""
        versions = f"{self.old_version} → {self.new_version}"
        count = len(self.breaking_changes)
        plural = "s" if count != 1 else ""
        if not self.changes:
            return f"no changes between {versions}"
        if self.refused:
            return (f"refused: {count} breaking change{plural} need{'' if plural else 's'} a new major version, "
                    f"but {versions} keeps major version {self.old_version.major}; publish it as "
                    f"{self.old_version.major + 1}.0.0 ({self.name}.v{self.old_version.major + 1})")
        if self.breaking:
            verdict = (f"breaking: {count} breaking change{plural} with a new major version {versions} "
                       f"({self.name}.v{self.new_version.major}); accepted")
            if self.notice:
                verdict += f"; keep {self.name}.v{self.old_version.major} for {_duration(self.notice)}"
        else:
            changed = f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''}"
            verdict = f"not breaking: {changed}, {versions}; accepted"
        if self.approvers:
            verdict += f"; approval needed from {', '.join(self.approvers)}"
        return verdict


def diff_contracts(old: Contract, new: Contract) -> ContractDiff:
    """Compare two versions of one contract.

    Args:
        old: the published version.
        new: the proposed version.

    Returns:
        Every change, each marked breaking or not with its reason; `refused` says whether the new
        version may be published as numbered.

    Raises:
        ContractsNotComparable: the two contracts have different names.
    """
    if old.name != new.name:
        raise ContractsNotComparable(old.name, new.name)
    changes = (*_field_changes(old, new), *_contract_changes(old, new))
    breaking = any(change.breaking for change in changes)
    approvers = (*new.change.approvers, *(new.change.breaking_approvers if breaking else ())) if changes else ()
    return ContractDiff(name=new.name, old_version=old.version, new_version=new.version, changes=changes,
                        approvers=tuple(dict.fromkeys(approvers)), notice=old.change.notice)


def _field_changes(old: Contract, new: Contract) -> Iterator[Change]:
    old_paths, new_paths = old.paths, new.paths
    # A change at a field covers everything inside it: a removed object is one change, not one per child,
    # and a retyped one covers its old children as well as its new.
    covered = [path for path, field in new_paths.items() if path in old_paths and old_paths[path].type != field.type]

    def is_covered(path: str) -> bool:
        # The fields inside array items read `lines.amount`, so the items `lines[]` cover `lines.` too.
        return any(path.startswith((root + ".", root + "["))
                   or (root.endswith("[]") and path.startswith(root.split("[", 1)[0] + "."))
                   for root in covered)

    for path, field in old_paths.items():
        if path not in new_paths and not is_covered(path):
            covered.append(path)
            if path.endswith("[]"):
                yield Change(ChangeKind.ITEMS, path, field.type, None, False, "items are no longer constrained")
            else:
                yield Change(ChangeKind.REMOVED_FIELD, path, field.type, None, True,
                             "consumers that read it break")
    for path, field in new_paths.items():
        if is_covered(path):
            continue
        if path not in old_paths:
            covered.append(path)
            if path.endswith("[]"):
                yield Change(ChangeKind.ITEMS, path, None, field.type, True,
                             f"items must now be {field.type}; lists of anything else are refused")
            elif field.required:
                yield Change(ChangeKind.NEW_FIELD, path, None, f"{field.type}, required", True,
                             "a new required field: payloads without it are refused")
            else:
                yield Change(ChangeKind.NEW_FIELD, path, None, f"{field.type}, optional", False,
                             "a new optional field: payloads without it still pass")
        elif old_paths[path].type != field.type:
            yield Change(ChangeKind.RETYPED_FIELD, path, old_paths[path].type, field.type, True,
                         f"consumers reading a {old_paths[path].type} break; payloads sending one are refused")
        else:
            yield from _compare_field(path, old_paths[path], field)
    if old.additional_fields != new.additional_fields:
        yield _unknown_fields_change(TOP_LEVEL, old.additional_fields, new.additional_fields)


def _compare_field(path: str, old: Field, new: Field) -> Iterator[Change]:
    if old.required != new.required:
        yield Change(ChangeKind.REQUIRED, path, _yes(old.required), _yes(new.required), new.required,
                     "now required: payloads without it are refused" if new.required
                     else "now optional: payloads may leave it out, and consumers must handle its absence")
    if old.nullable != new.nullable:
        yield Change(ChangeKind.NULLABLE, path, _yes(old.nullable), _yes(new.nullable), not new.nullable,
                     "null is now accepted, and consumers must handle it" if new.nullable
                     else "null is no longer accepted")
    if old.enum != new.enum:
        change = _enum_change(path, old.enum, new.enum)
        if change:
            yield change
    for option, larger_is_tighter in (("minimum", True), ("min_length", True), ("min_items", True),
                                      ("maximum", False), ("max_length", False), ("max_items", False)):
        before, after = getattr(old, option), getattr(new, option)
        if before != after:
            tighter = after is not None and (before is None or (after > before) == larger_is_tighter)
            yield Change(ChangeKind.LIMIT, path, _limit(option, before), _limit(option, after), tighter,
                         f"tighter {option}: values the old version accepted may be refused" if tighter
                         else f"looser {option}: more values are accepted")
    for kind, option in ((ChangeKind.PATTERN, "pattern"), (ChangeKind.FORMAT, "format")):
        before, after = getattr(old, option), getattr(new, option)
        if before != after:
            yield Change(kind, path, _text(before), _text(after), after is not None,
                         f"a {'new' if before is None else 'different'} {option} may refuse values the old "
                         "version accepted" if after is not None else f"no {option} any more: more values pass")
    if old.additional_fields != new.additional_fields:
        yield _unknown_fields_change(path, old.additional_fields, new.additional_fields)
    if old.description != new.description:
        yield Change(ChangeKind.DOCUMENTATION, f"{path}.description", old.description or None,
                     new.description or None, False, "documentation only")


def _enum_change(path: str, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> Change | None:
    if new is None:
        return Change(ChangeKind.ENUM, path, _values(old), None, False, "any value is now accepted")
    if old is None:
        return Change(ChangeKind.ENUM, path, None, _values(new), True,
                      "only the listed values are now accepted")
    removed = [value for value in old if value not in new]
    added = [value for value in new if value not in old]
    if removed:
        return Change(ChangeKind.ENUM, path, _values(old), _values(new), True,
                      f"narrower: {_values(removed)} no longer allowed"
                      + (f" ({_values(added)} added)" if added else ""))
    if added:
        return Change(ChangeKind.ENUM, path, _values(old), _values(new), False,
                      f"wider: {_values(added)} now allowed")
    return None  # the same values in another order


def _unknown_fields_change(path: str, old: bool, new: bool) -> Change:
    return Change(ChangeKind.UNKNOWN_FIELDS, path, "allowed" if old else "refused", "allowed" if new else "refused",
                  not new, "fields outside the contract are now refused" if not new
                  else "fields outside the contract are now allowed")


def _contract_changes(old: Contract, new: Contract) -> Iterator[Change]:
    old_rules, new_rules = set(old.quality), set(new.quality)
    for rule in new.quality:
        if rule not in old_rules:
            yield Change(ChangeKind.QUALITY, "quality", None, str(rule), True,
                         "a new rule: payloads that break it are refused")
    for rule in old.quality:
        if rule not in new_rules:
            yield Change(ChangeKind.QUALITY, "quality", str(rule), None, False, "a rule removed: more payloads pass")
    if old.freshness != new.freshness:
        looser = old.freshness is not None and (new.freshness is None or new.freshness > old.freshness)
        yield Change(ChangeKind.FRESHNESS, "freshness", _duration(old.freshness), _duration(new.freshness), looser,
                     "consumers may get older data than they were promised" if looser
                     else "a fresher promise to consumers")
    for key in ("description", "producer", "consumers", "change"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            yield Change(ChangeKind.DOCUMENTATION, key, _text(before), _text(after), False,
                         "who owns the data changed: consumers should know who now answers for it"
                         if key == "producer" else "documentation and ownership only")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _values(values: Any) -> str | None:
    return None if values is None else ", ".join(str(value) for value in values)


def _limit(option: str, value: Any) -> str | None:
    return None if value is None else f"{option} {value}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or None
    if isinstance(value, ChangeRules):
        return (f"approvers: {', '.join(value.approvers) or '-'}; "
                f"breaking: {', '.join(value.breaking_approvers) or '-'}; notice: {_duration(value.notice) or '-'}")
    return str(value)


def _duration(value: timedelta | None) -> str | None:
    return None if value is None else describe_duration(value)
