"""Deployed definition versions: read a file into an immutable version, and a stored version back into rules.

A version stores the validated definition as canonical JSON (what the engine runs on), the
YAML text deployed (what people review), and the data contract's text when the definition
names one: a later edit of either file changes no deployed version. Its content hash covers
what the engine runs on, so deploying the same content twice gives the same version, and a
comment or a reordered key changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backoffice.definitions.contract_reader import load_contract, parse_contract
from backoffice.definitions.contracts import Contract, Field, FieldType, Version, Violation
from backoffice.definitions.loader import load_definition
from backoffice.definitions.model import Definition
from backoffice.engine.audit import canonical_json
from backoffice.engine.ports import StoredVersion
from backoffice.errors import ContractFileError


@dataclass(frozen=True)
class DeployedVersion:
    """The answer of `Engine.deploy`: which version, its content hash, and whether this call created it.

    `pending`: the version waits for a second person (it weakens a control, or the change rules
    ask for a second approver) and is not deployed yet; `lines` is its control diff, for people.
    """

    workflow: str
    version: int
    content_hash: str
    deployed_at: datetime
    deployed_by: str
    created: bool
    pending: bool = False
    lines: tuple[str, ...] = ()

    @classmethod
    def of(cls, stored: StoredVersion, *, created: bool) -> DeployedVersion:
        return cls(stored.workflow, stored.version, stored.content_hash, stored.deployed_at, stored.deployed_by,
                   created)


@dataclass(frozen=True)
class RunningVersion:
    """A deployed version ready to run: its definition, and the contract its case data must keep."""

    stored: StoredVersion
    definition: Definition
    inputs: Contract

    def violations(self, data: Any) -> list[Violation]:
        """Return every way the data breaks the workflow's inputs (a contract, or inline fields)."""
        return self.inputs.validate(data)


def read_version(path: Path | str, *, actor: str, now: datetime) -> StoredVersion:
    """Read and check a definition file (and its contract) into a version ready to store.

    Raises:
        DefinitionError: the definition has errors; all of them are listed.
        ContractFileError: its data contract cannot be read.
    """
    path = Path(path)
    definition = load_definition(path)
    source = path.read_text(encoding="utf-8")
    contract_source = contract_name = None
    contract: Contract | None = None
    if definition.inputs.contract is not None:
        contract_path = path.parent / definition.inputs.contract
        try:
            contract_source = contract_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContractFileError(contract_path, f"cannot open the file ({exc.strerror})",
                                    expected="the data contract the definition names") from exc
        contract = load_contract(contract_path)
        contract_name = definition.inputs.contract
    dumped = definition.model_dump(mode="json", by_alias=True)
    # Stored in the file's order (states, fields), which messages and listings follow; hashed with
    # sorted keys, so that order alone is not a change.
    definition_json = json.dumps(dumped, ensure_ascii=False, separators=(",", ":"))
    content = {"definition": dumped,
               "contract": _contract_content(contract) if contract is not None else None}
    return StoredVersion(workflow=definition.id, version=definition.version,
                         content_hash=hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest(),
                         definition_json=definition_json, source=source, status=str(definition.status),
                         deployed_at=now, deployed_by=actor, contract_source=contract_source,
                         contract_name=contract_name)


def running_version(stored: StoredVersion) -> RunningVersion:
    """Rebuild the definition and inputs contract of a stored version (checked when it was deployed)."""
    definition = Definition.model_validate(json.loads(stored.definition_json))
    if stored.contract_source is not None:
        inputs = parse_contract(stored.contract_source, path=stored.contract_name or "<contract>")
    else:
        inputs = inline_contract(definition)
    return RunningVersion(stored, definition, inputs)


def inline_contract(definition: Definition) -> Contract:
    """Return a contract for a definition's inline `inputs.fields`, so both kinds validate alike.

    Fields outside the list are allowed, as a contract allows them by default.
    """
    fields = tuple(Field(name=name, type=FieldType(str(spec.type)), required=spec.required,
                         description=spec.description or "")
                   for name, spec in (definition.inputs.fields or {}).items())
    return Contract(name=definition.id, version=Version(definition.version, 0, 0),
                    description=f"the inline inputs of {definition.id}", producer=definition.trigger.system,
                    fields=fields)


def _contract_content(contract: Contract) -> dict[str, Any]:
    # What validation depends on; the contract's comments and key order are not content.
    return {"id": contract.id, "version": str(contract.version), "schema": contract.json_schema(),
            "quality": [str(rule) for rule in contract.quality]}
