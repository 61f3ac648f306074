"""Fixture plugins for the emulators and servers tests need (registered in tests/conftest.py)."""
