"""One registry shape for every kind of plugin (providers, notifiers, output formats, ...).

A registry maps a name to the import path of one object (``"package.module:NAME"``) that implements the kind's
``Protocol``. Entries are imported when first used, so a scan of one cloud never imports another cloud's SDK, and
listing names imports nothing. ``get`` checks the loaded object against the protocol (the protocols are
``runtime_checkable``: attributes and methods are present), and a test resolves every entry of every registry, so
a typo in a path or a plugin missing a method fails the build rather than a user's run.

A new plugin is one module and one line in its kind's registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class UnknownPlugin(LookupError):
    """No plugin of this kind has that name; the message lists the names there are."""


class Registry(Generic[T]):
    def __init__(self, kind: str, protocol: type[Any], entries: Mapping[str, str]) -> None:
        self.kind = kind
        self.protocol = protocol
        self._entries = dict(entries)
        self._loaded: dict[str, T] = {}

    def names(self) -> list[str]:
        """Every registered name, in registration order (imports nothing)."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def target(self, name: str) -> str:
        """The import path behind ``name``."""
        self._check(name)
        return self._entries[name]

    def get(self, name: str) -> T:
        """The plugin called ``name``, imported on first use."""
        if name not in self._loaded:
            self._check(name)
            module, _, attr = self._entries[name].partition(":")
            obj = getattr(importlib.import_module(module), attr)
            if not isinstance(obj, self.protocol):
                raise TypeError(f"{self.kind} {name!r} ({self._entries[name]}) does not implement "
                                f"{self.protocol.__name__}")
            self._loaded[name] = cast(T, obj)
        return self._loaded[name]

    def items(self) -> Iterator[tuple[str, T]]:
        """Every plugin, loaded, in registration order."""
        for name in self._entries:
            yield name, self.get(name)

    def _check(self, name: str) -> None:
        if name not in self._entries:
            raise UnknownPlugin(f"unknown {self.kind} {name!r}; available: {', '.join(self._entries) or 'none'}")
