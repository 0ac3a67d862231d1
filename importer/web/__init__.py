"""The upload page for the office: upload a spreadsheet, see the preview, import, download.

    bookings-import serve [--config FILE] [--host 127.0.0.1] [--port 8080] [--sandbox]

A small aiohttp.web application (``app.py``) over the same pipeline as ``run``: uploads are
checked and kept in a private folder (``uploads.py``), the preview is ``importer.previewer``'s
(a dry run without reports), imports run in the event loop one per business (``runs.py``), and
``security.py`` holds the password, CSRF and header rules. HTML is built in ``pages.py``; the
stylesheet and the one script are in ``static/``.
"""

from .app import WebSettings, create_app
from .server import RunningApp, ServeOptions, running_app, serve, web_settings

__all__ = ["RunningApp", "ServeOptions", "WebSettings", "create_app", "running_app", "serve",
           "web_settings"]
