"""The marketer's side of the service, as two small Starlette apps the BentoML service mounts:

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

from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from campaigns.launch import CAMPAIGN_ID, campaigns_root, read_json
from configs.runtime import runtime_paths

Catalogue = Callable[[], list[dict[str, Any]]]


def marketer_app() -> Starlette:
    async def page(request: Request) -> Response:
        html = resources.files("campaigns").joinpath("static/marketer.html").read_text()
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/", page, methods=["GET"])])


def campaign_app(catalogue: Catalogue) -> Starlette:
    async def actions(request: Request) -> Response:
        return JSONResponse(catalogue())

    async def results(request: Request) -> Response:
        return JSONResponse(campaign_records())

    async def download(request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]
        if not CAMPAIGN_ID.match(campaign_id):
            return JSONResponse({"error": f"campaign id {campaign_id!r} is not valid"}, status_code=400)
        path = campaigns_root(runtime_paths()) / campaign_id / "audience.csv"
        if not path.is_file():
            return JSONResponse({"error": f"no launched audience {campaign_id!r}"}, status_code=404)
        return FileResponse(path, media_type="text/csv", filename=f"{campaign_id}.csv")

    return Starlette(
        routes=[
            Route("/actions", actions, methods=["GET"]),
            Route("/results", results, methods=["GET"]),
            Route("/{campaign_id}/audience.csv", download, methods=["GET"]),
        ]
    )


def campaign_records() -> list[dict[str, Any]]:
    """Every campaign folder: its launch summary (if launched here) and its measurement (if measured)."""
    root = campaigns_root(runtime_paths())
    records = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        launch = read_json(folder / "summary.json")
        result = read_json(folder / "results.json")
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


def _started(record: dict[str, Any]) -> str:
    if record["results"]:
        return str(record["results"]["start"])
    return str(record["launch"]["as_of"])
