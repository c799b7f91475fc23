"""Rostering's parts built from the settings: the travel matrix, the visit source, the background jobs."""

from __future__ import annotations

import asyncpg
import httpx

from kernel.settings import Settings
from rostering.jobs import RosterJobs
from rostering.travel import GreatCircleTravel, OsrmTravel, TravelMatrix
from rostering.visits_source import VisitsSource


def travel_from(settings: Settings) -> TravelMatrix:
    """An OSRM server's table where one is configured, else great-circle with town speeds."""
    if settings.rostering_osrm_url:
        return OsrmTravel(settings.rostering_osrm_url, httpx.Client(timeout=30.0))
    return GreatCircleTravel()


def jobs_from(settings: Settings, pool: asyncpg.Pool) -> RosterJobs:
    """The process's roster jobs over visits' storage."""
    return RosterJobs(
        pool, VisitsSource(window_s=settings.rostering_window_minutes * 60), travel_from(settings)
    )
