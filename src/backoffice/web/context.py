"""What every page reaches: the engine, the clock, settings, visibility, evidence, limits, accounts and sessions.

Built once by `create_web_app` and kept on `app.state.web`; a page takes it with the `Web`
dependency:

    @router.get("/things")
    def things(web: Web, user: CurrentUser, request: Request): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from backoffice.engine import Engine
from backoffice.services.accounts import LocalAccounts
from backoffice.services.evidence_files import EvidenceFiles
from backoffice.services.intake_limits import IntakeLimiter
from backoffice.services.settings import ServerSettings
from backoffice.services.visibility import Visibility
from backoffice.store.account_store import AccountStore
from backoffice.web.public_limits import PublicLimits


@dataclass
class WebServices:
    """The shared services one web app runs on.

    Attributes:
        cookie_key: the secret that signs the app's cookies (from the database, shared by every process).
        intake: the limit on cases started per person a minute (the API's, per process).
        sign_ins: the limit on sign-in attempts per client address a minute (per process).
        public: the limits of the public forms, per client address and per workflow (per process).
    """

    settings: ServerSettings
    engine: Engine
    clock: Callable[[], datetime]
    visibility: Visibility
    evidence: EvidenceFiles
    intake: IntakeLimiter
    sign_ins: IntakeLimiter
    accounts: LocalAccounts
    sessions: AccountStore
    cookie_key: bytes
    public: PublicLimits = field(default_factory=PublicLimits)


def web_services(request: Request) -> WebServices:
    return request.app.state.web


Web = Annotated[WebServices, Depends(web_services)]
