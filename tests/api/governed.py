"""A weakening version of the purchase approval (one vote instead of two) and a change approver, for HTTP tests."""

from __future__ import annotations

from .live_server import ADMIN, PURCHASE, Api

APPROVER = "cara"
"""Holds the change-approver role: approves a change somebody else deployed."""


def version_text(version: int = 2, *, quorum: int = 1) -> str:
    text = PURCHASE.read_text()
    assert "version: 1\n" in text and "quorum: 2\n" in text
    return text.replace("version: 1\n", f"version: {version}\n").replace("quorum: 2\n", f"quorum: {quorum}\n")


def add_change_approver(api: Api, person: str = APPROVER) -> None:
    api.engine.add_person(person, name=person.title(), actor=ADMIN, now=api.clock.now)
    api.engine.grant("change-approver", to=person, actor=ADMIN, now=api.clock.now)


def deploy_weaker(api: Api, person: str = ADMIN) -> dict:
    """Deploy the weakening version 2 over HTTP as `person`: it waits (202); return the answer's JSON."""
    answer = api.client(person).post("/v1/workflows", json={"definition": version_text()})
    assert answer.status_code == 202, answer.text
    return answer.json()
