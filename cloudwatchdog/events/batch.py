"""Coalescing (pure): change events are gathered per account until ``window`` seconds pass without another one
for it (or ``HOLD`` windows since the first, so that a steady stream still gets rescanned), then the account gets
one rescan of everything its events named (each resource once), or of the whole account when one of them was
account-wide. A Terraform apply that changes 300 buckets in a minute is a few rescans, not 300 each."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudwatchdog.events.model import ChangeTarget, Message

HOLD = 5  # a batch waits at most this many windows after its first event


@dataclass
class Batch:
    """The events of one account within one window, and the messages that carried them."""

    provider: str
    account: str
    opened: float  # when its first event arrived (the consumer's clock)
    last: float = 0.0  # when its latest event arrived
    targets: dict[tuple[str, str], ChangeTarget] = field(default_factory=dict)  # (type, name) -> target
    account_wide: ChangeTarget | None = None  # the first account-wide change, when there was one
    messages: list[Message] = field(default_factory=list)

    def scope(self) -> tuple[ChangeTarget, ...] | None:
        """What to rescan: the named resources (sorted), or None for the whole account."""
        if self.account_wide is not None:
            return None
        return tuple(self.targets[k] for k in sorted(self.targets))

    def describe(self) -> str:
        if self.account_wide is not None:
            return f"{self.provider} account {self.account} (account-wide: {self.account_wide.event or 'change'})"
        return f"{self.provider} account {self.account}: {len(self.targets)} resource(s)"


class Batcher:
    """``add`` each message's targets as it arrives; ``due`` hands over the batches whose window has passed."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._open: dict[tuple[str, str], Batch] = {}

    def add(self, message: Message, targets: tuple[ChangeTarget, ...], now: float) -> list[Batch]:
        """File ``message`` under the batch of each account its targets name; returns those batches."""
        touched: list[Batch] = []
        for t in targets:
            key = (t.provider, t.account)
            batch = self._open.get(key)
            if batch is None:
                batch = self._open[key] = Batch(t.provider, t.account, now)
            batch.last = max(batch.last, now)
            if t.account_wide:
                batch.account_wide = batch.account_wide or t
            else:
                assert t.resource_type is not None and t.name is not None
                batch.targets.setdefault((t.resource_type, t.name), t)
            if batch not in touched:
                touched.append(batch)
                batch.messages.append(message)
        return touched

    def _due_at(self, b: Batch) -> float:
        return min(b.last + self.window, b.opened + HOLD * self.window)

    def due(self, now: float, *, all_: bool = False) -> list[Batch]:
        """The batches that are due (quiet for a window, or held for HOLD windows; every batch with ``all_``),
        oldest first, removed from the open ones."""
        ready = [k for k, b in self._open.items() if all_ or now >= self._due_at(b)]
        out = sorted((self._open.pop(k) for k in ready), key=lambda b: b.opened)
        return out

    def next_due(self) -> float | None:
        """When the first open batch is due (None: none open)."""
        return min((self._due_at(b) for b in self._open.values()), default=None)

    def __len__(self) -> int:
        return len(self._open)


__all__ = ["Batch", "Batcher"]
