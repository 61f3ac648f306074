"""The alert outbox (see deliver.py while it is being split)."""
