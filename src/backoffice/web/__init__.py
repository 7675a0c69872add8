"""The web app: server-rendered pages (Jinja2, vendored htmx) over the same services as the API.

    from backoffice.web import create_web_app
    app = create_web_app(settings, engine=engine, clock=clock)

`backoffice serve` serves it at / beside the API at /v1 (see `backoffice.server`). Pages call
the engine through `backoffice.services`, never the API over HTTP; every act passes the
engine's gate. See `app.py` for what a page module provides.
"""

from backoffice.web.app import create_web_app

__all__ = ["create_web_app"]
