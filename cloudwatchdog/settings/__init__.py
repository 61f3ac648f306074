"""Config sections, one module per part (the assembled `Config` lives in cloudwatchdog.config)."""
