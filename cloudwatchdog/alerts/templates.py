"""The message templates: Jinja2 files in reports/alerts/, overridable per target with `templates_dir`.

A file in the target's `templates_dir` replaces the built-in file of the same name; the others stay built-in.
Templates make the human text only; the channel structures (Block Kit, Adaptive Card, MIME parts, PagerDuty and
webhook JSON) are built in messages.py, so an override cannot produce a payload the platform rejects.

Everything from a cloud is untrusted (a bucket name or tag can hold markup), so every ``{{ value }}`` is escaped
for where it lands, chosen by the file name:

- ``*.html.j2``: HTML autoescape (Jinja2 / MarkupSafe);
- ``*.mrkdwn.j2``: Slack mrkdwn, whose control characters ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and
  ``&gt;`` (Slack's documented escaping: no link, mention or ``<!channel>`` can be injected);
- ``*.txt.j2``: plain text, no escaping. Slack header blocks and email subjects are plain text; Teams text is put
  in TextRun elements, which render no Markdown (see messages.py).

Undefined variables are errors (a typo in an override fails loudly in ``cloudwatchdog alerts test``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_NAMES = (
    "title.txt.j2",
    "slack_event.mrkdwn.j2",
    "teams_event.txt.j2",
    "email.txt.j2",
    "email.html.j2",
)


def builtin_templates_dir() -> Path:
    """reports/alerts: packaged in the wheel as ``cloudwatchdog/_reports/alerts``, or ``<repo>/reports/alerts``
    in a source checkout."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_reports" / "alerts"
    if packaged.is_dir():
        return packaged
    return here.parents[2] / "reports" / "alerts"


class SlackSafe(str):
    """Text already in Slack mrkdwn (made by cloudwatchdog, not from a cloud): not escaped again."""


def slack_escape(value: object) -> str:
    if isinstance(value, SlackSafe):
        return value
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Templates:
    """The templates of one target: its `templates_dir` (if any) first, then the built-in ones."""

    def __init__(self, override_dir: Path | None = None):
        self.override_dir = override_dir
        self._envs = _environments(str(override_dir) if override_dir else None)

    def render(self, name: str, **context: Any) -> str:
        env = self._envs["mrkdwn" if name.endswith(".mrkdwn.j2") else "html" if name.endswith(".html.j2") else "text"]
        return env.get_template(name).render(**context)

    def check(self) -> list[str]:
        """Problems with the templates (missing file, syntax error), as messages; empty when all compile."""
        problems = []
        for name in TEMPLATE_NAMES:
            try:
                self._envs["text"].get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{exc.filename or name}:{exc.lineno}: {exc.message}")
            except jinja2.TemplateNotFound:
                problems.append(f"template {name} not found")
        return problems


@lru_cache(maxsize=32)
def _environments(override_dir: str | None) -> dict[str, jinja2.Environment]:
    search = [override_dir] if override_dir else []
    loader = jinja2.FileSystemLoader([*search, str(builtin_templates_dir())])
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": False,
    }
    envs = {
        "text": jinja2.Environment(autoescape=False, **common),  # plain text: escaped where it lands
        "html": jinja2.Environment(autoescape=True, **common),
        "mrkdwn": jinja2.Environment(autoescape=False, finalize=slack_escape, **common),
    }
    for env in envs.values():
        env.filters["slack_escape"] = slack_escape
    return envs
