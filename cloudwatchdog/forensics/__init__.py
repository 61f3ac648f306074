"""Access forensics, the pure core: who read an exposed resource during its exposure window.

``model`` holds the typed records and the dossier, ``aggregate`` the bounded-memory counting of parsed log records,
``spans`` the window arithmetic (coverage and gaps). The providers parse their clouds' access logs into
``AccessRecord`` values and hand them to an ``Aggregator``; ``commands/incident.py`` builds the dossier. Nothing here
does I/O.
"""
