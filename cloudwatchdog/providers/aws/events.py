"""The SQS queue of AWS change events (I/O): long-poll receive, delete, and `events check`'s look at the queue.

The queue's URL says where it is (``https://sqs.<region>.amazonaws.com/<account>/<name>``, or an emulator's on
127.0.0.1): requests go to that host, signed for the region the host names (``events.region`` for a host that does
not). Credentials are those the account scans start from (the default chain, or the emulator's keys). Every
failure is a one-line SourceError.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from botocore.config import Config

from cloudwatchdog.events.model import Hint, Message, SourceCheck, SourceError
from cloudwatchdog.providers.aws.credentials import base_session, describe_exception, refuse_non_loopback
from cloudwatchdog.providers.aws.events_parse import parse_envelope
from cloudwatchdog.providers.aws.settings import AwsEvents, AwsProvider
from cloudwatchdog.settings.base import is_loopback_url

_REGION_HOST = re.compile(r"^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)$")
PEEK = 10  # messages `events check` looks at for the oldest one


def queue_region(url: str, fallback: str | None) -> str:
    host = (urlsplit(url).hostname or "").lower()
    m = _REGION_HOST.match(host)
    if m:
        return m.group(1) or m.group(2)
    return fallback or "us-east-1"


class SqsSource:
    provider = "aws"

    def __init__(self, cfg: AwsProvider, events: AwsEvents) -> None:
        self.cfg = cfg
        self.settings = events
        self.queue_url = events.queue_url
        self.name = f"aws:{events.queue_url.rstrip('/').rsplit('/', 1)[-1]}"
        default_region = cfg.regions[0] if isinstance(cfg.regions, list) and cfg.regions else None
        self.region = queue_region(events.queue_url, events.region or default_region)
        self._client: Any = None

    def _sqs(self) -> Any:
        if self._client is None:
            parts = urlsplit(self.queue_url)
            loopback = is_loopback_url(self.queue_url)
            config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5,
                            read_timeout=self.settings.wait_seconds + 15, user_agent_extra="cloudwatchdog",
                            proxies={} if loopback else None)
            try:
                client = base_session(self.cfg).create_client("sqs", region_name=self.region,
                                                              endpoint_url=f"{parts.scheme}://{parts.netloc}",
                                                              config=config)
            except Exception as exc:  # a broken profile: said in one line
                raise SourceError(self._describe(exc)) from None
            if self.cfg.credential == "emulator":
                client.meta.events.register("before-send", refuse_non_loopback)
            self._client = client
        return self._client

    def _describe(self, exc: BaseException) -> str:
        code, message = describe_exception(exc)
        return f"{self.queue_url}: {code}: {message}"

    def receive(self, wait: float) -> Sequence[Message]:
        try:
            answer = self._sqs().receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, self.settings.max_messages),
                WaitTimeSeconds=max(0, min(20, math.ceil(wait))), VisibilityTimeout=self.settings.visibility_timeout,
                MessageSystemAttributeNames=["SentTimestamp"])
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._describe(exc)) from None
        return [self._message(m) for m in answer.get("Messages", []) if isinstance(m, dict)]

    def _message(self, m: dict[str, Any]) -> Message:
        sent = (m.get("Attributes") or {}).get("SentTimestamp")
        try:
            sent_at = int(sent) / 1000.0 if sent is not None else None
        except (TypeError, ValueError):
            sent_at = None
        return Message(self.name, str(m.get("MessageId", "?")), str(m.get("Body", "")), sent_at,
                       m.get("ReceiptHandle"))

    def delete(self, messages: Sequence[Message]) -> None:
        """DeleteMessageBatch, ten at a time; an entry SQS refuses is a SourceError naming it (the message comes
        back after its visibility timeout)."""
        failed: list[str] = []
        for i in range(0, len(messages), 10):
            chunk = messages[i:i + 10]
            try:
                answer = self._sqs().delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(n), "ReceiptHandle": m.token} for n, m in enumerate(chunk)])
            except SourceError:
                raise
            except Exception as exc:
                raise SourceError(self._describe(exc)) from None
            for f in answer.get("Failed", []):
                who = chunk[int(f.get("Id", 0))].id if str(f.get("Id", "")).isdigit() else "?"
                failed.append(f"{who}: {f.get('Code')}: {f.get('Message')}")
        if failed:
            raise SourceError(f"{self.queue_url}: DeleteMessageBatch refused {'; '.join(failed)[:500]}")

    def parse(self, message: Message) -> Hint:
        return parse_envelope(message.body)

    def check(self) -> SourceCheck:
        """Reachable and readable: the queue's approximate counts, then a peek at up to 10 messages (visibility
        timeout 0, so they stay available; SQS counts it as a receive towards a DLQ's maxReceiveCount) for the
        oldest SentTimestamp. SQS has no "oldest message" attribute; the peek sees a sample of the queue."""
        try:
            attrs = self._sqs().get_queue_attributes(
                QueueUrl=self.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            ).get("Attributes", {})
            peek = self._sqs().receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=PEEK, VisibilityTimeout=0,
                                               WaitTimeSeconds=0, MessageSystemAttributeNames=["SentTimestamp"])
        except SourceError as exc:
            return SourceCheck(self.name, False, str(exc))
        except Exception as exc:
            return SourceCheck(self.name, False, self._describe(exc))
        sent = [m.sent_at for m in (self._message(x) for x in peek.get("Messages", [])) if m.sent_at is not None]
        waiting = _int(attrs.get("ApproximateNumberOfMessages"))
        in_flight = _int(attrs.get("ApproximateNumberOfMessagesNotVisible"))
        return SourceCheck(self.name, True, None, waiting,
                           round(max(0.0, time.time() - min(sent)), 1) if sent else None,
                           f"{self.queue_url} ({in_flight if in_flight is not None else '?'} in flight)")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["SqsSource", "queue_region"]
