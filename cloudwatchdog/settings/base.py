"""The base of every config section: unknown keys are errors, values are frozen."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

HTTP_URL = re.compile(r"^https?://[^/\s]+")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderSettings(StrictModel):
    """The base of every `providers.<name>` section (each provider's own settings model extends it)."""

    enabled: bool = True


def check_http_url(value: str | None) -> str | None:
    """For endpoint overrides: an http(s) URL, or None."""
    if value is not None and not HTTP_URL.match(value):
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:5000")
    return value


def is_loopback_url(url: str | None) -> bool:
    """Whether ``url`` names a loopback host: 127.0.0.0/8, ::1 or localhost (emulator credentials go nowhere else)."""
    try:
        host = urlsplit(url or "").hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
