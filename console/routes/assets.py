"""The console's own static files and the browser libraries installed from npm (console/node_modules):
an allow-list, so nothing else under node_modules is ever served."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from console.route import ConsoleRoute, not_found

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
VENDOR = ROOT / "node_modules"
# The one file each library is used through; `make console-assets` installs them (package-lock.json).
VENDOR_FILES = {
    "htmx.min.js": VENDOR / "htmx.org" / "dist" / "htmx.min.js",
    "uPlot.iife.min.js": VENDOR / "uplot" / "dist" / "uPlot.iife.min.js",
    "uPlot.min.css": VENDOR / "uplot" / "dist" / "uPlot.min.css",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
_CACHE = {"Cache-Control": "public, max-age=3600"}


def _file(path: Path) -> Response | None:
    if not path.is_file():
        return None
    return FileResponse(path, media_type=_TYPES.get(path.suffix, "application/octet-stream"), headers=_CACHE)


@router.get("/static/{name}")
async def static(name: str, request: Request) -> Response:
    """One of the console's own files (console/static)."""
    path = (STATIC / name).resolve()
    found = _file(path) if path.parent == STATIC.resolve() else None
    return found or not_found(request)


@router.get("/vendor/{name}")
async def vendor(name: str, request: Request) -> Response:
    """One of the allowed library files from console/node_modules."""
    path = VENDOR_FILES.get(name)
    found = _file(path) if path is not None else None
    return found or not_found(request)


@router.get("/{rest:path}")
async def nothing_here(rest: str, request: Request) -> Response:
    """Any other console address: the plain 404 page."""
    return not_found(request)
