"""The incident dossier of one exposure in JSON (the contract shape, ``Dossier.to_dict``), Markdown and HTML.

Everything from a cloud is untrusted text: the HTML template autoescapes every value and the page loads nothing
(a Content-Security-Policy allows only its own inline style, by hash); Markdown escapes its special characters.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from cloudwatchdog import __version__
from cloudwatchdog.forensics.model import Dossier
from cloudwatchdog.render.html import content_security_policy, reports_dir

TEMPLATE = "incident.html.j2"
# Enough to keep cloud text from making markup: no emphasis, code, link, HTML or table cell of its own.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# C0 and C1 controls and DEL: a Markdown file is read in a terminal (cat, --output -), where they are commands.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def incident_stem(finding_id: str) -> str:
    """The dossier's file name without extension; the HTML report links ``incident-<finding id>.html``."""
    return f"incident-{finding_id}"


def render_dossier(dossier: Dossier, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(_clean(dossier.to_dict()), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(_clean(dossier.to_dict()))
    if fmt == "html":
        return _html(_clean(dossier.to_dict()))
    raise ValueError(f"unknown dossier format {fmt!r}")


def _clean(value: Any) -> Any:
    """The dossier with every string encodable as UTF-8: a log's JSON can hold a lone surrogate (``"\\udc80"``),
    which no file or terminal can take; it becomes U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The dossier's conclusion in plain sentences (the same in every format)."""
    a = doc["access"]
    window = "; ".join(f"{w['from']} to {w['to']}" for w in doc["windows"])
    out = [f"Exposure window as the store knows it: {window}" + (" (still open)" if doc["open_now"] else "") + "."]
    start = doc["estimated_start"]
    if start:
        out.append(f"It may have begun earlier, by {start['at']}: {start['evidence']}.")
    if a["status"] in ("no_logs", "unknown") and a["external_requests"] == 0:
        out.append("Whether anyone outside accessed it cannot be established from the logs.")
    elif a["external_requests"]:
        out.append(f"The logs show {a['external_requests']} successful read/list request(s) from outside "
                   f"({a['anonymous_requests']} anonymous) from {a['distinct_ips']} distinct IP(s), "
                   f"{a['objects']} object(s) read, {a['bytes_sent']} bytes sent, from {a['first']} to {a['last']}.")
    else:
        covered = "the whole window" if a["status"] == "analysed" else "the covered part of the window"
        out.append(f"The logs show no successful read or list from outside during {covered}.")
    for gap in a["gaps"]:
        out.append(f"Access during {gap['from'][:10]} to {gap['to'][:10]} cannot be established: {gap['reason']}.")
    return out


def _md(text: Any) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub("\ufffd", str(text).replace("\n", " ").replace("\r", " ")))


def _markdown(doc: dict[str, Any]) -> str:
    f, a = doc["finding"], doc["access"]
    lines = [f"# Incident dossier: {_md(f['resource_name'])}", "",
             f"Finding `{f['id']}` ({_md(f['rule_id'])}, {f['severity']}): {_md(f['title'])}  ",
             f"Resource: {_md(f['resource_uid'])} ({_md(f['resource_type'])}, {f['provider']} account "
             f"{_md(f['account'])}, {_md(f['region'])})  ", f"Generated {doc['generated_at']}.", "",
             "As the store knows it: " + "; ".join(f"{_md(k)}: {_md(v)}" for k, v in doc["resource"].items()), "",
             "## Summary", ""]
    lines += [f"- {_md(s)}" for s in summary_lines(doc)]
    lines += ["", "## Access", "", f"Status: **{a['status']}**; sources: {_md(', '.join(a['sources']) or 'none')}; "
              f"{a['lines']} log line(s) read, {a['skipped_lines']} malformed skipped.", "",
              "| requests | external | anonymous | owner | organisation | distinct IPs | objects | bytes sent |",
              "|---|---|---|---|---|---|---|---|",
              f"| {a['requests']} | {a['external_requests']} | {a['anonymous_requests']} | {a['owner_requests']} | "
              f"{a['organisation_requests']} | {a['distinct_ips']}{'' if a['distinct_ips_exact'] else ' (est.)'} | "
              f"{a['objects']} | {a['bytes_sent']} |", ""]
    if a["coverage"]:
        lines += ["Covered by logs: " + "; ".join(f"{c['from']} to {c['to']}" for c in a["coverage"]), ""]
    if a["top_clients"]:
        lines += ["### Top clients", "", "| IP | requester | requests | bytes sent |", "|---|---|---|---|"]
        lines += [f"| {_md(c['ip'])} | {_md(c['requester'])} | {c['requests']} | {c['bytes_sent']} |"
                  for c in a["top_clients"]]
        lines.append("")
    if a["objects_read"]:
        lines += ["### Most-read objects", "", "| object | requests | bytes sent |", "|---|---|---|"]
        lines += [f"| {_md(o['key'])} | {o['requests']} | {o['bytes_sent']} |" for o in a["objects_read"]]
        lines.append("")
    if a["notes"]:
        lines += ["### Notes", ""] + [f"- {_md(n)}" for n in a["notes"]] + [""]
    data = doc["data"]
    lines += ["## Data", ""]
    if data is None:
        lines.append("Data sampling is off: what the resource holds was not sampled.")
    else:
        reason = f" ({_md(data.get('reason'))})" if data.get("reason") else ""
        lines.append(f"Sampling: {data.get('status')}{reason}")
        lines += [f"- {_md(c['class'])}: {c['count']} in {c['objects']} object(s)" for c in data.get("classes", [])
                  if isinstance(c, dict) and "class" in c]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(reports_dir()), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1a1a1a;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.mono{font-family:ui-monospace,monospace}.muted{color:#666}.status{font-weight:bold}.gap{color:#8a1c1c}"""


def _html(doc: dict[str, Any]) -> str:
    # No script: the policy's script hash is of an empty script, which the page does not have.
    return _environment().get_template(TEMPLATE).render(
        doc=doc, summary=summary_lines(doc), css=Markup(_CSS), csp=content_security_policy(_CSS, ""),
        version=__version__)
