"""`backoffice worker` and `dlq list|replay`, as an operator runs them, against a webhook on loopback."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ..directory_fixtures import WORKER_ACCOUNT, Login
from ..engine.automated_steps import ACTION, automated_text
from .test_engine_commands import PAYLOAD, backoffice, database  # noqa: F401 (fixtures)
from .test_engine_commands import TEMPLATE as TEMPLATE_FILE


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["content-length"]))
        self.server.keys.append(self.headers["idempotency-key"])
        self.send_response(200 if self.server.up else 503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.keys, server.up = [], False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_dead_letter_is_listed_and_replayed_from_the_command_line(database, backoffice, hook, tmp_path: Path):
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text(attempts=1))
    assert backoffice("deploy", str(definition), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    status, _, err = backoffice("case", "transition", "1", "notify", "--expected-version", "1", Login("bob"),
                                "--role", "service-desk")
    assert status == 0, err
    webhook = f"{ACTION}=http://127.0.0.1:{hook.server_address[1]}/hook"
    # The desk is down: nothing listens, so the call certainly did not reach it (a 503 might have
    # been answered after the effect, and would leave the step in doubt instead).
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = f"{ACTION}=http://127.0.0.1:{closed.getsockname()[1]}/hook"

    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--webhook", down)
    assert (status, out) == (0, "1 outbox entry: 0 done, 0 to retry, 1 dead, 0 to people, 0 in doubt\n"), err
    status, out, _ = backoffice("dlq", "list", "--json")
    [dead] = json.loads(out)
    assert (dead["case_id"], dead["action"], dead["status"]) == (1, ACTION, "dead")
    assert "failed" in dead["last_error"]

    status, out, _ = backoffice("dlq", "replay", str(dead["id"]), Login("ops-admin"))
    assert status == 0 and f"is pending again, key {dead['idempotency_key']}" in out
    hook.up = True
    status, out, _ = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--webhook", webhook)
    assert out == "1 outbox entry: 1 done, 0 to retry, 0 dead, 0 to people, 0 in doubt\n"
    assert backoffice("dlq", "list")[1] == "the dead-letter queue is empty\n"
    assert hook.keys == [dead["idempotency_key"]]
    status, out, _ = backoffice("case", "show", "1", "--json")
    assert json.loads(out)["state"] == "triage"


def test_replaying_an_unknown_entry_is_a_user_error(database, backoffice):
    status, _, err = backoffice("dlq", "replay", "7", Login("ops-admin"))
    assert status == 2 and "no outbox entry 7" in err


def test_a_webhook_option_without_a_url_is_a_user_error(database, backoffice):
    status, _, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--webhook", "notify_desk")
    assert status == 2 and "NAME=URL" in err


ACTIONS_FILE = f'''
from backoffice.engine.actions import ActionRegistry

registry = ActionRegistry()


@registry.action("{ACTION}")
def notify_desk(call):
    return {{"department": "told by " + call.idempotency_key}}
'''


def test_the_worker_runs_actions_from_a_python_file(database, backoffice, tmp_path: Path):
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text())
    backoffice("deploy", str(definition), Login("lead"))
    backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    backoffice("case", "transition", "1", "notify", "--expected-version", "1", Login("bob"), "--role", "service-desk")
    actions = tmp_path / "desk_actions.py"
    actions.write_text(ACTIONS_FILE)
    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--actions", f"{actions}:registry")
    assert (status, out) == (0, "1 outbox entry: 1 done, 0 to retry, 0 dead, 0 to people, 0 in doubt\n"), err
    case = json.loads(backoffice("case", "show", "1", "--json")[1])
    assert (case["state"], case["data"]["department"]) == ("triage", "told by service-request/1/notify/2")


def test_an_actions_file_that_is_missing_or_holds_no_registry_is_a_clear_error(database, backoffice, tmp_path):
    backoffice("deploy", str(TEMPLATE_FILE), Login("lead"))
    status, _, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--actions", f"{tmp_path / 'nowhere.py'}:registry")
    assert status == 2 and "nowhere.py" in err and "file.py:attribute" in err
    not_a_registry = tmp_path / "plain.py"
    not_a_registry.write_text("registry = 42\n")
    status, _, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--actions", f"{not_a_registry}:registry")
    assert status == 2 and "naming an ActionRegistry" in err


def test_a_worker_without_actions_leaves_the_steps_and_says_so(database, backoffice, tmp_path: Path):
    # Before: `worker --once` without --actions dead-lettered every due step and exited 0.
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text())
    assert backoffice("deploy", str(definition), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    assert backoffice("case", "transition", "1", "notify", "--expected-version", "1", Login("bob"),
                      "--role", "service-desk")[0] == 0
    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT))
    assert (status, out) == (0, f"left for a worker with their action: 1 step of {ACTION}; this worker has: none "
                                f"(see --actions and --webhook)\n"), err
    assert backoffice("dlq", "list")[1] == "the dead-letter queue is empty\n"
    assert json.loads(backoffice("case", "show", "1", "--json")[1])["state"] == "notify"


def test_a_step_in_doubt_is_listed_and_confirmed_from_the_command_line(database, backoffice, tmp_path: Path):
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text(attempts=1))
    assert backoffice("deploy", str(definition), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    assert backoffice("case", "transition", "1", "notify", "--expected-version", "1", Login("bob"),
                      "--role", "service-desk")[0] == 0
    actions = tmp_path / "timing_out.py"
    actions.write_text(f"""
from backoffice.engine.actions import ActionFailed, ActionRegistry

registry = ActionRegistry()


@registry.action("{ACTION}")
def notify_desk(call):
    raise ActionFailed("read timed out after the request was sent")
""")
    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--actions", f"{actions}:registry")
    assert status == 0 and "1 in doubt" in out and "backoffice step in-doubt" in out, err
    [entry] = json.loads(backoffice("step", "in-doubt", "--json")[1])
    assert entry["status"] == "in_doubt"
    status, _, err = backoffice("step", "confirm", str(entry["id"]), "--not-happened", Login("dora"),
                                "--role", "service-desk")
    assert status == 2 and "--retry" in err
    # The role is the directory's to grant: carl (a resolver) cannot confirm by claiming the desk's role.
    status, _, err = backoffice("step", "confirm", str(entry["id"]), "--happened", "--result",
                                '{"department": "desk"}', Login("carl"), "--role", "service-desk")
    assert status == 2 and "carl does not hold the role 'service-desk'" in err
    assert backoffice("step", "in-doubt", "--json")[1].count('"in_doubt"') == 1
    status, _, err = backoffice("step", "confirm", str(entry["id"]), "--happened", "--result",
                                '{"department": "desk"}', Login("dora"), "--as", " ", "--role", "service-desk")
    assert status == 2 and "the actor: the id is blank" in err
    status, out, err = backoffice("step", "confirm", str(entry["id"]), "--happened", "--result",
                                  '{"department": "desk"}', Login("dora"), "--role", "service-desk")
    assert (status, out) == (0, f"outbox entry {entry['id']} confirmed done: case 1 is in triage\n"), err
    assert backoffice("step", "in-doubt")[1] == "no step is in doubt\n"


def test_the_worker_command_runs_as_its_authenticated_account_and_refuses_one_without_the_worker_role(
        database, backoffice, tmp_path: Path):
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text())
    assert backoffice("deploy", str(definition), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    # Nobody signed in (no token; the OS user is mapped to nobody): no worker runs.
    status, out, err = backoffice("worker", "--once")
    assert status == 2 and out == "" and "no identity" in err
    # A person of the desk holds no worker role: refused by name, before anything is claimed.
    status, out, err = backoffice("worker", "--once", Login("bob"))
    assert status == 2 and out == "" and "worker" in err and "bob" in err
