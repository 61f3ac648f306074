"""`python -m cloudwatchdog`: the same as the `cloudwatchdog` console script."""

from cloudwatchdog.cli import run

run()
