"""``POST /uploads/{id}/start``: the import of a previewed upload, handed to the run board.

The import opens its file through the one gate (gate.py), and lets it go as soon as the run
says the file is open (or when the run ends); the upload is deleted when its import ends. The
run itself, its progress and its reports are runs.py's; nothing here reads the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from . import gate, memory, replies
from .replies import preview_page, refuse, too_large, upload_of, wants_json
from .runs import RunRefused
from .security import CSRF_FIELD, CSRF_HEADER
from .state import config_of, state_of


def _once(action: Callable[[], object]) -> Callable[[], None]:
    done = False

    def call() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return call


async def _when_set(event: asyncio.Event, then: Callable[[], None]) -> None:
    await event.wait()
    then()


async def start(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return too_large(request, "the form is too large")
    token = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    refused = state.csrf.check(request, token)  # before the upload is looked up
    if refused:
        return refuse(request, 403, refused)
    found = upload_of(request)
    if found.preview is None:
        return refuse(request, 409, "choose the file's encoding first")
    # The import opens its input through the gate the previews take: not beside a workbook
    # being read, and none is read beside it while it opens (its read then counts against the
    # process's one read budget for as long as it runs). The run opens it in a worker thread,
    # so the page answers meanwhile, and says so with ``run.opened``: the gate is let go then
    # (or when the run ends, should the open fail), never held through sign-in or sending.
    try:
        await gate.enter(state)
    except gate.Busy:
        return replies.busy(request, found, again="start the import again")
    opened = _once(state.reading.release)
    try:
        run = await state.board.start(found.path, input_name=found.name,
                                      total=int(found.preview["rows"]), sheet=found.sheet,
                                      columns=found.columns,
                                      config=config_of(state.config, found))
        found.importing = True
        assert run.task is not None
        letting_go = asyncio.create_task(_when_set(run.opened, opened),
                                         name=f"gate of {run.id}")

        def ended(_task: object) -> None:
            letting_go.cancel()
            opened()
            memory.give_back()  # what the import's read held goes back to the system

        run.task.add_done_callback(ended)
        # The file is deleted once its import has read it to the end, however it ended.
        run.task.add_done_callback(lambda _task: state.uploads.discard(found.id))
    except RunRefused as exc:
        opened()
        message = str(exc)
        if wants_json(request):
            return web.json_response({"error": message}, status=409)
        return preview_page(request, found, status=409, error=message)
    except BaseException:
        opened()
        raise
    if wants_json(request):
        return web.json_response({"run_id": run.id, "run_url": f"/runs/{run.id}",
                                  "status_url": f"/runs/{run.id}/status.json"}, status=202)
    raise web.HTTPSeeOther(f"/runs/{run.id}")

