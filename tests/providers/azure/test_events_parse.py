"""The Event Grid message parser, pure: base64 (as Event Grid writes to a Storage Queue) or raw JSON; a container's
change names the container, a storage account's the whole subscription; other events ignored; hostile input is a
HintError."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudwatchdog.emulators.azurite_queue import resource_event
from cloudwatchdog.events.model import HintError
from cloudwatchdog.providers.azure.events_parse import parse_event_message

SUB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _b64(doc: Any) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def test_a_container_change_names_the_container() -> None:
    for delete in (False, True):
        (t,) = parse_event_message(_b64(resource_event(SUB, "rg", "acct1", "Brochures", delete=delete))).targets
        assert (t.provider, t.account, t.resource_type, t.name) == ("azure", SUB, "azure.storage.container",
                                                                    "acct1/brochures")
        assert t.event.endswith("/delete" if delete else "/write")


def test_a_storage_account_change_is_subscription_wide_and_raw_json_is_read() -> None:
    (t,) = parse_event_message(json.dumps(resource_event(SUB.upper(), "rg", "acct1"))).targets
    assert t.account_wide and t.account == SUB


def test_other_events_are_ignored() -> None:
    other = resource_event(SUB, "rg", "acct1", "c-one")
    for change in ({"eventType": "Microsoft.Resources.ResourceActionSuccess"},
                   {"data": {**other["data"], "status": "Failed"}},
                   {"data": {**other["data"], "resourceUri": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                                                             "Microsoft.Compute/virtualMachines/vm1"}},
                   {"data": {**other["data"], "resourceUri": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                                                             "Microsoft.Storage/storageAccounts/acct1/queueServices/"
                                                             "default"}}):
        hint = parse_event_message(_b64({**other, **change}))
        assert not hint.targets and hint.ignored


@pytest.mark.parametrize("body", [
    "not json", _b64([1]), _b64({"data": {}}),
    _b64(resource_event(SUB, "rg", "acct1", "../x")),
    _b64({**resource_event(SUB, "rg", "acct1"), "data": {"resourceUri": "/providers/Microsoft.Storage/storageAccounts/"
                                                                         "x", "status": "Succeeded"},
          "subject": None}),
])
def test_unreadable_messages_are_hint_errors(body: str) -> None:
    with pytest.raises(HintError):
        parse_event_message(body)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                    max_leaves=12))
def test_hostile_json_never_crashes(doc: Any) -> None:
    with contextlib.suppress(HintError):
        parse_event_message(_b64({"eventType": "Microsoft.Resources.ResourceWriteSuccess", "data": doc}))
