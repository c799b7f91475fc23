"""Escalation policies: ordered steps (who, on which channels, how long to wait), repeats, a final step.

A policy is stored as JSON (notification_policies.steps, and snapshotted into each alert's chain, so a
change of policy never re-routes an alert already under way) and read into these dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

TargetKind = Literal["user", "circle", "carers", "coordinators", "webhook"]
Channel = Literal["email", "sms", "webpush", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "webpush", "webhook")


@dataclass(frozen=True, slots=True)
class Target:
    """Who a step tells: one person, the home's circle, its carers, the organisation's coordinators, or an
    organisation's webhook (e.g. the alarm receiving centre)."""

    kind: TargetKind
    id: UUID | None = None  # the user (kind user) or the contact point (kind webhook)


@dataclass(frozen=True, slots=True)
class Step:
    """One step: its targets, the channels to use, and how long to wait for an acknowledgement."""

    targets: tuple[Target, ...]
    channels: tuple[Channel, ...]
    wait_s: float


@dataclass(frozen=True, slots=True)
class Policy:
    """The chain: steps in order, repeated `repeats` more times after the last, non-critical delay."""

    steps: tuple[Step, ...]
    repeats: int = 0
    noncritical_delay_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """As stored."""
        return {
            "steps": [
                {
                    "targets": [
                        {"kind": t.kind, **({"id": str(t.id)} if t.id else {})} for t in step.targets
                    ],
                    "channels": list(step.channels),
                    "wait_s": step.wait_s,
                }
                for step in self.steps
            ],
            "repeats": self.repeats,
            "noncritical_delay_s": self.noncritical_delay_s,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Policy:
        """Read a policy as notification_policies stores it (its steps, repeats and delay in columns)."""
        return cls.from_json(
            {
                "steps": row["steps"],
                "repeats": row["repeats"],
                "noncritical_delay_s": row["noncritical_delay_s"],
            }
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        """Read a stored policy."""
        steps = tuple(
            Step(
                targets=tuple(
                    Target(t["kind"], UUID(t["id"]) if t.get("id") else None) for t in s["targets"]
                ),
                channels=tuple(s["channels"]),
                wait_s=float(s["wait_s"]),
            )
            for s in data["steps"]
        )
        return cls(
            steps=steps,
            repeats=int(data.get("repeats", 0)),
            noncritical_delay_s=float(data.get("noncritical_delay_s", 0)),
        )


# With no policy of the home's or the organisation's: the family first, then the carers, then the
# coordinators, five minutes apart, on every channel each person has.
DEFAULT_POLICY = Policy(
    steps=(
        Step((Target("circle"),), CHANNELS, 300.0),
        Step((Target("carers"),), CHANNELS, 300.0),
        Step((Target("coordinators"),), CHANNELS, 300.0),
    )
)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a chain goes next: the round (0, then each repeat), the step, and whether it is the last."""

    round: int
    step: int

    def following(self, policy: Policy) -> Position | None:
        """The step after this one, or None when the chain has run out (steps and repeats)."""
        if self.step + 1 < len(policy.steps):
            return Position(self.round, self.step + 1)
        if self.round < policy.repeats:
            return Position(self.round + 1, 0)
        return None

    def is_last(self, policy: Policy) -> bool:
        """Whether this is the final step of the final round."""
        return self.following(policy) is None
