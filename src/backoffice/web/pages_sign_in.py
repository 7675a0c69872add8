"""Signing in and out with a local account (the directory's person id and an Argon2id-checked password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from backoffice.errors import SignInRefused, TooManyRequests
from backoffice.web.context import Web
from backoffice.web.render import local_path, redirect, render
from backoffice.web.sessions import OptionalUser, close_session, open_session

router = APIRouter()


@router.get("/sign-in")
def sign_in_page(request: Request, user: OptionalUser, next: str = "/"):
    if user is not None:
        return redirect(request, local_path(next))
    return render(request, "sign_in.html", {"next": local_path(next), "person": "", "error": None})


@router.post("/sign-in")
def sign_in(request: Request, web: Web, person: Annotated[str, Form(max_length=200)] = "",
            password: Annotated[str, Form(max_length=1024)] = "", next: Annotated[str, Form(max_length=2000)] = "/"):
    now = web.clock()
    client = request.client.host if request.client else "unknown"
    try:
        web.sign_ins.admit(f"sign-in:{client}", now)
        person_id = web.accounts.verify(person, password, now=now)
    except (SignInRefused, TooManyRequests) as refused:
        status = 429 if isinstance(refused, TooManyRequests) else 401
        message = ("too many sign-in attempts from this address; wait a minute and try again"
                   if status == 429 else str(refused))
        return render(request, "sign_in.html", {"next": local_path(next), "person": person, "error": message},
                      status=status)
    response = redirect(request, local_path(next))
    # A new session each time (never one the browser brought), and the one it had ends.
    close_session(request, response, now=now)
    open_session(request, response, person_id, now=now)
    return response


@router.post("/sign-out")
def sign_out(request: Request, web: Web):
    response = redirect(request, "/sign-in", flash="You are signed out.")
    close_session(request, response, now=web.clock())
    return response
