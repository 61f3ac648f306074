"""cloudwatchdog: finds cloud storage exposed to the internet, and keeps watching."""

__version__ = "0.1.0"
