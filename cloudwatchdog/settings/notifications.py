"""`notifications:` where alerts go. One model per channel, chosen by the `type` key.

Every target has the same filters (`min_severity`, `providers`, `accounts`, `rules`, `tags`), the lifecycle events it
wants (`events`), a `mode` (`immediate`, or `digest` on a cron `schedule`) and an optional `templates_dir` whose
files override the built-in message templates (reports/alerts/). Secrets (webhook URLs, the SMTP password, the HMAC
secret, the PagerDuty routing key) are `SecretStr`: their value never shows in a repr, a log line or an error.

Mistakes are reported with file, line and key: the `type` is checked first (a missing or unknown type names
`notifications[i].type`), then the target's own model validates the rest (the discriminated union's tag is taken
out of the error location, so `notifications[i].webhook_url` is named, not a made-up `slack` key).
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from cloudwatchdog.model import Severity
from cloudwatchdog.settings.base import StrictModel, check_http_url

EventName = Literal["new", "reopened", "escalated", "resolved"]
ALL_EVENTS: tuple[EventName, ...] = ("new", "reopened", "escalated", "resolved")
# Chat and mail say what needs a look; "resolved" is opt-in there (add it to `events:`).
CHAT_EVENTS: tuple[EventName, ...] = ("new", "reopened", "escalated")

# A provider name; config.py checks it against the provider registry (settings are below the providers).
ProviderName = str
DEFAULT_DIGEST_SCHEDULE = "0 8 * * *"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A cron field: numbers, names (MON, JAN), *, ?, ranges, steps, lists. The daemon's scheduler parses it fully.
_CRON_FIELD = re.compile(r"^[A-Za-z0-9*?/,\-#LW]+$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the webhook channel sets itself; a config must not replace them.
_RESERVED_HEADERS = frozenset({"content-type", "content-length", "host", "user-agent", "transfer-encoding"})


def _http_url_secret(value: SecretStr) -> SecretStr:
    check_http_url(value.get_secret_value())
    return value


def _nonblank_secret(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty (is the environment variable set to an empty value?)")
    return value


def _mail_address(value: str) -> str:
    _, addr = parseaddr(value)
    if "\r" in value or "\n" in value or "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise ValueError("must be an email address such as alerts@example.com or 'Name <alerts@example.com>'")
    return value


SecretUrl = Annotated[SecretStr, AfterValidator(_http_url_secret)]
NonBlankSecret = Annotated[SecretStr, AfterValidator(_nonblank_secret)]
MailAddress = Annotated[str, AfterValidator(_mail_address)]


class TargetBase(StrictModel):
    """What every target has: a name, filters, the events it wants and how it is delivered."""

    # The events this channel gets when `events:` is not given.
    DEFAULT_EVENTS: ClassVar[tuple[EventName, ...]] = CHAT_EVENTS
    # Whether many events can go out as one message on a schedule.
    SUPPORTS_DIGEST: ClassVar[bool] = True

    type: str
    # Unique among the targets; the outbox keys deliveries by it. Default: "<type>-<n>", n counting targets of
    # that type from 1 in file order (give a name to keep it stable when you reorder targets).
    name: str | None = None
    min_severity: Severity = Severity.MEDIUM
    providers: list[ProviderName] = []
    accounts: list[str] = []  # account / project / subscription ids; `*` and `?` wildcards allowed
    rules: list[str] = []  # rule ids; `*` and `?` wildcards allowed, e.g. "aws-s3-*"
    tags: dict[str, str | list[str]] = {}  # resource tags, every key must match one of its values
    events: list[EventName] | None = None
    mode: Literal["immediate", "digest"] = "immediate"
    schedule: str | None = None  # cron, for mode: digest (default "0 8 * * *", in schedules.timezone)
    templates_dir: str | None = None  # relative to the config file
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and not _NAME.match(v):
            raise ValueError("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[EventName] | None) -> list[EventName] | None:
        if v is not None and not v:
            raise ValueError("list at least one event (new, reopened, escalated, resolved), or remove the key")
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is not None:
            fields = v.split()
            if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
                raise ValueError("must be a cron expression with 5 fields, e.g. '0 8 * * *' (08:00 every day)")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for key, values in v.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"tag {key!r} needs at least one value")
        return v

    @model_validator(mode="after")
    def _mode(self) -> TargetBase:
        if self.mode == "digest" and not self.SUPPORTS_DIGEST:
            raise _error(("mode",), f"a {self.type} target sends one event at a time: use mode: immediate", self.mode)
        if self.mode == "immediate" and self.schedule is not None:
            raise _error(("schedule",), "schedule applies only to mode: digest", self.schedule)
        return self

    @property
    def wanted_events(self) -> frozenset[str]:
        return frozenset(self.events if self.events is not None else self.DEFAULT_EVENTS)

    @property
    def digest_schedule(self) -> str:
        return self.schedule or DEFAULT_DIGEST_SCHEDULE

    @property
    def label(self) -> str:
        """The name, for messages and logs (never a URL or key)."""
        return self.name or self.type


class SlackTarget(TargetBase):
    """A Slack incoming webhook; messages are Block Kit."""

    type: Literal["slack"]
    webhook_url: SecretUrl


class TeamsTarget(TargetBase):
    """A Microsoft Teams workflow ("When a Teams webhook request is received"); messages are Adaptive Cards."""

    type: Literal["teams"]
    webhook_url: SecretUrl


class EmailTarget(TargetBase):
    """SMTP: STARTTLS (default) or implicit TLS (`ssl: true`), optional login; HTML and plain-text parts."""

    type: Literal["email"]
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: MailAddress = Field(alias="from")
    to: Annotated[list[MailAddress], Field(min_length=1)]
    ca_file: str | None = None  # CA bundle to verify the server's certificate (default: the system's)

    @model_validator(mode="after")
    def _transport(self) -> EmailTarget:
        if self.ssl and self.starttls:
            raise _error(("ssl",), "give ssl: true (implicit TLS, usually port 465) or starttls: true, not both",
                         self.ssl)
        if self.username is not None and self.password is None:
            raise _error(("password",), "required key is missing: username needs a password", None)
        if self.password is not None and self.username is None:
            raise _error(("username",), "required key is missing: password needs a username", None)
        if self.username is not None and not (self.ssl or self.starttls):
            raise _error(("starttls",), "refusing to send the SMTP password unencrypted: set starttls: true or "
                                        "ssl: true", self.starttls)
        return self


class PagerDutyTarget(TargetBase):
    """PagerDuty Events API v2: trigger on new/reopened/escalated, resolve on resolved, dedup_key = finding id."""

    DEFAULT_EVENTS: ClassVar[tuple[EventName, ...]] = ALL_EVENTS
    SUPPORTS_DIGEST: ClassVar[bool] = False

    type: Literal["pagerduty"]
    routing_key: NonBlankSecret
    events_url: str = PAGERDUTY_EVENTS_URL

    @field_validator("events_url")
    @classmethod
    def _url(cls, v: str) -> str:
        check_http_url(v)
        return v

    @property
    def wanted_events(self) -> frozenset[str]:
        # An incident must never stay open because a filter hid the resolve: resolved always goes.
        return super().wanted_events | {"resolved"}


class WebhookTarget(TargetBase):
    """A generic HTTPS endpoint: JSON {"event": "finding.<kind>", "finding": {...}}, HMAC-signed with `secret`."""

    DEFAULT_EVENTS: ClassVar[tuple[EventName, ...]] = ALL_EVENTS
    SUPPORTS_DIGEST: ClassVar[bool] = False

    type: Literal["webhook"]
    url: SecretUrl
    secret: NonBlankSecret | None = None
    headers: dict[str, SecretStr] = {}

    @field_validator("headers")
    @classmethod
    def _headers(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in v:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            low = name.lower()
            if low in _RESERVED_HEADERS or low.startswith("x-cloudwatchdog-"):
                raise ValueError(f"header {name!r} is set by cloudwatchdog and cannot be overridden")
            if any(c in v[name].get_secret_value() for c in "\r\n\0"):
                raise ValueError(f"the value of header {name!r} must be one line")
        return v


TARGET_TYPES: dict[str, type[TargetBase]] = {
    "slack": SlackTarget,
    "teams": TeamsTarget,
    "email": EmailTarget,
    "pagerduty": PagerDutyTarget,
    "webhook": WebhookTarget,
}


def _error(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """A validation error at ``loc`` (relative to the value being validated); pydantic prefixes the outer path."""
    details: InitErrorDetails = {"type": PydanticCustomError("value_error", message), "loc": loc, "input": value}
    return ValidationError.from_exception_data("NotificationTarget", [details])


def _retag(exc: ValidationError) -> ValidationError:
    """The same errors without the union tag (``slack``) that pydantic puts first in each location."""
    details: list[InitErrorDetails] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if loc and loc[0] in TARGET_TYPES:
            loc = loc[1:]
        # Keep the message as pydantic wrote it; the type name stays, so `missing` and `extra_forbidden` are
        # still recognised by the config's error formatter. Braces are doubled: the text is a template.
        message = err["msg"].replace("{", "{{").replace("}", "}}")
        details.append({"type": PydanticCustomError(err["type"], message), "loc": loc, "input": err.get("input")})
    return ValidationError.from_exception_data("NotificationTarget", details)


def _check_target(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None:
            raise _error(("type",), "required key is missing: one of " + ", ".join(TARGET_TYPES), value)
        if not isinstance(kind, str) or kind not in TARGET_TYPES:
            raise _error(("type",), f"unknown notification type {kind!r}: use one of " + ", ".join(TARGET_TYPES),
                         value)
    try:
        return handler(value)
    except ValidationError as exc:
        raise _retag(exc) from None


NotificationTarget = Annotated[
    SlackTarget | TeamsTarget | EmailTarget | PagerDutyTarget | WebhookTarget,
    Field(discriminator="type"),
    WrapValidator(_check_target),
]


def _named(targets: list[TargetBase]) -> list[TargetBase]:
    """Give every target its default name and check that names are unique."""
    explicit: dict[str, int] = {}
    for i, t in enumerate(targets):
        if t.name is not None:
            if t.name in explicit:
                raise _error((i, "name"), f"duplicate name {t.name!r}: item {explicit[t.name]} has it too", t.name)
            explicit[t.name] = i
    out: list[TargetBase] = []
    counts: dict[str, int] = {}
    for i, t in enumerate(targets):
        counts[t.type] = counts.get(t.type, 0) + 1
        if t.name is None:
            default = f"{t.type}-{counts[t.type]}"
            if default in explicit:
                raise _error((i, "name"), f"the default name {default!r} is taken by item {explicit[default]}: "
                                          "give this target a name", None)
            t = t.model_copy(update={"name": default})
        out.append(t)
    return out


# The `notifications:` list: targets with their names filled in, unique.
NotificationTargets = Annotated[list[NotificationTarget], AfterValidator(_named)]

