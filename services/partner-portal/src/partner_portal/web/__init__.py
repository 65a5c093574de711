"""The partner dashboard's web pages (server-rendered, htmx for fragments), on the portal's
service layer. `install()` adds them to the portal's app under `/`."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from partner_portal.web import access, capacity, figures, pages, people

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.include_router(access.router)
    for module in (pages, figures, people, capacity):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
