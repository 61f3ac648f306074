"""`python -m cloudwatchdog`: the same as the `cloudwatchdog` console script."""

import sys

from cloudwatchdog.cli import main

sys.exit(main())
