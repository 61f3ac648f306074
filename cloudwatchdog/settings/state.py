"""`state:` (where the finding store lives) and `suppressions:` (findings muted on purpose, each with a reason, an
owner and an expiry)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from cloudwatchdog.settings.base import StrictModel

_FINGERPRINT = r"^[0-9a-f]{20,64}$"


class StateConfig(StrictModel):
    # An SQLAlchemy URL: sqlite:///relative/to/the/config/file.db, sqlite:////absolute.db, or
    # postgresql+psycopg://user:${PGPASSWORD}@host/db (the password from the environment, never in the file).
    url: Annotated[str, Field(min_length=1)] = "sqlite:///cloudwatchdog.db"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("must be a database URL such as sqlite:///cloudwatchdog.db or "
                             "postgresql+psycopg://user@host/dbname")
        return v


class SuppressionConfig(StrictModel):
    """Mutes one finding (``fingerprint``) or every finding of ``rule`` on resources whose uid matches
    ``resource`` (a glob: ``*`` any run of characters, ``?`` one; e.g. ``arn:aws:s3:::public-site-*``). Until
    ``expires`` (a date, inclusive, UTC)."""

    fingerprint: Annotated[str | None, Field(pattern=_FINGERPRINT)] = None
    rule: Annotated[str | None, Field(min_length=1)] = None
    resource: Annotated[str | None, Field(min_length=1)] = None
    reason: Annotated[str, Field(min_length=1)]
    owner: Annotated[str, Field(min_length=1)]
    expires: dt.date

    @field_validator("reason", "owner")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @model_validator(mode="after")
    def _target(self) -> SuppressionConfig:
        if self.fingerprint is not None and (self.rule is not None or self.resource is not None):
            raise ValueError("give either fingerprint, or rule and resource, not both")
        if self.fingerprint is None and (self.rule is None or self.resource is None):
            raise ValueError("give a fingerprint, or both rule and resource (resource is a uid; * globs allowed)")
        return self
