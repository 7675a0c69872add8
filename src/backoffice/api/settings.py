"""The server's settings, kept below the API and the web app (see `backoffice.services.settings`)."""

from backoffice.services.settings import ENV_PREFIX, SETTINGS_FILE_VARIABLE, ApiSettings, WebhookSource, load_settings

__all__ = ["ENV_PREFIX", "SETTINGS_FILE_VARIABLE", "ApiSettings", "WebhookSource", "load_settings"]
