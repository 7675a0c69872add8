"""Regenerate the README's map outputs from real runs, so they cannot go stale.

Each block to fill is marked in README.md by a comment naming it, right before its fenced
block:

    <!-- readme-output: tickets -->
    ```
    ...replaced by the commands and what they printed...
    ```

The commands run in a fresh folder filled by `backoffice examples` (plus the real logs of
../shared when they are there), with a fixed terminal width. Paths of that folder read as
`~/try`.

    python scripts/readme_outputs.py           # rewrite README.md
    python scripts/readme_outputs.py --check   # exit 1 when README.md differs from a fresh run
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED_LOGS = Path(os.environ.get("BACKOFFICE_SHARED_LOGS") or ROOT.parent / "shared" / "data" / "logs")
MARKER = re.compile(r"<!-- readme-output: (?P<name>[\w-]+) -->\n```[^\n]*\n(?P<body>.*?)```", re.S)
SHOWN_FOLDER = "~/try"


@dataclass(frozen=True)
class Block:
    """Commands whose output fills one block; `drop` leaves out tables by their title, `first` keeps N lines."""

    commands: list[str]
    drop: tuple[str, ...] = ()
    first: int | None = None
    needs_shared: tuple[str, ...] = field(default=())


BLOCKS = {
    "demo": Block(["backoffice demo --map-only --out backoffice-report"],
                  drop=("Processing time", "Busiest paths", "Top variants", "Handoffs", "Step kinds")),
    "tickets": Block(["backoffice map tickets.csv --timestamp Completed --start-timestamp Started "
                      "--timestamp-format '%d-%m-%Y %H:%M' --timezone Europe/Amsterdam --sla 2d --top 3"],
                     drop=("Busiest paths", "Top variants", "Step kinds")),
    "helpdesk": Block(["backoffice map helpdesk.xes.gz --lanes resource --sla 5d --json helpdesk.json "
                       "--html helpdesk.html -q",
                       "python3 -c \"import json; d = json.load(open('helpdesk.json')); "
                       "print(d['summary']['variants'], d['edges'][0]['source'], '->', d['edges'][0]['target'], "
                       "d['edges'][0]['count'])\""]),
    "errors": Block(["backoffice map nots.csv", "backoffice map export.csv", "backoffice map cut.xes.gz",
                     "backoffice map tickets.csv --resource resoruce"]),
    "bpic2012": Block(["backoffice map bpic2012.xes.gz --top 5"],
                      drop=("Busiest paths", "Top variants", "Step kinds"), needs_shared=("bpic2012.xes.gz",)),
    "bpic2012-events": Block(["backoffice map bpic2012.xes.gz --lifecycle events --top 3 --quiet "
                              "--json events.json",
                              "python3 -c \"import json; d = json.load(open('events.json')); "
                              "print(d['summary']['steps'], 'steps,', len(d['edges']), 'paths,', "
                              "sum(e['count'] for e in d['edges'] if e['source'] == e['target']), "
                              "'from an activity to itself; rework', round(100 * d['rework']['share_of_cases']), "
                              "'%')\""], needs_shared=("bpic2012.xes.gz",)),
}


def run_block(block: Block, folder: Path, environment: dict[str, str]) -> str:
    shown = []
    for command in block.commands:
        words = shlex.split(command)
        if words[0] == "backoffice":
            words = [sys.executable, "-m", "backoffice.cli.app", *words[1:]]
        elif words[0] == "python3":
            words = [sys.executable, *words[1:]]
        done = subprocess.run(words, cwd=folder, env=environment, capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
        output = _without_tables(output, block.drop)
        if block.first is not None:
            lines = output.splitlines()
            output = "\n".join(lines[:block.first] + (["..."] if len(lines) > block.first else [])) + "\n"
        shown.append(f"$ {command}\n{output}")
    text = "".join(shown).replace(str(folder.resolve()), SHOWN_FOLDER).replace(str(folder), SHOWN_FOLDER)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _without_tables(output: str, titles: tuple[str, ...]) -> str:
    """Leave out the Rich tables whose title starts with one of `titles` (title line to the table's last border)."""
    if not titles:
        return output
    kept, skipping = [], False
    for line in output.splitlines():
        if not skipping and any(line.startswith(title) for title in titles):
            skipping = True
            continue
        if skipping:
            if line.startswith("└"):
                skipping = False
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def prepare(folder: Path, environment: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "backoffice.cli.app", "examples", str(folder)], env=environment,
                   check=True, capture_output=True)
    # A damaged download, for the error example: the first 100 kB of a gzip file.
    (folder / "cut.xes.gz").write_bytes((folder / "helpdesk.xes.gz").read_bytes()[:100_000])
    for name in ("bpic2012.xes.gz",):
        if (SHARED_LOGS / name).exists():
            (folder / name).symlink_to(SHARED_LOGS / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md differs from a fresh run")
    parser.add_argument("--only", nargs="*", help="regenerate these blocks only")
    args = parser.parse_args(argv)
    environment = {**os.environ, "COLUMNS": "110", "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1",
                   "TERM": "dumb"}
    text = README.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="readme-") as temporary:
        folder = Path(temporary) / "try"
        prepare(folder, environment)

        def fill(match: re.Match) -> str:
            name = match.group("name")
            block = BLOCKS.get(name)
            if block is None:
                raise SystemExit(f"README.md names an unknown block {name!r}; known: {', '.join(BLOCKS)}")
            if args.only and name not in args.only:
                return match.group(0)
            if any(not (folder / needed).exists() for needed in block.needs_shared):
                print(f"kept {name}: {', '.join(block.needs_shared)} not found in {SHARED_LOGS}", file=sys.stderr)
                return match.group(0)
            fence = match.group(0).split("\n")[1]
            return f"<!-- readme-output: {name} -->\n{fence}\n{run_block(block, folder, environment)}```"

        fresh = MARKER.sub(fill, text)
    if args.check:
        if fresh != text:
            print("README.md's outputs are stale: run python scripts/readme_outputs.py", file=sys.stderr)
            return 1
        print("README.md's outputs are current")
        return 0
    README.write_text(fresh, encoding="utf-8")
    print(f"rewrote {len(MARKER.findall(fresh))} blocks of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
