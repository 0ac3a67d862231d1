"""An emulator of the Microsoft Bookings customers API of Microsoft Graph, on aiohttp.web.

It behaves like Graph wherever the importer depends on it: URLs and percent-encoded ids, v1.0 and
beta schemas, status codes and error bodies, paging, four requests in flight per business, JSON
batching, and injected faults (throttling, 5xx, proxy pages, dropped connections, the
displayName bug). It also serves files as SharePoint and OneDrive do (drives, ``shares``
resolution of a sharing link or an item's URL, paged children, uploads, folders, moves, and a
second host for downloads that refuses a bearer token: ``emulator.files``). The end-to-end
tests, ``--sandbox`` and the benchmarks run the real client against it over 127.0.0.1.

    async with running_emulator(EmulatorSettings(latency=0.05)) as server:
        ...  # point the client at server.url; inspect server.emulator.customers(business_id)
"""

from .app import EMULATOR_KEY, create_app
from .faults import KINDS as FAULT_KINDS
from .faults import FaultRule
from .files import Drive, Files, Item
from .server import RunningEmulator, running_emulator, serve_forever
from .settings import SANDBOX_LIBRARY, EmulatorSettings
from .state import Counters, Emulator, LoggedRequest

__all__ = [
    "EMULATOR_KEY",
    "FAULT_KINDS",
    "SANDBOX_LIBRARY",
    "Counters",
    "Drive",
    "Emulator",
    "EmulatorSettings",
    "FaultRule",
    "Files",
    "Item",
    "LoggedRequest",
    "RunningEmulator",
    "create_app",
    "running_emulator",
    "serve_forever",
]
