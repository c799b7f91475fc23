"""Travel times: the great-circle default, and the routing server's table client."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from rostering.model import GeoPoint, TravelMode
from rostering.travel import GreatCircleTravel, OsrmTravel, TravelServiceError, great_circle_m

LONDON = GeoPoint(51.5074, -0.1278)
PARIS = GeoPoint(48.8566, 2.3522)


def test_great_circle_distance_matches_the_known_figure() -> None:
    assert great_circle_m(LONDON, PARIS) == pytest.approx(343_500, rel=0.005)


def test_default_matrix_is_symmetric_with_a_zero_diagonal_and_slower_on_foot() -> None:
    points = [LONDON, GeoPoint(51.52, -0.10), GeoPoint(51.50, -0.15)]
    travel = GreatCircleTravel()
    car = travel.durations(points, TravelMode.CAR)
    walk = travel.durations(points, TravelMode.WALK)
    assert (np.diag(car) == 0).all() and (car == car.T).all()
    assert (walk[0, 1:] > car[0, 1:]).all()
    # 2.3 km crow-flies at 30 km/h with a road factor of 1.35, plus two minutes to park.
    km = great_circle_m(points[0], points[1]) / 1000
    assert car[0, 1] == pytest.approx(km * 1.35 / 30 * 3600 + 120, abs=2)


def test_osrm_table_is_asked_in_blocks_and_assembled() -> None:
    asked: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        sources = [int(x) for x in request.url.params["sources"].split(";")]
        dests = [int(x) for x in request.url.params["destinations"].split(";")]
        return httpx.Response(
            200, json={"code": "Ok", "durations": [[10.0 * s + d for d in dests] for s in sources]}
        )

    points = [GeoPoint(51.5 + i / 100, -0.1) for i in range(5)]
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        seconds = OsrmTravel("http://osrm.test", client, block=2).durations(points, TravelMode.CAR)
    assert seconds.shape == (5, 5)
    assert len(asked) == 9 and "/table/v1/driving/" in str(asked[0])
    assert seconds[0, 1] == 1  # the first block: source 0, destination 1


def test_osrm_without_a_route_is_an_error_never_a_zero() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": "Ok", "durations": [[0.0, None], [None, 0.0]]})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client, pytest.raises(TravelServiceError):
        OsrmTravel("http://osrm.test", client).durations([LONDON, PARIS], TravelMode.CAR)
