"""Fixtures: gcs (scaffold)."""
