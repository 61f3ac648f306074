"""The alert outbox: alerts written in the transaction that records the state change, then delivered with retries.

Enqueue (``outbox_hook``): the state store calls the hook inside the transaction that records a scan; the hook turns
the lifecycle events into alert events (``events.from_lifecycle``), routes them over the configured targets
(``routing.route``) and inserts one ``alert_outbox`` row per (target, event), keyed by the delivery id
``"<target>:<event key>"`` (unique: enqueueing the same event again is a no-op). Rows of ``immediate`` targets are
due at once, with the channel payload built then (``registry.build_payload``: it holds no secret); rows of
``digest`` targets are held until ``send_digests`` bundles them. The hook does no network I/O and never raises for a
target: a message that cannot be built becomes a ``dead`` row with the reason, so the scan is still recorded.

Deliver (``deliver_due``): a worker claims one due row at a time (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``;
SQLite: the database write lock), marks it ``sending`` with a lease (owner, until) and commits; then delivers it
outside any transaction (``registry.deliver``) and records the outcome: ``sent``; ``pending`` again after an
exponential backoff with jitter (``settings.alerts.RetryPolicy``, never sooner than Retry-After); or ``dead`` after a
permanent failure, too many attempts or too long. A worker killed mid-delivery (``kill -9``) leaves its row
``sending`` until the lease expires; then any worker claims it again. Rows of one finding for one target go out in
order (a PagerDuty resolve never overtakes its trigger).

A run delivers only the rows of the targets its own config names. Rows of any other target stay as they are
(pending or held, no attempt counted): a run with another config, or none (`cloudwatchdog alerts deliver` without
``-c``), must not give up alerts meant for targets it does not know. Rows of a target removed or renamed for good
stay pending (``alerts list`` shows them; ``outbox_stats`` counts them) until the target is configured again.

Each attempt ends well within its lease (``LEASE_PER_TIMEOUT`` x the target's timeout): HTTP and SMTP deliveries
are cut off after ``deadline.TOTAL_PER_TIMEOUT`` x the timeout in all, however slowly the receiver answers. Should
a lease still expire mid-delivery (a stalled process), the outcome is not recorded over the new holder's, and the
run does not count the row as sent: its new holder reports it.

The guarantee, precisely: every alert is delivered at least once, with the same delivery id on every attempt
(webhook ``X-Cloudwatchdog-Delivery``, email ``Message-ID``, PagerDuty ``dedup_key`` = the finding id). A crash
between a receiver's answer and the row being marked ``sent`` repeats that one delivery, which receivers drop by
its id. Everything else happens exactly once: one row per (target, event), one live lease per row.
"""
