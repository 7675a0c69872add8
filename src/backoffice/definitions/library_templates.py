"""The library of ready workflow definitions: list the templates, and copy one to edit.

Each template is a definition in `library/` (supplier-invoice.yaml ...), with the data contracts
it names under `library/contracts/`. `new_from_template` copies a template together with its
contracts, at the same relative path the definition names (`inputs.contract`), so the copy passes
`backoffice check` where it lands. It never overwrites a file, and writes nothing when it refuses.

    from backoffice.definitions.library_templates import list_templates, new_from_template
    [template.name for template in list_templates()]
    new_from_template("supplier-invoice", "definitions/")   # definitions/supplier-invoice.yaml

Reading a template's title needs no CEL nor contract: listing stays fast for the command line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from backoffice.errors import OutputFileError, TemplateTargetExists, UnknownTemplate

LIBRARY = Path(__file__).resolve().parent / "library"
"""The folder of templates; their contracts are in its `contracts/` folder."""

SUMMARY_WIDTH = 100
"""The longest summary of a purpose that `Template.summary` gives."""
_DEFINITION_SUFFIXES = (".yaml", ".yml")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class Template:
    """A ready definition of the library: its name (for `new --from`), title, purpose and contracts."""

    name: str
    title: str
    purpose: str
    path: Path
    contracts: tuple[str, ...] = ()
    """The data contract files the definition names, relative to it (contracts/supplier-invoice.v1.yaml)."""

    @property
    def summary(self) -> str:
        """The gist of the purpose, for a listing: its first clause, or words up to SUMMARY_WIDTH."""
        sentence = _SENTENCE_END.split(self.purpose, maxsplit=1)[0].rstrip(".")
        if len(sentence) <= SUMMARY_WIDTH:
            return sentence
        # Cut at the first colon or semicolon, else before a parenthesis, else at the last comma,
        # never inside parentheses; and as a last resort between words.
        colons, parentheses, commas, depth = [], [], [], 0
        for position, character in enumerate(sentence[:SUMMARY_WIDTH + 1]):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if character == "(" and depth == 1:
                parentheses.append(position)
            elif depth == 0 and character in ":;":
                colons.append(position)
            elif depth == 0 and character == ",":
                commas.append(position)
        cut = (colons or parentheses or commas[-1:] or [None])[0]
        if cut:
            return sentence[:cut].rstrip()
        return sentence[:SUMMARY_WIDTH].rsplit(" ", 1)[0] + "…"


def list_templates() -> list[Template]:
    """Return every template of the library, by name."""
    return [_read_template(path) for path in sorted(LIBRARY.glob("*.yaml"))]


def get_template(name: str) -> Template:
    """Return the template of that name (service-request, or service-request.yaml).

    Raises:
        UnknownTemplate: the library has no such template; the error lists those it has.
    """
    stem = name.strip()
    for suffix in _DEFINITION_SUFFIXES:
        stem = stem.removesuffix(suffix)
    path = LIBRARY / f"{stem}.yaml"
    # A name is a file of the folder, never a path that leaves it.
    if not stem or "/" in stem or "\\" in stem or not path.is_file():
        raise UnknownTemplate(name, [template.name for template in list_templates()])
    return _read_template(path)


def new_from_template(name: str, destination: Path | str | None = None) -> Path:
    """Copy a template and its data contracts to edit, and return the copy's path.

    destination: a folder (an existing one, or a path ending in / or without a .yaml suffix),
    where the copy is NAME.yaml; or the file to create. None means the current folder. The
    contracts land beside the copy at the relative path the definition names.

    Raises:
        UnknownTemplate: the library has no such template.
        TemplateTargetExists: the copy, or a contract that differs from the template's, is already
            there; nothing is written.
        OutputFileError: the folder cannot be created or the files cannot be written.
    """
    template = get_template(name)
    target = _target_path(template, destination)
    copies = [(LIBRARY / contract, target.parent / contract) for contract in template.contracts]
    if target.exists():
        raise TemplateTargetExists(target, template.name)
    # A contract already there with the template's content is shared (two copies in one folder);
    # one that differs was edited by someone, and is never replaced.
    to_write: list[tuple[Path, bytes]] = []
    for source, copy in copies:
        content = source.read_bytes()
        if copy.exists():
            if not copy.is_file() or copy.read_bytes() != content:
                raise TemplateTargetExists(copy, template.name)
            continue
        to_write.append((copy, content))
    to_write.append((target, template.path.read_bytes()))
    _write_all(to_write)
    return target


def _read_template(path: Path) -> Template:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    inputs = document.get("inputs") or {}
    contract = inputs.get("contract") if isinstance(inputs, dict) else None
    return Template(name=path.stem, title=str(document.get("title", path.stem)),
                    purpose=" ".join(str(document.get("purpose", "")).split()), path=path,
                    contracts=(contract,) if isinstance(contract, str) else ())


def _target_path(template: Template, destination: Path | str | None) -> Path:
    if destination is None:
        return Path.cwd() / f"{template.name}.yaml"
    text = os.fspath(destination)
    path = Path(text)
    names_a_folder = (text.endswith(("/", os.sep)) or path.is_dir()
                      or path.suffix.lower() not in _DEFINITION_SUFFIXES)
    return path / f"{template.name}.yaml" if names_a_folder else path


def _write_all(files: list[tuple[Path, bytes]]) -> None:
    """Write new files, all or none: on a failure, the files and folders made so far are removed."""
    written: list[Path] = []
    folders: list[Path] = []
    path = files[0][0]
    try:
        for path, content in files:
            folders += reversed([parent for parent in (path.parent, *path.parent.parents) if not parent.exists()])
            path.parent.mkdir(parents=True, exist_ok=True)
            # "x" refuses a file that appeared since the check: never overwrite, even in a race.
            with path.open("xb") as handle:
                written.append(path)
                handle.write(content)
    except FileExistsError as exc:
        _remove(written, folders)
        raise TemplateTargetExists(Path(exc.filename or path)) from exc
    except OSError as exc:
        _remove(written, folders)
        raise OutputFileError(exc.filename or path, exc.strerror or str(exc)) from exc


def _remove(files: list[Path], folders: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty, or never made: leave it
