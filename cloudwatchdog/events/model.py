"""What a change event says, and what the consumer asks of a cloud's queue. Pure data and protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class HintError(ValueError):
    """A message that cannot be read as a change event (not JSON, not the documented shape); it is logged with its
    id and dropped."""


class SourceError(RuntimeError):
    """The queue cannot be reached or read (connection refused, access denied, no such queue): one line, no
    traceback, said in /healthz and `events check`."""


@dataclass(frozen=True)
class ChangeTarget:
    """One thing a change event says to read again. ``resource_type`` and ``name`` None: the change is
    account-wide (an account-level guardrail), so the whole account is rescanned. ``region``: where the resource
    lives, when the event says (None: global, or not said)."""

    provider: str
    account: str
    resource_type: str | None = None
    name: str | None = None
    region: str | None = None
    event: str = ""  # the cloud's name for the change (PutBucketPolicy, ResourceWriteSuccess ...), for logs

    @property
    def account_wide(self) -> bool:
        return self.resource_type is None or self.name is None

    def describe(self) -> str:
        what = "the whole account" if self.account_wide else f"{self.resource_type} {self.name}"
        return f"{self.provider} account {self.account}: {what}" + (f" ({self.event})" if self.event else "")


@dataclass(frozen=True)
class Hint:
    """What one message asks: ``targets`` to rescan (none: a change we do not act on, ``ignored`` says which)."""

    targets: tuple[ChangeTarget, ...] = ()
    ignored: str | None = None


@dataclass(frozen=True)
class Message:
    """One message as received: its queue's id for it, its text, when it landed in the queue (Unix time, None
    when the queue does not say) and the token that deletes it (receipt handle, pop receipt)."""

    source: str
    id: str
    body: str
    sent_at: float | None
    token: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SourceCheck:
    """`cloudwatchdog events check`: one source's state."""

    source: str
    reachable: bool
    error: str | None = None
    messages: int | None = None  # approximate count of waiting messages
    oldest_age_seconds: float | None = None  # age of the oldest waiting message seen (None: none, or not known)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "reachable": self.reachable, "error": self.error, "messages": self.messages,
                "oldest_age_seconds": self.oldest_age_seconds, "detail": self.detail}


class EventSource(Protocol):
    """A provider's change-event queue. ``receive`` long-polls (at most ``wait`` seconds); ``delete`` removes
    messages for good (in as few requests as the queue allows); neither raises anything but SourceError. ``parse``
    is pure (raises HintError)."""

    name: str  # for logs, metrics and /healthz: "aws:<queue name>"
    provider: str

    def receive(self, wait: float) -> Sequence[Message]: ...

    def delete(self, messages: Sequence[Message]) -> None: ...

    def parse(self, message: Message) -> Hint: ...

    def check(self) -> SourceCheck: ...


__all__ = ["ChangeTarget", "EventSource", "Hint", "HintError", "Message", "SourceCheck", "SourceError"]
