"""The process exit codes of every command (the README's table is the contract)."""

from __future__ import annotations

EXIT_OK = 0
# scan: an unsuppressed finding at or above --fail-on; check-policy: the policy is at least as open as --fail-on;
# alerts test / alerts deliver: a delivery failed. Never a crash.
EXIT_FINDINGS = 1
EXIT_USAGE = 2  # usage, config or rule error, or a state store that cannot be opened or written
EXIT_INCOMPLETE = 3  # some account, project, subscription or resource could not be read
EXIT_ERROR = 4  # an unexpected error (a bug), or the daemon's scheduler stopped: one line; --debug shows the traceback
EXIT_INTERRUPTED = 130  # Ctrl-C
