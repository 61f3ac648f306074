"""Fixtures: postgres (scaffold)."""
