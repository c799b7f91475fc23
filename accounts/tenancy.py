"""Roles, the caller, and the one rule of tenancy: which homes a caller may see.

A `Scope` is computed once per request from the caller and handed to every query that reads tenant
data; a home outside it does not exist for that caller (404), whatever route asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol
from uuid import UUID


class Role(StrEnum):
    """What a person (or integration) is in the system."""

    PLATFORM_ADMIN = "platform_admin"
    COORDINATOR = "coordinator"
    CARER = "carer"
    FAMILY = "family"
    # An API key: an integration that acts for an organisation (alerts, readings), never on accounts.
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (from an access token) or an integration (from an API key)."""

    kind: Literal["user", "api_key"]
    id: UUID
    name: str
    role: Role
    organisation_id: UUID | None


@dataclass(frozen=True, slots=True)
class Scope:
    """The homes a caller may see: every home, one organisation's, or a given set."""

    everything: bool = False
    organisation_id: UUID | None = None
    home_ids: frozenset[UUID] = frozenset()

    def sees(self, *, organisation_id: UUID, home_id: UUID) -> bool:
        """Whether a home (of that organisation) is visible."""
        if self.everything:
            return True
        if self.organisation_id is not None:
            return organisation_id == self.organisation_id
        return home_id in self.home_ids

    def where(self, *, org_column: str, home_column: str, param: int) -> tuple[str, list[Any]]:
        """A SQL condition limiting rows to the scope, using placeholders from $param on, and its args."""
        if self.everything:
            return "true", []
        if self.organisation_id is not None:
            return f"{org_column} = ${param}", [self.organisation_id]
        return f"{home_column} = ANY(${param}::uuid[])", [list(self.home_ids)]


EVERYTHING = Scope(everything=True)


class Viewer(Protocol):
    """Who is asking, as the domains' services see them (api's Caller is one)."""

    @property
    def principal(self) -> Principal:
        """The user or integration."""

    @property
    def scope(self) -> Scope:
        """The homes they may see."""

    def require_manager(self, organisation_id: UUID) -> None:
        """NotFound for another tenant's organisation, Forbidden unless they administer it."""


def scope_without_lookup(principal: Principal) -> Scope | None:
    """The scope when the principal alone decides it; None when homes must be looked up."""
    if principal.role is Role.PLATFORM_ADMIN:
        return EVERYTHING
    if principal.role in (Role.COORDINATOR, Role.INTEGRATION) and principal.organisation_id is not None:
        return Scope(organisation_id=principal.organisation_id)
    return None


def manages(principal: Principal, organisation_id: UUID) -> bool:
    """Whether the principal administers that organisation (platform admins administer all)."""
    if principal.role is Role.PLATFORM_ADMIN:
        return True
    return principal.role is Role.COORDINATOR and principal.organisation_id == organisation_id
