"""Rule files: schema, loading and located errors.

Every problem names the file, the line and the key, e.g.
``rules/aws/x.yaml:12: match.all[0].equalz: unknown operator``. All files are checked before anything is
raised, so one run reports every mistake.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloudwatchdog.model import Level, Severity
from cloudwatchdog.rules.match import Expr, KeyPath, Problem, parse_expr, suggest
from cloudwatchdog.rules.templates import Template, TemplateError, parse_template
from cloudwatchdog.yamlsource import (
    SourceError,
    SourceErrors,
    YamlDocument,
    load_yaml_file,
    validation_errors,
)

RULE_SUFFIX: Final = ".yaml"
TEST_SUFFIX: Final = ".test.yaml"
ANY_TYPE: Final = "*"
_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_RESOURCE_TYPE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$")

# The top-level keys of Resource.to_dict(), and the fields under exposure: a path outside them is a typo.
DOCUMENT_KEYS: Final = (
    "uid", "provider", "account", "region", "type", "name", "tags", "exposure", "properties", "data",
)
# The fields of ``data`` (present when data sampling read the resource's objects).
DATA_KEYS: Final = ("status", "reason", "objects_listed", "objects_sampled", "bytes_read", "classes", "summary")
_SCALAR_KEYS: Final = ("uid", "provider", "account", "region", "type", "name")
EXPOSURE_KEYS: Final = ("level", "latent", "read", "list", "write", "external_principals", "evidence")
_LIST_KEYS: Final = ("external_principals", "evidence")
_LEVELS: Final = tuple(level.value for level in Level)


# --- The loaded form ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    when: Expr
    severity: Severity
    reason: Template


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    resource_types: tuple[str, ...]  # ("*",) for every type
    description: str
    remediation_summary: Template
    remediation_cli: Template | None
    references: tuple[str, ...]
    compliance: tuple[str, ...]
    match: Expr
    escalate: tuple[Escalation, ...]
    message: Template
    false_positives: tuple[str, ...]
    source: str  # the file, as shown in errors
    path: Path  # the file, resolved
    evidence: tuple[tuple[str, Template], ...] = ()  # (source, detail template); empty: the exposure's evidence

    def applies_to(self, resource_type: str) -> bool:
        return self.resource_types == (ANY_TYPE,) or resource_type in self.resource_types


# --- The file schema (pydantic checks shape and types; the match language and templates are parsed after) ---


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1)]


class RemediationSpec(_Strict):
    summary: NonEmpty
    cli: NonEmpty | None = None


class EscalationSpec(_Strict):
    when: Any
    severity: Severity
    reason: NonEmpty


class EvidenceSpec(_Strict):
    source: NonEmpty  # e.g. uniform-bucket-level-access
    detail: NonEmpty  # a template, like message


class RuleSpec(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    title: NonEmpty
    severity: Severity
    resource: NonEmpty | Annotated[list[NonEmpty], Field(min_length=1)]
    description: NonEmpty
    remediation: RemediationSpec
    references: list[NonEmpty] = []
    compliance: list[NonEmpty] = []
    match: Any
    escalate: list[EscalationSpec] = []
    message: NonEmpty
    # The finding's own evidence (a hygiene finding says what it is about); without it, the resource's exposure
    # evidence.
    evidence: list[EvidenceSpec] = []
    false_positives: list[NonEmpty] = []

    @field_validator("resource", mode="before")
    @classmethod
    def _one_message_for_the_union(cls, v: Any) -> Any:
        if isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(t, str) for t in v)):
            return v
        raise ValueError("must be a resource type such as aws.s3.bucket, a list of types, or '*'")


_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": tuple(RuleSpec.model_fields),
    "remediation": tuple(RemediationSpec.model_fields),
    "escalate": tuple(EscalationSpec.model_fields),
    "evidence": tuple(EvidenceSpec.model_fields),
}


# --- Locating the files -------------------------------------------------------------------------------------


def builtin_rules_dir() -> Path:
    """The rules shipped with cloudwatchdog: packaged in the wheel as ``cloudwatchdog/_builtin_rules``, or
    ``<repo>/rules`` in a source checkout. The packaged copy is checked first: in site-packages,
    ``parents[2]`` is site-packages itself, where a ``rules`` directory could belong to anything."""
    return rules_dir_beside(Path(__file__).resolve())


def rules_dir_beside(module_file: Path) -> Path:
    """The built-in rules directory for this module file (``cloudwatchdog/rules/loader.py``)."""
    packaged = module_file.parents[1] / "_builtin_rules"
    if packaged.is_dir():
        return packaged
    return module_file.parents[2] / "rules"


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it (shorter errors), else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def rule_files(paths: Sequence[Path], errors: list[SourceError]) -> list[Path]:
    """Rule files under ``paths`` (``*.yaml`` recursively, not ``*.test.yaml``), once each, stably ordered."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        if p.is_dir():
            found = sorted(
                f for f in p.rglob(f"*{RULE_SUFFIX}")
                if not f.name.endswith(TEST_SUFFIX)
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            if p.name.endswith(TEST_SUFFIX):
                errors.append(SourceError(str(p), None, "",
                                          "this is a rule test file; give the rule file or its directory"))
                continue
            found = [p]
        else:
            errors.append(SourceError(str(p), None, "", "no such file or directory"))
            continue
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


# --- Loading ------------------------------------------------------------------------------------------------


def load_rules(paths: Sequence[Path] = (), disable: Collection[str] = ()) -> list[Rule]:
    """The built-in rules plus the rule files and directories in ``paths``, without the ``disable``d ids.

    Raises ``SourceErrors`` with every problem across all files: schema errors, duplicate ids, unknown
    disabled ids.
    """
    errors: list[SourceError] = []
    rules = _load(rule_files([builtin_rules_dir(), *paths], errors), errors)
    known = {r.id for r in rules}
    for rule_id in sorted(set(disable) - known):
        hint = suggest(rule_id, sorted(known))
        errors.append(SourceError("rules.disable", None, rule_id,
                                  f"unknown rule id ({hint}`cloudwatchdog rules validate` lists the rules)"))
    if errors:
        raise SourceErrors(errors)
    return [r for r in rules if r.id not in disable]


def load_rule_files(paths: Sequence[Path]) -> list[Rule]:
    """Only the rules in ``paths`` (no built-ins): for testing and validating a rule set on its own."""
    errors: list[SourceError] = []
    rules = _load(rule_files(paths, errors), errors)
    if errors:
        raise SourceErrors(errors)
    return rules


def _load(files: Sequence[Path], errors: list[SourceError]) -> list[Rule]:
    rules: list[Rule] = []
    first: dict[str, tuple[Rule, int | None]] = {}
    shipped = builtin_rules_dir().resolve()
    for f in files:
        try:
            # The shipped rules are trusted files (parsed by libyaml); user rule files keep the pure-Python parser.
            doc = load_yaml_file(display_path(f), trusted=f.resolve().is_relative_to(shipped))
            rule = parse_rule(doc, f)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        line = doc.line_of(("id",))
        if rule.id in first:
            other, other_line = first[rule.id]
            where = f"{other.source}:{other_line}" if other_line else other.source
            errors.append(SourceError(rule.source, line, "id",
                                      f"duplicate rule id {rule.id} (also in {where})"))
            continue
        first[rule.id] = (rule, line)
        rules.append(rule)
    return rules


def parse_rule(doc: YamlDocument, path: Path) -> Rule:
    """Validate one rule document read from ``path`` (whose base name the id must match)."""
    data = doc.data
    if not isinstance(data, dict):
        raise SourceErrors([doc.error((), "a rule file is a mapping of keys (id, title, severity, ...)")])
    errors: list[SourceError] = []
    spec: RuleSpec | None = None
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        errors.extend(polish(validation_errors(exc, doc)))

    expected_id = path.name.removesuffix(RULE_SUFFIX)
    if isinstance(data.get("id"), str) and data["id"] != expected_id:
        errors.append(doc.error(("id",), f"must equal the file name {expected_id!r} (found {data['id']!r})"))

    problems: list[Problem] = []
    match = parse_expr(data["match"], ("match",), problems, check_condition) if "match" in data else None
    escalations = data.get("escalate")
    whens: list[Expr | None] = []
    if isinstance(escalations, list):
        for i, esc in enumerate(escalations):
            has_when = isinstance(esc, dict) and "when" in esc
            whens.append(parse_expr(esc["when"], ("escalate", i, "when"), problems, check_condition)
                         if has_when else None)
    errors.extend(doc.error(at, msg) for at, msg in problems)

    templates = {at: _template(data, at, doc, errors) for at in _template_paths(data)}
    if spec is not None:
        errors.extend(_check_spec(spec, doc))
    if errors:
        raise SourceErrors(sorted(errors, key=lambda e: e.line or 0))  # read top to bottom
    assert spec is not None and match is not None  # no errors means both parsed
    types = (spec.resource,) if isinstance(spec.resource, str) else tuple(spec.resource)
    cli = templates.get(("remediation", "cli"))
    return Rule(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        resource_types=types,
        description=spec.description.strip(),
        remediation_summary=templates[("remediation", "summary")],
        remediation_cli=cli,
        references=tuple(spec.references),
        compliance=tuple(spec.compliance),
        match=match,
        escalate=tuple(
            Escalation(when, e.severity, templates[("escalate", i, "reason")])
            for i, (e, when) in enumerate(zip(spec.escalate, whens, strict=True)) if when is not None
        ),
        message=templates[("message",)],
        false_positives=tuple(spec.false_positives),
        source=doc.file,
        path=path.resolve(),
        evidence=tuple((e.source, templates[("evidence", i, "detail")]) for i, e in enumerate(spec.evidence)),
    )


def check_condition(path: tuple[str, ...], operator: str, value: Any) -> tuple[str, str] | None:
    """Document-level checks: the path must exist in ``Resource.to_dict()``, levels must be real levels."""
    root = path[0]
    if root not in DOCUMENT_KEYS:
        hint = suggest(root, DOCUMENT_KEYS)
        return "path", f"unknown path root {root!r} ({hint}known: {', '.join(DOCUMENT_KEYS)})"
    if root in _SCALAR_KEYS and len(path) > 1:
        return "path", f"{root} is a plain value and has no fields"
    if root == "exposure" and len(path) > 1:
        field = path[1]
        if field not in EXPOSURE_KEYS:
            return "path", (f"unknown exposure field {field!r} ({suggest(field, EXPOSURE_KEYS)}"
                            f"known: {', '.join(EXPOSURE_KEYS)})")
        if len(path) > 2 and field not in _LIST_KEYS:
            return "path", f"exposure.{field} is a plain value and has no fields"
    if root == "data" and len(path) > 1:
        if path[1] not in DATA_KEYS:
            hint = suggest(path[1], DATA_KEYS)
            return "path", f"unknown data field {path[1]!r} ({hint}known: {', '.join(DATA_KEYS)})"
        if len(path) > 2 and path[1] != "classes":
            return "path", f"data.{path[1]} is a plain value and has no fields"
    if path == ("exposure", "level") and operator in ("equals", "not_equals", "in", "not_in"):
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in _LEVELS:
                return operator, f"{v!r} is not an exposure level (known: {', '.join(_LEVELS)})"
    return None


def _check_spec(spec: RuleSpec, doc: YamlDocument) -> list[SourceError]:
    errors = []
    types = [spec.resource] if isinstance(spec.resource, str) else spec.resource
    for i, t in enumerate(types):
        at: KeyPath = ("resource",) if isinstance(spec.resource, str) else ("resource", i)
        if t == ANY_TYPE and len(types) > 1:
            errors.append(doc.error(at, "'*' (every type) cannot be combined with other types"))
        elif t != ANY_TYPE and not _RESOURCE_TYPE.match(t):
            errors.append(doc.error(at, f"{t!r} is not a resource type such as aws.s3.bucket, or '*'"))
    for i, esc in enumerate(spec.escalate):
        if esc.severity.rank <= spec.severity.rank:
            errors.append(doc.error(("escalate", i, "severity"),
                                    f"must be higher than the rule severity ({spec.severity.value}); "
                                    "escalations only raise severity"))
    for i, url in enumerate(spec.references):
        if not re.match(r"^https?://\S+$", url):
            errors.append(doc.error(("references", i), "must be an http(s) URL"))
    return errors


def _template_paths(data: dict[str, Any]) -> list[KeyPath]:
    paths: list[KeyPath] = [("message",)]
    remediation = data.get("remediation")
    if isinstance(remediation, dict):
        paths += [("remediation", k) for k in ("summary", "cli") if isinstance(remediation.get(k), str)]
    escalations = data.get("escalate")
    if isinstance(escalations, list):
        paths += [("escalate", i, "reason") for i, e in enumerate(escalations) if isinstance(e, dict)]
    evidence = data.get("evidence")
    if isinstance(evidence, list):
        paths += [("evidence", i, "detail") for i, e in enumerate(evidence) if isinstance(e, dict)]
    return paths


def _template(data: dict[str, Any], path: KeyPath, doc: YamlDocument, errors: list[SourceError]) -> Template:
    node: Any = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    if not isinstance(node, str):
        return parse_template("")  # missing or mistyped: pydantic reports it
    try:
        return parse_template(node)
    except TemplateError as exc:
        errors.append(doc.error(path, str(exc)))
        return parse_template("")


def polish(errors: list[SourceError]) -> list[SourceError]:
    """Pydantic's words for a rule author: "did you mean ...?" for unknown keys, no class names."""
    out = []
    for e in errors:
        message = re.sub(r"^Value error, ", "", e.message)
        message = re.sub(r"a valid dictionary or instance of \w+", "a mapping", message)
        e = SourceError(e.file, e.line, e.key, message)
        if e.message == "unknown key":
            parts = re.split(r"[.\[]", e.key)
            parent = parts[0] if len(parts) > 1 else ""
            known = _KNOWN_KEYS.get(parent)
            if known:
                hint = suggest(parts[-1], known)
                e = SourceError(e.file, e.line, e.key, f"unknown key ({hint}known: {', '.join(known)})")
        out.append(e)
    return out
