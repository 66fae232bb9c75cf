"""GET /campaigns/results: every readable campaign record, even when another campaign's files are
broken; a broken file is left out with a warning naming it."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest

from campaigns.page import campaign_app

LAUNCH = {
    "summary": {"campaign_id": "spring", "action": "welcome_coupon", "as_of": "2025-05-01"},
    "curve": [],
}
RESULTS = {"campaign_id": "winter", "start": "2025-01-10", "lift": 0.01}


@pytest.fixture
def campaigns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NUDGE_DATA_DIR", str(tmp_path))
    root = tmp_path / "campaigns"
    for name, files in {
        "spring": {"summary.json": json.dumps(LAUNCH).encode()},
        "winter": {"results.json": json.dumps(RESULTS).encode()},
        "junk": {"summary.json": b"{not json"},
        "listed": {"summary.json": b"[1, 2]"},
        "undated": {"summary.json": json.dumps({"summary": {"action": "x"}}).encode()},
        "half": {"summary.json": json.dumps(LAUNCH).encode(), "results.json": b"\xff\xfe not UTF-8"},
    }.items():
        (root / name).mkdir(parents=True)
        for file, content in files.items():
            (root / name / file).write_bytes(content)
    return root


def get_results() -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=campaign_app(list))
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:
            return await client.get("/results")

    return asyncio.run(get())


def test_broken_records_are_left_out_and_named(campaigns: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="campaigns.page"):
        response = get_results()
    assert response.status_code == 200
    records = {record["campaign_id"]: record for record in response.json()}
    assert list(records) == ["half", "spring", "winter"]  # newest first
    assert records["spring"]["launch"] == LAUNCH["summary"]
    assert records["spring"]["download"] == "/campaigns/spring/audience.csv"
    assert records["winter"]["results"] == RESULTS
    # The launch of `half` still shows; its unreadable measurement does not.
    assert records["half"]["launch"] == LAUNCH["summary"] and records["half"]["results"] is None
    warned = sorted(record.getMessage().split(":")[0] for record in caplog.records)
    broken = ["half/results.json", "junk/summary.json", "listed/summary.json", "undated/summary.json"]
    assert warned == [str(campaigns / path) for path in broken]
