"""The base of every request body the API accepts: strict types and no unknown fields.

Strict, because a schema that says boolean must not take 0 for false, nor a number take false for 0
(issue 11). FastAPI validates a parsed JSON body in pydantic's Python mode, where strict mode would
refuse a UUID or an enum member given as a string, which is the only way JSON can carry them: such
fields use the lax types below, which accept their string form and nothing JSON could make of a number
or a boolean.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict

E = TypeVar("E")


class RequestBody(BaseModel):
    """A request body: every field strictly of its declared type, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


# A UUID as JSON carries it: its text.
UuidText = Annotated[UUID, Strict(False)]
# An enum member as JSON carries it: its value.
EnumValue = Annotated[E, Strict(False)]


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _not_a_number(example: str) -> BeforeValidator:
    """Refuse a number where a time or date is asked for: pydantic would read it as seconds since 1970."""

    def check(value: Any) -> Any:
        if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
            raise ValueError(f"give ISO 8601 text, for example {example}, not a number")
        return value

    return BeforeValidator(check)


# A time as a query or JSON carries it: ISO 8601 text, never a number of seconds.
TimeText = Annotated[datetime, _not_a_number("2026-01-01T00:00:00Z")]
# A date likewise: 2026-01-01, not 0 (1970-01-01) nor 1767225600.
DayText = Annotated[date, _not_a_number("2026-01-01")]


def at_most_as_sent(max_length: int) -> BeforeValidator:
    """Refuse text longer than `max_length` as it was sent, before surrounding whitespace is trimmed.

    The schema's maxLength is about the text sent; pydantic checks it after trimming, so without this
    a name of 201 characters with a space in front passed a limit of 200 (Schemathesis found it).
    """

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > max_length:
            raise ValueError(f"at most {max_length} characters, spaces included")
        return value

    return BeforeValidator(check)
