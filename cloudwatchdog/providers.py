"""The provider registry: one entry per cloud, plain and greppable.

Each provider has a collector (I/O: its config section -> raw snapshots, one per account, project or subscription)
and an analyser (pure: one snapshot -> its resources with verdicts, and one coverage entry). Both are named by
import path and loaded only when used, so a scan of one cloud never imports another cloud's SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from cloudwatchdog.model import Coverage, Resource

Progress = Callable[[str, int], None]
Snapshot = Mapping[str, Any]
Collector = Callable[..., list[Snapshot]]  # (provider config section, progress=...) -> snapshots
Analyser = Callable[[Snapshot], tuple[list[Resource], Coverage]]


@dataclass(frozen=True)
class Provider:
    name: str
    collector: str  # "module:function"
    analyser: str  # "module:function"

    def load_collector(self) -> Collector:
        return cast(Collector, _load(self.collector))

    def load_analyser(self) -> Analyser:
        return cast(Analyser, _load(self.analyser))


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


PROVIDERS: dict[str, Provider] = {
    "aws": Provider("aws", "cloudwatchdog.collectors.aws:collect_aws", "cloudwatchdog.inventory.aws:analyse_snapshot"),
    "gcp": Provider("gcp", "cloudwatchdog.collectors.gcp:collect_gcp", "cloudwatchdog.inventory.gcp:analyse_snapshot"),
    "azure": Provider("azure", "cloudwatchdog.collectors.azure:collect_azure",
                      "cloudwatchdog.inventory.azure:analyse_snapshot"),
}
