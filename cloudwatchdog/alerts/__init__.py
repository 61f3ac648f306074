"""Alerts: lifecycle events (events.py) -> which target gets which (routing.py) -> one payload per channel
(messages.py, digest.py, human text from the Jinja2 templates in reports/alerts/) -> delivery, one module per channel
(registry.py names them). The outbox that stores and retries deliveries is built on these."""
