"""Exposure analysis: pure functions from the typed resource model to an ``Exposure`` verdict."""
