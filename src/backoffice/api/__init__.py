"""The HTTP API: every capability of Backoffice behind one authenticated server (FastAPI on Uvicorn).

    from backoffice.api import ApiSettings, create_app
    app = create_app(ApiSettings(database="backoffice.db"))

Run it with `backoffice serve`. The server authenticates; the engine's core decides.
"""

from backoffice.api.app import create_app
from backoffice.api.principal import Authenticator, Principal
from backoffice.services.settings import ApiSettings, load_settings

__all__ = ["ApiSettings", "Authenticator", "Principal", "create_app", "load_settings"]
