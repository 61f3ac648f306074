"""Collectors: the I/O edge, one module per provider, producing raw JSON-able snapshots."""
