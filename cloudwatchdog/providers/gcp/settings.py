"""`providers.gcp`: Google Cloud Storage.

Which projects are scanned:

- ``projects``: explicit project ids (or ``{id, name, endpoint_url}`` entries);
- ``organization`` / ``folders``: every ACTIVE project below them, folders walked recursively (Resource Manager);
- neither: every ACTIVE project the credentials can see (Resource Manager ``projects.search``).

Explicit entries and discovery combine; a project found twice is scanned once, with its explicit settings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cloudwatchdog.settings.base import ProviderSettings, StrictModel, check_http_url

# Project ids: 6-30 lowercase letters, digits and hyphens, starting with a letter; legacy domain-scoped ids
# ("example.com:my-project") keep their domain prefix.
PROJECT_ID = re.compile(r"^(?:[a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_NUMERIC_ID = re.compile(r"^\d{1,30}$")
EMULATOR_HOST_ENV = "STORAGE_EMULATOR_HOST"


def _invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as written (no "Value error, " prefix)."""
    return PydanticCustomError("gcp_config", message.replace("{", "{{").replace("}", "}}"))


def _project_id(value: str) -> str:
    if not PROJECT_ID.match(value):
        raise _invalid(
            f"{value!r} is not a project id (6-30 lowercase letters, digits and hyphens, starting with a letter; "
            "the id, not the display name or the project number)"
        )
    return value


class GcpProject(StrictModel):
    id: str
    name: str | None = None
    # An emulator serving this project only (gcp-storage-emulator lists every bucket it holds for any project,
    # so a multi-project emulated estate runs one emulator per project). Overrides the provider's endpoint_url.
    endpoint_url: str | None = None
    # The project number, when known (distributed scans fill it in from discovery): a member such as
    # service-<number>@gs-project-accounts.iam.gserviceaccount.com is then known as this project's.
    number: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _project_id(v)

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str) and not _NUMERIC_ID.match(v):
            raise _invalid(f"{v!r} is not a project number (digits only)")
        return v

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return _url(v)


def _url(value: str | None) -> str | None:
    try:
        return check_http_url(value)
    except ValueError as exc:
        raise _invalid(str(exc)) from None


def _parent(kind: str, value: Any) -> Any:
    """``organizations/123`` or ``123`` -> ``organizations/123``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value  # pydantic reports the type
    number = value.removeprefix(f"{kind}/")
    if not _NUMERIC_ID.match(number):
        raise _invalid(f"must be a numeric {kind[:-1]} id such as {kind}/123456789012 or 123456789012")
    return f"{kind}/{number}"


class GcpAuditLogs(StrictModel):
    """Where a log sink exports Data Access audit logs to Cloud Storage (``incident`` reads them)."""

    bucket: Annotated[str, Field(min_length=3, max_length=222)]
    prefix: str = ""  # before cloudaudit.googleapis.com/data_access/YYYY/MM/DD/


class GcpProvider(ProviderSettings):
    # The Cloud Storage endpoint of an emulator (gcp-storage-emulator); STORAGE_EMULATOR_HOST is honoured too.
    endpoint_url: str | None = None
    # Resource Manager endpoint for discovery and project IAM (tests serve it locally); null: the real API.
    resource_manager_endpoint: str | None = None
    # default: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth, metadata server);
    # service_account_file: the JSON key in key_file; anonymous: no credentials, for an emulator only.
    credential: Literal["default", "service_account_file", "anonymous"] = "default"
    key_file: str | None = None
    projects: list[GcpProject] = []
    organization: str | None = None  # organizations/123 or 123
    folders: list[str] = []  # folders/456 or 456
    exclude_projects: list[str] = []
    # Members in these domains (user:, group:, domain:, and service accounts of domain-scoped projects) are
    # internal; anyone else named in a policy or ACL is external. The organization's own domain is added
    # automatically when `organization` is set.
    organization_domains: list[str] = []
    # `cloudwatchdog incident`: a bucket that a log sink fills with Data Access audit logs (read besides the
    # buckets' usage logs); they name principals, but never record allUsers requests.
    audit_logs: GcpAuditLogs | None = None
    # Read each project's IAM policy too: a project-level grant reaches every bucket in it.
    project_iam: bool = True
    object_acl_sample: Annotated[int, Field(ge=0, le=1000)] = 10
    max_workers: Annotated[int, Field(ge=1, le=64)] = 8
    retry_timeout: Annotated[float, Field(gt=0, le=600)] = 60.0  # seconds of retries for one call
    timeout: Annotated[float, Field(gt=0, le=300)] = 30.0  # seconds for one HTTP request

    @field_validator("endpoint_url", "resource_manager_endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return _url(v)

    @field_validator("projects", mode="before")
    @classmethod
    def _project_strings(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"id": p} if isinstance(p, str) else p for p in v]
        return v

    @field_validator("organization", mode="before")
    @classmethod
    def _organization(cls, v: Any) -> Any:
        return None if v is None else _parent("organizations", v)

    @field_validator("folders", mode="before")
    @classmethod
    def _folders(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [_parent("folders", f) for f in v]
        return v

    @field_validator("exclude_projects")
    @classmethod
    def _exclude(cls, v: list[str]) -> list[str]:
        return [_project_id(p) for p in v]

    @field_validator("organization_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        out = []
        for domain in v:
            d = domain.strip().lower().removeprefix("@")
            if not _DOMAIN.match(d):
                raise _invalid(f"{domain!r} is not a domain name such as velora.example")
            out.append(d)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> GcpProvider:
        if self.credential == "service_account_file" and not self.key_file:
            raise _invalid("credential: service_account_file needs key_file: the path of the JSON key")
        if self.key_file and self.credential != "service_account_file":
            raise _invalid(
                f"key_file is only used with credential: service_account_file (credential is {self.credential})"
            )
        if self.credential == "anonymous":
            if not self.effective_endpoint() and not any(p.endpoint_url for p in self.projects):
                raise _invalid(
                    "credential: anonymous sends no credentials and only works against an emulator: set "
                    f"endpoint_url (for example http://127.0.0.1:9023) or {EMULATOR_HOST_ENV}"
                )
            if not self.resource_manager_endpoint:
                if self.discovers:
                    raise _invalid(
                        "credential: anonymous cannot discover projects (no emulator serves Resource Manager): "
                        "list them under projects, or set resource_manager_endpoint"
                    )
                if self.project_iam:
                    raise _invalid(
                        "credential: anonymous cannot read project IAM policies (no emulator serves Resource "
                        "Manager): set project_iam: false, or resource_manager_endpoint"
                    )
        ids = [p.id for p in self.projects]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _invalid(f"projects lists {', '.join(duplicates)} more than once")
        return self

    @property
    def discovers(self) -> bool:
        """Projects come (also) from Resource Manager: an organization or folders, or nothing explicit at all."""
        return self.organization is not None or bool(self.folders) or not self.projects

    def effective_endpoint(self) -> str | None:
        """endpoint_url, else STORAGE_EMULATOR_HOST (as the Google client libraries read it), else None."""
        if self.endpoint_url:
            return self.endpoint_url
        host = os.environ.get(EMULATOR_HOST_ENV, "").strip()
        if not host:
            return None
        return host if host.startswith(("http://", "https://")) else f"http://{host}"

    def key_path(self) -> Path | None:
        return Path(self.key_file).expanduser() if self.key_file else None
