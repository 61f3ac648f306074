"""AWS change events in the moto server, as the deploy/aws template wires them in AWS: an SQS queue (with a
dead-letter queue), an EventBridge rule on the default bus matching CloudTrail API calls of S3, EC2 and RDS, and the
queue as its target. ``emit`` puts a CloudTrail-shaped event on the bus (standing in for CloudTrail's delivery);
EventBridge routes it to the queue. For tests, the benchmark and trying the daemon locally."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, account_session, emulator_client

DETAIL_TYPE = "AWS API Call via CloudTrail"
SOURCE_OF = {"s3": "aws.s3", "s3control": "aws.s3", "ec2": "aws.ec2", "rds": "aws.rds"}


class EventPipe:
    """``EventPipe(endpoint).create()``; ``queue_url`` for ``providers.aws.events.queue_url``."""

    def __init__(self, endpoint: str, *, name: str = "cloudwatchdog-events", region: str = "us-east-1",
                 max_receive_count: int = 5, pattern: dict[str, Any] | None = None) -> None:
        self.endpoint = endpoint
        self.name = name
        self.region = region
        self.max_receive_count = max_receive_count
        # The rule's EventPattern (default: CloudTrail API calls of S3, EC2 and RDS; deploy/aws names the events too)
        self.pattern = pattern or {"source": sorted(set(SOURCE_OF.values())), "detail-type": [DETAIL_TYPE]}
        session = account_session(endpoint, DEFAULT_ACCOUNT, region=region)
        self.sqs = emulator_client(session, "sqs", endpoint, region=region)
        self.events = emulator_client(session, "events", endpoint, region=region)
        self.queue_url = ""
        self.dlq_url = ""

    def create(self) -> EventPipe:
        self.dlq_url = self.sqs.create_queue(QueueName=f"{self.name}-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.queue_url = self.sqs.create_queue(QueueName=self.name, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.max_receive_count)})})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.events.put_rule(Name=f"{self.name}-rule", EventPattern=json.dumps(self.pattern), State="ENABLED")
        self.events.put_targets(Rule=f"{self.name}-rule", Targets=[{"Id": "queue", "Arn": arn}])
        return self

    def emit(self, event_name: str, params: dict[str, Any], *, service: str = "s3",
             account: str = DEFAULT_ACCOUNT, region: str | None = None, error_code: str | None = None) -> None:
        self.emit_many([(event_name, params, service, account, region, error_code)])

    def emit_many(self, events: list[tuple[str, dict[str, Any], str, str, str | None, str | None]], *,
                  threads: int = 4) -> None:
        """Several events; PutEvents takes 10 per call (``threads`` calls at a time, so order is not kept)."""
        entries = [{"Source": SOURCE_OF[service], "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(cloudtrail_detail(name, params, service=service, account=account,
                                                           region=region or self.region, error_code=error))}
                   for name, params, service, account, region, error in events]
        def put(chunk: list[dict[str, Any]]) -> None:
            answer = self.events.put_events(Entries=chunk)
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"PutEvents failed: {answer}")

        chunks = [entries[i:i + 10] for i in range(0, len(entries), 10)]
        if len(chunks) == 1:
            put(chunks[0])
            return
        with ThreadPoolExecutor(max_workers=min(threads, len(chunks))) as pool:  # as a busy account's trail would
            list(pool.map(put, chunks))

    def send_raw(self, body: str) -> None:
        """A message that did not come through EventBridge (garbage, another shape)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def counts(self) -> tuple[int, int]:
        """(visible, in flight) in the queue."""
        a = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def cloudtrail_detail(event_name: str, params: dict[str, Any], *, service: str, account: str, region: str,
                      error_code: str | None = None) -> dict[str, Any]:
    """The ``detail`` of a CloudTrail management event, as EventBridge carries it."""
    detail: dict[str, Any] = {
        "eventVersion": "1.09", "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com", "eventName": event_name, "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userAgent": "terraform", "requestParameters": params,
        "responseElements": None, "requestID": uuid.uuid4().hex, "eventID": str(uuid.uuid4()),
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account,
        "userIdentity": {"type": "IAMUser", "accountId": account, "arn": f"arn:aws:iam::{account}:user/ops"},
    }
    if error_code:
        detail["errorCode"] = error_code
    return detail


__all__ = ["EventPipe", "cloudtrail_detail"]
