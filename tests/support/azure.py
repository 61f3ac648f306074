"""Fixtures: azure (scaffold)."""
