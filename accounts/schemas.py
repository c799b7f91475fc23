"""Accounts as the API accepts and returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts import examples
from accounts.passwords import MIN_LENGTH
from kernel.strict import RequestBody, UuidText, at_most_as_sent

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
    at_most_as_sent(320),
]
Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=1000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), at_most_as_sent(200)]
UserRole = Literal["platform_admin", "coordinator", "carer", "family"]


class TokenOut(BaseModel):
    """Tokens from a login or a refresh (OAuth2 token response)."""

    access_token: str = Field(description="a JWT to send as `Authorization: Bearer ...`")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(description="opaque; exchange it at /v1/auth/refresh (once) for a new pair")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "tcr_3q2-7wLs9P0n0oJ1Zb1zq4Cwq1C5-4bqEw0xw2mGmLs",
                }
            ]
        }
    )


class RefreshIn(RequestBody):
    """A refresh token to exchange or revoke."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "tcr_3q2-7wLs9P0n0oJ1Zb1zq4C"}]}
    )

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UserOut(BaseModel):
    """An account."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [examples.USER]})

    id: UUID
    email: str
    name: str
    role: UserRole
    organisation_id: UUID | None
    active: bool
    activated: bool = Field(description="false until the invitation is accepted and a password set")
    created_at: datetime


class UserPage(BaseModel):
    """A page of accounts, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.USER_PAGE]})

    items: list[UserOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class InvitationIn(RequestBody):
    """Invite someone: their account is created now, usable once they set a password with the token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "jo.daughter@example.org",
                    "name": "Jo Smith",
                    "role": "family",
                    "organisation_id": "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c",
                }
            ]
        },
    )

    email: Email
    name: Name = ""
    role: UserRole
    organisation_id: UuidText | None = Field(
        default=None, description="the provider the person belongs to; a coordinator's own by default"
    )


class InvitationOut(BaseModel):
    """The new account and the invitation token (shown this once; send it to the person)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.INVITATION]})

    user: UserOut
    token: str
    expires_at: datetime


class AcceptIn(RequestBody):
    """Accept an invitation by choosing a password."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "tci_Qm9vdHN0cmFwIHRva2Vu", "password": "correct horse battery"}]
        },
    )

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Password


class ActiveIn(RequestBody):
    """Deactivate (ends every login) or reactivate an account."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    active: bool


class MeOut(BaseModel):
    """Who the caller is and what they may see."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ME]})

    kind: Literal["user", "api_key"]
    id: UUID
    name: str
    role: Literal["platform_admin", "coordinator", "carer", "family", "integration"]
    organisation_id: UUID | None
    home_ids: list[UUID] | None = Field(
        description="the homes a carer or family member sees; null: by organisation"
    )


class ApiKeyIn(RequestBody):
    """A new API key for an integration."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "call-centre bridge"}]})

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), at_most_as_sent(200)
    ]


class ApiKeyOut(BaseModel):
    """An API key (never the key itself after creation)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [examples.API_KEY]})

    id: UUID
    organisation_id: UUID
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new API key: send it as the `X-API-Key` header; shown this once."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.API_KEY_CREATED]})

    key: str


class AuditOut(BaseModel):
    """One change someone made through the API."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [examples.AUDIT]})

    id: int
    at: datetime
    actor_kind: str
    actor_id: UUID | None
    actor_name: str
    organisation_id: UUID | None
    action: str
    target_type: str
    target_id: str
    detail: dict[str, object]
    client_addr: str | None
    user_agent: str | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.AUDIT_PAGE]})

    items: list[AuditOut]
    next_cursor: str | None
