"""`state:` and `suppressions:`. (Scaffold: the state work fills this in.)"""

from __future__ import annotations

from cloudwatchdog.settings.base import StrictModel


class StateConfig(StrictModel):
    url: str = "sqlite:///cloudwatchdog.db"


class SuppressionConfig(StrictModel):
    reason: str
    owner: str
