"""The finding state store: every scan recorded, every finding followed over time (new, open, resolved,
reopened, suppressed), exposure windows, and the data behind the daily report.

``diff`` (pure) decides what a scan changes; ``store`` (SQLAlchemy: SQLite by default, PostgreSQL by URL) persists
it in one transaction; ``engine`` opens the database (URL, engine, migrations); ``report_data`` builds a report from
the store.
"""
