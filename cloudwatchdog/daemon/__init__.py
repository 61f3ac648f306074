"""`cloudwatchdog daemon`: scans, reports, digests and alert delivery on schedules (APScheduler), with an HTTP
endpoint for health, Prometheus metrics and the latest report.

scheduler.py builds the jobs from `schedules:`; jobs.py is what each job does; status.py remembers what ran and
judges health; metrics.py holds the Prometheus registry; http.py serves them; logs.py formats and redacts the logs;
run.py ties it together and handles SIGTERM/SIGINT.
"""
