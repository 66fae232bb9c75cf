"""The marketer's side of the service, as two small FastAPI apps the BentoML service mounts (FastAPI
because BentoML lists a mounted FastAPI app's routes in the service's OpenAPI, /docs.json):

- `/marketer`: the page itself (static HTML + JS, no CDN): pick an action and a size or budget, see
  expected incremental conversions, cost, ROI and the predicted uplift curve, download the audience,
  read campaign results. It holds no data, so it stays open when an API key guards the rest; the page
  sends the key it is given as the X-API-Key header.
- `/campaigns`: GET /campaigns/actions (what the page offers), GET /campaigns/results (every launched
  or measured campaign with its launch summary and `nudge measure` results) and
  GET /campaigns/{campaign_id}/audience.csv (the launched audience).

Paths are resolved per request from the environment, like everything the service reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from campaigns.launch import CAMPAIGN_ID, campaigns_root, read_json
from configs.runtime import runtime_paths

log = logging.getLogger(__name__)

Catalogue = Callable[[], list[dict[str, Any]]]


class ActionEntry(BaseModel):
    name: str
    description: str
    channel: str
    modelled: bool  # has an uplift model, so an audience can be built for it


class CampaignRecord(BaseModel):
    campaign_id: str
    launch: dict[str, Any] | None  # the launch summary, if launched by this service
    results: dict[str, Any] | None  # `nudge measure` results, once measured
    download: str | None  # the audience CSV, if launched here


class ErrorBody(BaseModel):
    error: str


def _mounted(title: str) -> FastAPI:
    # BentoML builds the OpenAPI of what it mounts: no docs routes of the app's own.
    return FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None)


def marketer_app() -> FastAPI:
    app = _mounted("marketer")

    @app.get("/", response_class=HTMLResponse, summary="The marketer page")
    async def page() -> Response:
        html = resources.files("campaigns").joinpath("static/marketer.html").read_text()
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return app


def campaign_app(catalogue: Catalogue) -> FastAPI:
    app = _mounted("campaigns")

    @app.get("/actions", summary="Every configured action and whether it has an uplift model")
    async def actions() -> list[ActionEntry]:
        return [ActionEntry.model_validate(entry) for entry in catalogue()]

    @app.get("/results", summary="Every launched or measured campaign, newest first")
    async def results() -> list[CampaignRecord]:
        return [CampaignRecord.model_validate(record) for record in campaign_records()]

    @app.get(
        "/{campaign_id}/audience.csv",
        response_class=FileResponse,
        summary="The launched audience of a campaign",
        responses={
            200: {"content": {"text/csv": {}}},
            400: {"model": ErrorBody, "description": "not a valid campaign id"},
            404: {"model": ErrorBody, "description": "no audience launched under that id"},
        },
    )
    async def download(campaign_id: str) -> Response:
        if not CAMPAIGN_ID.match(campaign_id):
            return JSONResponse({"error": f"campaign id {campaign_id!r} is not valid"}, status_code=400)
        path = campaigns_root(runtime_paths()) / campaign_id / "audience.csv"
        if not path.is_file():
            return JSONResponse({"error": f"no launched audience {campaign_id!r}"}, status_code=404)
        return FileResponse(path, media_type="text/csv", filename=f"{campaign_id}.csv")

    return app


def campaign_records() -> list[dict[str, Any]]:
    """Every campaign folder: its launch summary (if launched here) and its measurement (if measured).
    A file that is not such a record is left out with a warning naming it: one broken campaign must
    not hide the others."""
    root = campaigns_root(runtime_paths())
    records = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        launch = _record_file(folder / "summary.json", "summary", "as_of")
        result = _record_file(folder / "results.json", "start")
        if launch is None and result is None:
            continue
        records.append(
            {
                "campaign_id": folder.name,
                "launch": launch["summary"] if launch else None,
                "results": result,
                "download": f"/campaigns/{folder.name}/audience.csv" if launch else None,
            }
        )
    return sorted(records, key=_started, reverse=True)


def _record_file(path: Path, *keys: str) -> dict[str, Any] | None:
    """The JSON object in `path`, None if there is none; None with a warning if it is not JSON or
    lacks the nested `keys` the list reads (a record sorts by them)."""
    try:
        data = read_json(path)
        if data is None:
            return None
        part: Any = data
        for key in keys:
            part = part[key]
    except (OSError, ValueError, KeyError, TypeError) as err:  # ValueError: not JSON, not UTF-8
        log.warning("%s: left out of the campaign results, not a readable record (%r)", path, err)
        return None
    return data


def _started(record: dict[str, Any]) -> str:
    if record["results"]:
        return str(record["results"]["start"])
    return str(record["launch"]["as_of"])
