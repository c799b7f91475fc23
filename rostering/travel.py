"""Travel times between locations: great-circle with a road factor by default, or a routing server's table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import numpy as np
from numpy.typing import NDArray

from rostering.model import GeoPoint, TravelMode

EARTH_RADIUS_M = 6_371_008.8


class TravelMatrix(Protocol):
    """Anything that gives travel seconds between every pair of points for a travel mode."""

    def durations(self, points: Sequence[GeoPoint], mode: TravelMode) -> NDArray[np.int64]:
        """Seconds from points[i] to points[j], as an n x n integer matrix."""
        ...


@dataclass(slots=True, frozen=True)
class ModeSpeed:
    """How fast a mode goes on roads, how much longer roads are than the crow flies, and a fixed overhead."""

    kmh: float
    road_factor: float
    overhead_s: int  # parking, locking a bike, waiting for a bus


def _default_speeds() -> dict[TravelMode, ModeSpeed]:
    # Town speeds, not motorway ones: home care happens in streets with junctions and parking.
    return {
        TravelMode.CAR: ModeSpeed(kmh=30.0, road_factor=1.35, overhead_s=120),
        TravelMode.BICYCLE: ModeSpeed(kmh=15.0, road_factor=1.25, overhead_s=60),
        TravelMode.WALK: ModeSpeed(kmh=4.8, road_factor=1.25, overhead_s=0),
        TravelMode.PUBLIC_TRANSPORT: ModeSpeed(kmh=18.0, road_factor=1.4, overhead_s=360),
    }


def great_circle_m(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def great_circle_matrix_m(points: Sequence[GeoPoint]) -> NDArray[np.float64]:
    """All pairwise haversine distances in metres, vectorised."""
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    dphi = lat[None, :] - lat[:, None]
    dlmb = lon[None, :] - lon[:, None]
    h = np.sin(dphi / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=np.float64)


@dataclass(slots=True, frozen=True)
class GreatCircleTravel:
    """The default: crow-flies distance times a road factor, at a town speed per mode."""

    speeds: dict[TravelMode, ModeSpeed] = field(default_factory=_default_speeds)

    def durations(self, points: Sequence[GeoPoint], mode: TravelMode) -> NDArray[np.int64]:
        """Seconds between every pair; zero on the diagonal and between identical points."""
        speed = self.speeds[mode]
        metres = great_circle_matrix_m(points) * speed.road_factor
        seconds = metres / (speed.kmh / 3.6) + speed.overhead_s
        seconds[metres < 1.0] = 0.0
        return np.rint(seconds).astype(np.int64)


class TravelServiceError(Exception):
    """The routing server did not answer with a usable table."""


_OSRM_PROFILES = {
    TravelMode.CAR: "driving",
    TravelMode.BICYCLE: "cycling",
    TravelMode.WALK: "foot",
    TravelMode.PUBLIC_TRANSPORT: "driving",  # OSRM has no transit; a car's time is the nearest it has
}


@dataclass(slots=True)
class OsrmTravel:
    """An OSRM server's table service, asked in blocks (servers cap the table size)."""

    base_url: str
    client: httpx.Client
    block: int = 100

    def durations(self, points: Sequence[GeoPoint], mode: TravelMode) -> NDArray[np.int64]:
        """Seconds between every pair, from the server; a missing route is an error, never a zero."""
        n = len(points)
        out = np.zeros((n, n), dtype=np.int64)
        for i0 in range(0, n, self.block):
            for j0 in range(0, n, self.block):
                rows = list(range(i0, min(n, i0 + self.block)))
                cols = list(range(j0, min(n, j0 + self.block)))
                out[np.ix_(rows, cols)] = self._table(points, rows, cols, mode)
        return out

    def _table(
        self, points: Sequence[GeoPoint], rows: list[int], cols: list[int], mode: TravelMode
    ) -> NDArray[np.int64]:
        wanted = sorted(set(rows) | set(cols))
        pos = {idx: k for k, idx in enumerate(wanted)}
        coords = ";".join(f"{points[i].lon:.6f},{points[i].lat:.6f}" for i in wanted)
        url = f"{self.base_url.rstrip('/')}/table/v1/{_OSRM_PROFILES[mode]}/{coords}"
        params = {
            "sources": ";".join(str(pos[i]) for i in rows),
            "destinations": ";".join(str(pos[j]) for j in cols),
            "annotations": "duration",
        }
        try:
            response = self.client.get(url, params=params)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TravelServiceError(f"routing table request failed: {exc}") from exc
        if body.get("code") != "Ok" or "durations" not in body:
            raise TravelServiceError(
                f"routing table answered {body.get('code')!r}: {body.get('message', '')}"
            )
        table = body["durations"]
        if any(value is None for row in table for value in row):
            raise TravelServiceError("routing table has pairs with no route")
        return np.rint(np.array(table, dtype=np.float64)).astype(np.int64)
