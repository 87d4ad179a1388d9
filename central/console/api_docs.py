"""The API's Swagger UI at /api/docs, served from the fastapi-offline package's copy of its files: the page
loads nothing from other sites, so it runs under the same Content-Security-Policy as every other page."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from central.console.view import render

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS_PATH = "/api/docs/assets"
router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", None, assets=ASSETS_PATH)
