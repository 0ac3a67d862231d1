"""The upload page under attack, round two: each break found by probing `serve --sandbox`,
reproduced against the real server process (tests/serving.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.deadlines import HANG
from tests.serving import Browser, page_config, serve

from .bombs import shared_strings_bomb

CSV = b"Name,Email\nAnn,a@x.org\n"
ON_LINUX = Path("/proc/self/status").exists()


# --- 1. the mapping step and the memory gate --------------------------------------------------


@pytest.mark.skipif(not ON_LINUX, reason="reads VmHWM from /proc")
async def test_six_mapping_changes_at_once_keep_the_server_within_one_read(tmp_path: Path) -> None:
    """A workbook near the budget is uploaded (read once), then six mapping changes arrive at
    once. Each re-reads the workbook, through the one gate: the server's peak stays within
    what it held at rest (the program's own) plus the budget. Without the gate, six reads at
    once held six budgets (the probe's server: 5.7 GB for a 1 GiB budget)."""
    budget = 128
    config = page_config(tmp_path, f"[limits]\nmax_read_mb = {budget}")
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx", strings_mib=48, sheet_mib=9).read_bytes()
    async with serve(tmp_path, config) as served, Browser(served) as browser:
        status, warm, _ = await browser.upload("warm.csv", CSV)  # the readers imported
        assert status == 201, warm
        at_rest = served.high_water_mib()

        status, body, _ = await browser.upload("bomb.xlsx", bomb)
        assert status == 201, body
        assert isinstance(body, dict)
        after_upload = served.high_water_mib()
        upload_id = body["upload_id"]
        choices = [{"Email": "ignore"}, {"Email": "emailAddress"}] * 3
        answers = await asyncio.wait_for(
            asyncio.gather(*(browser.map_columns(upload_id, c) for c in choices)), HANG)

        statuses = sorted(status for status, _ in answers)
        assert set(statuses) <= {200, 503}, answers
        assert statuses.count(200) >= 1, statuses
        peak = served.high_water_mib()
        resting = served.resident_mib()
    print(f"at rest {at_rest:.0f} MiB, after the upload {after_upload:.0f} MiB, after six mapping "
          f"changes {peak:.0f} MiB (budget {budget} MiB); resident afterwards {resting:.0f} MiB")
    assert after_upload - at_rest > budget / 4, "the workbook was read (else this measures nothing)"
    assert peak - at_rest <= budget, f"peak {peak:.0f} MiB, {at_rest:.0f} MiB at rest"
