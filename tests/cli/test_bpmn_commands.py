"""`backoffice bpmn import` and `backoffice bpmn export` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lxml import etree

from backoffice.definitions import LIBRARY, load_definition

MODELS = Path(__file__).resolve().parents[1] / "data" / "bpmn"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          timeout=300)


def test_import_writes_the_draft_and_says_what_it_could_not_express(tmp_path):
    output = tmp_path / "publication.yaml"
    result = run("bpmn", "import", str(MODELS / "camunda-job-announcement-publication.bpmn"), "-o", str(output))
    assert result.returncode == 0, result.stderr
    # The split and join are a parallel state now; each branch's choice to skip itself is what is listed.
    assert "not expressible in a definition (2)" in result.stdout
    assert "line 13: parallelGateway 'Gateway_0z7rp9m': the branch through 'Flow_0yh3hl2'" in result.stdout
    assert "line 13: parallelGateway 'Gateway_0z7rp9m': the branch through 'Flow_16s641f'" in result.stdout
    assert "to fill in by a person" in result.stdout
    assert "backoffice check: 0 errors" in result.stdout
    assert load_definition(output).id == "job-announcement-publication-subprocess"
    check = run("check", str(output))
    assert check.returncode == 0, check.stdout


def test_a_collaboration_imports_its_first_process_and_lists_the_choice_unless_one_is_named(tmp_path):
    output = tmp_path / "out.yaml"
    listed = run("bpmn", "import", str(MODELS / "bpmnio-pizza-collaboration.bpmn"), "-o", str(output))
    assert listed.returncode == 0, listed.stderr
    assert "imported process _6-1 (Pizza vendor)" in listed.stdout
    assert "left out: _6-2 (Pizza Customer, line 67) (--process ID imports one of them)" in listed.stdout
    chosen = run("bpmn", "import", str(MODELS / "bpmnio-pizza-collaboration.bpmn"), "--process", "_6-2",
                 "-o", str(output), "--force")
    assert chosen.returncode == 0, chosen.stderr
    assert "line 79: eventBasedGateway '_6-180'" in chosen.stdout


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    not_xml = tmp_path / "model.bpmn"
    not_xml.write_text("<definitions><process>")
    output = tmp_path / "out.yaml"
    result = run("bpmn", "import", str(not_xml), "-o", str(output))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {not_xml}, line 1: is not well-formed XML")
    assert "Traceback" not in result.stderr and not output.exists()
    missing = run("bpmn", "export", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.bpmn"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert not (tmp_path / "x.bpmn").exists()


def test_export_writes_bpmn_that_imports_back(tmp_path):
    bpmn = tmp_path / "service-request.bpmn"
    result = run("bpmn", "export", str(LIBRARY / "service-request.yaml"), "-o", str(bpmn))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {bpmn}: 7 states in")
    root = etree.parse(str(bpmn)).getroot()
    assert root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}collaboration") is not None
    back = run("bpmn", "import", str(bpmn), "-o", str(tmp_path / "service-request.yaml"))
    assert back.returncode == 0, back.stderr
    assert "not expressible" not in back.stdout


def test_an_existing_output_is_replaced_only_with_force(tmp_path):
    output = tmp_path / "vacation.yaml"
    output.write_text("# my edits\n")
    source = str(MODELS / "flowable-vacation-request.bpmn20.xml")
    refused = run("bpmn", "import", source, "-o", str(output))
    assert refused.returncode == 2 and "it exists; use --force to replace it" in refused.stderr
    assert output.read_text() == "# my edits\n"
    replaced = run("bpmn", "import", source, "-o", str(output), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert load_definition(output).id == "vacation-request"
