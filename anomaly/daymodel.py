"""A model of this person's normal days (scikit-learn IsolationForest over daily features), per home.

Trained on a schedule from the home's own finished days and kept with its version; a finished day that
scores below every training day by a margin is reported, with the features that differ most in words.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from anomaly.baseline import quantile
from anomaly.clock import duration, hhmm
from anomaly.state import Day

FEATURES: tuple[str, ...] = (
    "wake",
    "bed",
    "night_toilet",
    "meals",
    "out_min",
    "kitchen",
    "lounge",
    "bedroom",
    "bathroom",
    "hallway",
    "doors",
    "bath_max",
    "day_quiet_max",
    "activity",
)
_COUNTS = frozenset({"kitchen", "lounge", "bedroom", "bathroom", "hallway", "doors", "activity"})
_WORDS = {
    "wake": "up at",
    "bed": "to bed at",
    "night_toilet": "night toilet visits",
    "meals": "meals",
    "out_min": "time out",
    "doors": "front door openings",
    "bath_max": "longest bathroom visit",
    "day_quiet_max": "longest quiet spell in the day",
    "activity": "sensor activity",
}


def features(day: Day) -> list[float]:
    """The day as numbers (NaN where unknown, e.g. no wake time)."""
    rooms = day.rooms
    values = {
        "wake": day.wake if day.wake is not None else math.nan,
        "bed": day.bed if day.bed is not None else math.nan,
        "night_toilet": float(day.night_toilet),
        "meals": float(day.meals),
        "out_min": day.out_min,
        "kitchen": float(rooms.get("kitchen", 0)),
        "lounge": float(rooms.get("lounge", 0)),
        "bedroom": float(rooms.get("bedroom", 0)),
        "bathroom": float(rooms.get("bathroom", 0)),
        "hallway": float(rooms.get("hallway", 0)),
        "doors": float(sum(day.door_hours)),
        "bath_max": day.bath_max,
        "day_quiet_max": max([g for g in day.gaps[8:21] if g >= 0] or [0.0]),
        "activity": float(day.activity),
    }
    return [math.log1p(values[f]) if f in _COUNTS else values[f] for f in FEATURES]


@dataclass(slots=True, frozen=True)
class DayModel:
    """A trained model of one home's normal days."""

    version: int
    trained_day: int
    n_days: int
    medians: list[float]
    scales: list[float]
    threshold: float
    forest: Any

    def scale(self, raw: list[float]) -> np.ndarray[Any, Any]:
        """Robust z-scores, unknown values set to the median."""
        row = [
            0.0 if math.isnan(v) else (v - m) / s
            for v, m, s in zip(raw, self.medians, self.scales, strict=True)
        ]
        return np.array([row])

    def score(self, day: Day) -> tuple[float, np.ndarray[Any, Any]]:
        """The day's normality (lower: stranger) and its scaled features."""
        row = self.scale(features(day))
        return float(self.forest.score_samples(row)[0]), row[0]

    def to_bytes(self) -> bytes:
        """The model for the database."""
        return pickle.dumps(self)

    @staticmethod
    def from_bytes(blob: bytes) -> DayModel:
        """A model back from the database (our own table, written by train())."""
        model = pickle.loads(blob)
        assert isinstance(model, DayModel)
        return model


def train(days: list[Day], *, version: int, trained_day: int, margin: float) -> DayModel:
    """Fit the model on the home's recent finished days."""
    raw = [features(d) for d in days]
    columns = list(zip(*raw, strict=True))
    medians, scales = [], []
    for col in columns:
        known = [v for v in col if not math.isnan(v)] or [0.0]
        mid = quantile(known, 0.5)
        spread = quantile(known, 0.75) - quantile(known, 0.25)
        medians.append(mid)
        scales.append(max(spread, 0.1 * abs(mid), 1.0))
    model = DayModel(version, trained_day, len(days), medians, scales, 0.0, None)
    matrix = np.vstack([model.scale(r) for r in raw])
    forest = IsolationForest(n_estimators=60, random_state=version, max_samples=min(64, len(days)))
    forest.fit(matrix)
    threshold = float(forest.score_samples(matrix).min()) - margin
    return DayModel(version, trained_day, len(days), medians, scales, threshold, forest)


def explain(model: DayModel, day: Day, scaled: np.ndarray[Any, Any], limit: int = 3) -> list[str]:
    """The features furthest from normal, in words: 'up at 10:40 (usually 08:30)'."""
    raw = features(day)
    order = sorted(range(len(FEATURES)), key=lambda i: -abs(float(scaled[i])))
    out = []
    for index in order[:limit]:
        name = FEATURES[index]
        value, usual = raw[index], model.medians[index]
        if math.isnan(value):
            out.append(f"no {_WORDS.get(name, name)} seen")
            continue
        if name in _COUNTS:
            value, usual = math.expm1(value), math.expm1(usual)
        words = _WORDS.get(name, name + " movements")
        out.append(f"{words} {_fmt(name, value)} (usually {_fmt(name, usual)})")
    return out


def _fmt(name: str, value: float) -> str:
    if name in ("wake", "bed"):
        return hhmm(value)
    if name in ("out_min", "bath_max", "day_quiet_max"):
        return duration(value * 60)
    return f"{value:.0f}"
