"""`providers.aws`: S3 buckets and access points, EBS snapshots, AMIs and RDS snapshots, in accounts listed or
discovered through AWS Organizations."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cloudwatchdog.settings.base import ProviderSettings, StrictModel, check_http_url

_Strict = StrictModel


class AwsAccount(_Strict):
    id: Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit AWS account id")]
    name: str | None = None
    profile: str | None = None
    role_arn: Annotated[str | None, Field(pattern=r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+$")] = None
    external_id: str | None = None

    @model_validator(mode="after")
    def _one_credential_source(self) -> AwsAccount:
        if self.profile and self.role_arn:
            raise ValueError("give either profile or role_arn, not both (role_arn is assumed from the default chain)")
        return self


class AwsOrganization(_Strict):
    role_name: str = "CloudWatchdogAudit"
    external_id: str | None = None
    profile: str | None = None  # credentials of the management (or delegated administrator) account
    exclude: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = []


class AwsProvider(ProviderSettings):
    endpoint_url: str | None = None
    regions: list[str] | Literal["all"] = ["us-east-1"]
    accounts: list[AwsAccount] = []
    organization: AwsOrganization | None = None
    # Organizations whose members are not "external": a policy limited to aws:PrincipalOrgID of one of these is
    # private. The organization discovered through `organization:` is trusted automatically.
    trusted_organizations: list[Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$")]] = []
    max_workers: Annotated[int, Field(ge=1, le=64)] = 8
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    object_acl_sample: Annotated[int, Field(ge=0, le=1000)] = 10
    # Also read how EBS snapshots, AMIs and RDS (cluster) snapshots are shared, in every region of `regions`.
    sharing: bool = True

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_http_url(v)

    def effective_endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
