"""The base of every request body the API accepts: strict types and no unknown fields.

Strict, because a schema that says boolean must not take 0 for false, nor a number take false for 0
(issue 11). FastAPI validates a parsed JSON body in pydantic's Python mode, where strict mode would
refuse a UUID or an enum member given as a string, which is the only way JSON can carry them: such
fields use the lax types below, which accept their string form and nothing JSON could make of a number
or a boolean.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Strict

E = TypeVar("E")


class RequestBody(BaseModel):
    """A request body: every field strictly of its declared type, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


# A UUID as JSON carries it: its text.
UuidText = Annotated[UUID, Strict(False)]
# An enum member as JSON carries it: its value.
EnumValue = Annotated[E, Strict(False)]
