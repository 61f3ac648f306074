"""Output renderers: JSON, and the terminal summary."""
