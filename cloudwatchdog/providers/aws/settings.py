"""`providers.aws`: S3 buckets and access points, EBS snapshots, AMIs and RDS snapshots, in accounts listed or
discovered through AWS Organizations.

Credentials: ``default`` is the AWS default credential chain (environment, ``AWS_PROFILE``, the shared config and
credentials files, SSO, container and instance roles) plus each account's ``profile`` or ``role_arn``. ``emulator``
is a fixed pair of test keys for a local emulator (moto server, LocalStack): nothing of the environment and no file
is read, and it is accepted only with a loopback ``endpoint_url``.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cloudwatchdog.settings.base import ProviderSettings, StrictModel, check_http_url, is_loopback_url
from cloudwatchdog.settings.events import EventSourceSettings

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


class AwsCloudTrail(_Strict):
    """Where a CloudTrail trail that records S3 data events delivers its log files (``incident`` reads them)."""

    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    prefix: str = ""


class AwsEvents(EventSourceSettings):
    """`providers.aws.events`: the SQS queue of change events (credentials: those the account scans start from)."""

    queue_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$",
                                    description="SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>")]
    # Only for a queue URL that does not say its region (an emulator's): the region to sign requests for.
    region: str | None = None


class AwsProvider(ProviderSettings):
    endpoint_url: str | None = None
    # default: the AWS default credential chain and each account's profile or role_arn. emulator: fixed test keys
    # for a local emulator; no profile, no environment credentials, no config file; only with a loopback
    # endpoint_url.
    credential: Literal["default", "emulator"] = "default"
    regions: list[str] | Literal["all"] = ["us-east-1"]
    accounts: list[AwsAccount] = []
    organization: AwsOrganization | None = None
    # Organizations whose members are not "external": a policy limited to aws:PrincipalOrgID of one of these is
    # private. The organization discovered through `organization:` is trusted automatically.
    trusted_organizations: list[Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$")]] = []
    # Requests in flight per account (one bucket's calls run back to back on one of them): against a cloud 20-100 ms
    # away, wall time is about requests x latency / max_workers (README: "Concurrency").
    max_workers: Annotated[int, Field(ge=1, le=64)] = 32
    # How requests name a bucket. auto: as the SDK does, at a host of its own (<bucket>.s3.<region>.amazonaws.com),
    # one TLS connection per bucket. path: s3.<region>.amazonaws.com/<bucket>, connections shared by every bucket
    # of a region: fewer handshakes, less CPU (README: "Concurrency"). Emulator endpoints always use path.
    s3_addressing_style: Literal["auto", "path"] = "auto"
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    object_acl_sample: Annotated[int, Field(ge=0, le=1000)] = 10
    # Also read how EBS snapshots, AMIs and RDS (cluster) snapshots are shared, in every region of `regions`.
    sharing: bool = True
    # Accounts read side by side, each with up to max_workers requests in flight (README: "Concurrency").
    max_accounts: Annotated[int, Field(ge=1, le=64)] = 4
    # `cloudwatchdog incident`: a trail's bucket (and prefix) whose S3 data events are read besides the server
    # access logs.
    cloudtrail: AwsCloudTrail | None = None
    # The SQS queue an EventBridge rule delivers CloudTrail change events to (deploy/aws/): the daemon rescans what
    # they name within seconds (README "Change events").
    events: AwsEvents | None = None

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_http_url(v)

    @field_validator("credential")
    @classmethod
    def _emulator_only_on_loopback(cls, v: str, info: ValidationInfo) -> str:
        if v == "emulator":
            endpoint = info.data.get("endpoint_url")
            if not is_loopback_url(endpoint):
                raise ValueError(
                    "credential: emulator sends fixed test keys and is accepted only with an endpoint_url on a "
                    f"loopback address (http://127.0.0.1:PORT, ::1 or localhost); endpoint_url is "
                    f"{endpoint or 'not set'}"
                )
        return v

    @field_validator("accounts")
    @classmethod
    def _no_profile_with_emulator(cls, v: list[AwsAccount], info: ValidationInfo) -> list[AwsAccount]:
        for i, account in enumerate(v):
            _refuse_profile(info, f"accounts[{i}].profile", account.profile)
        return v

    @field_validator("organization")
    @classmethod
    def _no_org_profile_with_emulator(
        cls, v: AwsOrganization | None, info: ValidationInfo
    ) -> AwsOrganization | None:
        _refuse_profile(info, "organization.profile", v.profile if v else None)
        return v

    @field_validator("events")
    @classmethod
    def _events_queue_on_loopback(cls, v: AwsEvents | None, info: ValidationInfo) -> AwsEvents | None:
        if v is not None and info.data.get("credential") == "emulator" and not is_loopback_url(v.queue_url):
            raise ValueError("credential: emulator sends fixed test keys: events.queue_url must be on a loopback "
                             f"address too; it is {v.queue_url}")
        return v

    def effective_endpoint(self) -> str | None:
        if self.credential == "emulator":
            return self.endpoint_url  # nothing of the environment
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None


def _refuse_profile(info: ValidationInfo, key: str, profile: str | None) -> None:
    if profile and info.data.get("credential") == "emulator":
        raise ValueError(
            f"{key} is {profile!r}, but credential: emulator uses fixed test keys and reads no profile (remove the "
            "profile, or use credential: default)"
        )
