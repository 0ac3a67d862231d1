"""The upload page for the office: upload a spreadsheet, see the preview, import, download.

    bookings-import serve [--config FILE] [--host 127.0.0.1] [--port 8080] [--sandbox]

A small aiohttp.web application (``app.py``) over the same pipeline as ``run``: uploads are
checked and kept in a private folder (``uploads.py``), the preview is ``importer.previewer``'s
(a dry run without reports), imports run in the event loop one per business (``runs.py``), and
``security.py`` holds the password, CSRF and header rules. HTML is built in ``pages.py``; the
stylesheet and the one script are in ``static/``.

Takes a config and a way to sign in; gives the page and its JSON answers. It must not read a
workbook except through the one gate (``gate.py``), nor let another part import it: it sits
beside the command line, at the top. Within it calls run one way: ``app`` (the routes) to the
handlers ``intake`` (a file in), ``choices`` (its preview and mapping) and ``launch`` (its
import), these to ``gate`` and ``replies`` (every answer and refusal), and all to ``state``.
"""

from .app import WebSettings, create_app
from .server import RunningApp, ServeOptions, running_app, serve, web_settings

__all__ = ["RunningApp", "ServeOptions", "WebSettings", "create_app", "running_app", "serve",
           "web_settings"]
