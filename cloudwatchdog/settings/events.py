"""The common part of every `providers.<name>.events` section: how the daemon reads a provider's change-event
queue. Each provider extends it with where its queue is (``queue_url`` for AWS, ...)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cloudwatchdog.settings.base import StrictModel


class EventSourceSettings(StrictModel):
    enabled: bool = True
    # Changes to one resource (or one account, for an account-wide change) within this window cause one rescan.
    debounce_seconds: Annotated[float, Field(ge=0, le=300)] = 2.0
    # Long poll: how long one receive waits for a message (the queue answers as soon as one lands).
    wait_seconds: Annotated[int, Field(ge=0, le=20)] = 5
    max_messages: Annotated[int, Field(ge=1, le=32)] = 10  # per receive (SQS allows 10, Storage Queues 32)
    # How long a received message stays invisible to other readers before it comes back (a crash re-reads it).
    # Longer than a rescan takes; a message is deleted only once its rescan is recorded.
    visibility_timeout: Annotated[int, Field(ge=1, le=43200)] = 300


__all__ = ["EventSourceSettings"]
