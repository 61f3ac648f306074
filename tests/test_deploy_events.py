"""deploy/aws and deploy/azure. The CloudFormation templates parse, name exactly the events the parser acts on,
wire a dead-letter queue and a queue policy for EventBridge (and, with an organization, a bus the members may put
events on); their EventPattern, put on the moto server's EventBridge, routes the contract's events to the queue and
nothing else. The Bicep files name what the Azure parser expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cloudwatchdog.emulators.aws_events import EventPipe
from cloudwatchdog.emulators.moto import MotoServer
from cloudwatchdog.providers.aws.events_parse import EVENT_NAMES, parse_envelope
from cloudwatchdog.providers.azure.events_parse import EVENT_TYPES

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "aws"


def _template(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / name).read_text())
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"
    return dict(doc["Resources"])


def test_the_queue_template() -> None:
    r = _template("events.yaml")
    rule = r["ChangeEventsRule"]["Properties"]
    assert rule["EventBusName"] == "default"
    assert sorted(rule["EventPattern"]["detail"]["eventName"]) == sorted(EVENT_NAMES)
    assert rule["EventPattern"]["detail-type"] == ["AWS API Call via CloudTrail"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    redrive = r["EventsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    (statement,) = r["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert "aws:SourceArn" in statement["Condition"]["ArnEquals"], "only our rules may send to the queue"
    bus = r["OrganizationBusPolicy"]
    assert bus["Condition"] == "HasOrganization"
    condition = bus["Properties"]["Statement"]["Condition"]
    assert condition["StringEquals"] == {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    assert r["OrganizationRule"]["Properties"]["EventBusName"] == {"Ref": "OrganizationBus"}


def test_the_member_template_forwards_the_same_events() -> None:
    r = _template("member-forwarder.yaml")
    rule = r["ForwardRule"]["Properties"]
    assert sorted(rule["EventPattern"]["detail"]["eventName"]) == sorted(EVENT_NAMES)
    assert rule["Targets"][0]["Arn"] == {"Ref": "CentralBusArn"}
    (policy,) = r["ForwardRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"][0]["Action"] == "events:PutEvents"


def test_the_pattern_routes_the_contract_events_and_nothing_else(moto: MotoServer) -> None:
    pattern = _template("events.yaml")["ChangeEventsRule"]["Properties"]["EventPattern"]
    pipe = EventPipe(moto.endpoint, pattern=pattern).create()
    pipe.emit("PutBucketPolicy", {"bucketName": "routed-bucket"})
    pipe.emit("ModifySnapshotAttribute", {"snapshotId": "snap-0123456789abcdef0"}, service="ec2")
    pipe.emit("GetBucketPolicy", {"bucketName": "routed-bucket"})  # a read: not routed
    pipe.emit("PutObject", {"bucketName": "routed-bucket", "key": "k"})  # a data event: not routed
    got = pipe.sqs.receive_message(QueueUrl=pipe.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    names = sorted(json.loads(m["Body"])["detail"]["eventName"] for m in got)
    assert names == ["ModifySnapshotAttribute", "PutBucketPolicy"]
    assert all(parse_envelope(m["Body"]).targets for m in got)


AZURE = DEPLOY.parent / "azure"


def test_the_azure_bicep_files_wire_event_grid_to_the_queue() -> None:
    """No Bicep compiler here: the files name what the parser expects (the two event types, the storage operations,
    a Storage Queue destination in Event Grid's schema) and the roles the daemon and the topic need."""
    main = (AZURE / "events.bicep").read_text()
    assert "targetScope = 'subscription'" in main
    for module in ("events-queue.bicep", "events-topic.bicep", "events-sender.bicep"):
        assert f"'{module}'" in main and (AZURE / module).is_file()
    topic = (AZURE / "events-topic.bicep").read_text()
    assert "topicType: 'Microsoft.Resources.Subscriptions'" in topic
    assert "endpointType: 'StorageQueue'" in topic and "eventDeliverySchema: 'EventGridSchema'" in topic
    for event_type in EVENT_TYPES:
        assert f"'{event_type}'" in topic
    containers = "storageAccounts/blobServices/containers"
    for operation in ("storageAccounts/write", "storageAccounts/delete", f"{containers}/write", f"{containers}/delete"):
        assert f"Microsoft.Storage/{operation}'" in topic
    queue = (AZURE / "events-queue.bicep").read_text()
    assert "allowBlobPublicAccess: false" in queue and "8a0f0c08-91a1-4084-bc3d-661d67233fed" in queue  # processor
    assert "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a" in (AZURE / "events-sender.bicep").read_text()  # sender
    for text in (main, topic, queue):
        assert text.count("{") == text.count("}") and text.count("[") == text.count("]")
