"""Putting the console into the API's FastAPI application (the composition root calls this)."""

from __future__ import annotations

from fastapi import FastAPI

from console.routes import assets, auth, board, carer, homes, settings, visit_board


def install_console(app: FastAPI) -> None:
    """Serve the console under /console; its catch-all 404 comes last."""
    for module in (auth, board, visit_board, homes, carer, settings, assets):
        app.include_router(module.router)
