"""Hand-built report data for the renderer tests (pure: no scan, no store).

``sample_report`` is a small estate with every section, coverage status and lifecycle state; ``hostile_report``
puts markup and spreadsheet formulas in every cloud-provided string; ``large_report`` makes N findings with
realistic evidence for the 10,000-finding browser test and the benchmark.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Evidence,
    Exposure,
    Finding,
    FindingState,
    Level,
    Remediation,
    Resource,
    ScanResult,
    Severity,
    SuppressionInfo,
)
from cloudwatchdog.report_model import (
    CoverageRow,
    ExposureWindow,
    Headline,
    Interval,
    ReportData,
    ReportFinding,
    ScanInfo,
    TrendPoint,
)

GENERATED_AT = "2026-11-21T07:00:00Z"
SINCE = "2026-11-20T07:00:00Z"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(1)</script>"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"

_NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
_RULES = {
    "aws-s3-bucket-public": ("S3 bucket is public", "aws.s3.bucket"),
    "aws-s3-bucket-cross-account": ("S3 bucket is shared with another account", "aws.s3.bucket"),
    "gcp-storage-bucket-public": ("Cloud Storage bucket is public", "gcp.storage.bucket"),
    "azure-storage-container-public": ("Blob container allows anonymous access", "azure.storage.container"),
}
_REMEDIATION = Remediation(
    "Turn on all four Block Public Access settings for the bucket (or the account) unless the bucket is meant to be "
    "public; then remove the public statements from the bucket policy and the AllUsers/AuthenticatedUsers grants "
    "from the ACLs (setting Object Ownership to BucketOwnerEnforced disables ACLs).",
    None,
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def days_ago(days: float) -> str:
    return iso(_NOW - timedelta(days=days))


def finding(i: int, *, rule_id: str = "aws-s3-bucket-public", severity: Severity = Severity.HIGH,
            state: FindingState = FindingState.OPEN, provider: str = "aws", account: str = "123456789012",
            region: str = "us-east-1", name: str | None = None, first_seen_days: float = 3.0,
            evidence: tuple[Evidence, ...] | None = None, resolved_days: float | None = None,
            suppression: SuppressionInfo | None = None, previous: Severity | None = None) -> Finding:
    title, rtype = _RULES[rule_id]
    name = name or f"bucket-{i:05d}"
    uid = {"aws": f"arn:aws:s3:::{name}", "gcp": f"//storage.googleapis.com/projects/_/buckets/{name}",
           "azure": f"/subscriptions/{account}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"
                    f"acct/blobServices/default/containers/{name}"}[provider]
    evidence = evidence if evidence is not None else realistic_evidence(provider, name, i)
    return Finding(
        id=f"fp{i:06d}{rule_id[:6]}",
        rule_id=rule_id,
        title=title,
        severity=severity,
        resource_uid=uid,
        provider=provider,
        account=account,
        region=region,
        resource_type=rtype,
        resource_name=name,
        message=f"{title}: {name} in {account}. Evidence: {evidence[0].detail if evidence else 'none'}",
        evidence=evidence,
        remediation=Remediation(_REMEDIATION.summary,
                                f"aws s3api put-public-access-block --bucket {name} "
                                "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
                                "BlockPublicPolicy=true,"
                                "RestrictPublicBuckets=true"),
        state=state,
        first_seen=days_ago(first_seen_days),
        last_seen=days_ago(resolved_days + 0.1) if resolved_days is not None else GENERATED_AT,
        compliance=("CIS AWS Foundations v3.0.0 2.1.4", "AWS Security Hub S3.2"),
        resolved_at=days_ago(resolved_days) if resolved_days is not None else None,
        previous_severity=previous,
        suppression=suppression,
    )


def realistic_evidence(provider: str, name: str, i: int) -> tuple[Evidence, ...]:
    if provider == "gcp":
        return (Evidence("iam-policy", f"binding roles/storage.objectViewer grants allUsers read on {name}"),
                Evidence("public-access-prevention", "publicAccessPrevention is 'inherited' (not enforced)"))
    if provider == "azure":
        return (Evidence("container-access", f"container {name} publicAccess is 'blob': anyone can read blobs"),
                Evidence("account-setting", "allowBlobPublicAccess is true on the storage account"))
    return (
        Evidence("bucket-policy", f"statement 'PublicRead{i % 7}' (index 0) allows s3:GetObject to Principal \"*\" "
                                  f"on arn:aws:s3:::{name}/* with no condition that limits the caller"),
        Evidence("block-public-access", "RestrictPublicBuckets is off at account and bucket level; "
                                        "BlockPublicPolicy is off (account: all off; bucket: not configured)"),
        Evidence("bucket-acl", "grant READ to AllUsers (http://acs.amazonaws.com/groups/global/AllUsers) is "
                               "ignored: Object Ownership is BucketOwnerEnforced"),
    )


def window(first_seen: str, end: str | None, *, now: str = GENERATED_AT) -> ExposureWindow:
    start = datetime.fromisoformat(first_seen.replace("Z", "+00:00"))
    stop = datetime.fromisoformat((end or now).replace("Z", "+00:00"))
    return ExposureWindow((Interval(first_seen, end),), int((stop - start).total_seconds()))


def report_finding(f: Finding) -> ReportFinding:
    assert f.first_seen is not None
    return ReportFinding(f, window(f.first_seen, f.resolved_at))


def trend(values: list[int]) -> tuple[TrendPoint, ...]:
    start = _NOW - timedelta(days=len(values) - 1)
    return tuple(TrendPoint((start + timedelta(days=k)).date().isoformat(), v) for k, v in enumerate(values))


COVERAGE = (
    CoverageRow(Coverage("aws", "123456789012", CoverageStatus.OK, 42, (), 310), "scan-1", GENERATED_AT),
    CoverageRow(Coverage("gcp", "acme-analytics", CoverageStatus.PARTIAL, 7,
                         ("storage.buckets.getIamPolicy on bucket logs-raw: 403 Forbidden",), 21),
                "scan-1", GENERATED_AT),
    CoverageRow(Coverage("azure", "0f1e2d3c-aaaa-bbbb-cccc-000000000001", CoverageStatus.ERROR, 0,
                         ("AuthorizationFailed: the client has no access to subscription 0f1e2d3c-...",), 1),
                "scan-1", GENERATED_AT),
)


def sample_report(**overrides: object) -> ReportData:
    new = (
        report_finding(finding(1, severity=Severity.CRITICAL, state=FindingState.NEW, name="payroll-exports",
                               first_seen_days=0.5)),
        report_finding(finding(2, rule_id="gcp-storage-bucket-public", provider="gcp", account="acme-analytics",
                               region="europe-west1", state=FindingState.NEW, name="ml-training-data",
                               first_seen_days=0.3)),
    )
    resolved = (report_finding(finding(3, severity=Severity.MEDIUM, state=FindingState.RESOLVED,
                                       rule_id="aws-s3-bucket-cross-account", name="old-share",
                                       first_seen_days=12, resolved_days=0.4)),)
    still_open = (
        report_finding(finding(4, name="website-assets", first_seen_days=18, account="210987654321")),
        report_finding(finding(5, rule_id="azure-storage-container-public", provider="azure",
                               account="0f1e2d3c-aaaa-bbbb-cccc-000000000001", region="westeurope",
                               severity=Severity.LOW, name="public-downloads", first_seen_days=5)),
    )
    suppressed = (report_finding(finding(
        6, state=FindingState.SUPPRESSED, severity=Severity.INFO, name="open-data-mirror", first_seen_days=40,
        suppression=SuppressionInfo("public dataset by design", "data-team@example.com", "2027-01-31", "config"))),)
    values = dict(
        title="cloudwatchdog daily report",
        generated_at=GENERATED_AT,
        since=SINCE,
        last_scan=ScanInfo("scan-1", "2026-11-21T06:58:00Z", GENERATED_AT, False),
        headline=Headline(public_now=4, became_public=2, closed=1),
        new=new,
        resolved=resolved,
        open=still_open,
        suppressed=suppressed,
        coverage=COVERAGE,
        trend=trend([1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 3, 3, 4]),
    )
    values.update(overrides)
    return ReportData(**values)  # type: ignore[arg-type]


def hostile_report() -> ReportData:
    """Every cloud-provided string carries markup or a spreadsheet formula."""
    evidence = (Evidence(XSS_IMG, f"statement '{XSS_SCRIPT}' allows s3:GetObject to \"*\" & more"),
                Evidence("tag", f"tag owner={XSS_IMG}"),
                Evidence("bucket-acl", FORMULA))
    f_img = finding(1, name=XSS_IMG, state=FindingState.NEW, account="123456789012", evidence=evidence,
                    region=XSS_SCRIPT)
    f_script = finding(2, name=XSS_SCRIPT, state=FindingState.OPEN, evidence=evidence, first_seen_days=9)
    f_formula = finding(3, name=FORMULA, state=FindingState.OPEN, evidence=evidence, first_seen_days=4,
                        account="-2+3")
    cov = (CoverageRow(Coverage("aws", XSS_IMG, CoverageStatus.ERROR, 0, (XSS_SCRIPT,), 1), "s", GENERATED_AT),)
    return sample_report(new=(report_finding(f_img),), open=(report_finding(f_script), report_finding(f_formula)),
                         resolved=(), suppressed=(), coverage=cov, title=f"report {XSS_SCRIPT}")


def large_report(n: int) -> ReportData:
    """N findings across 3 providers, 40 accounts, every severity and section."""
    providers = ("aws", "gcp", "azure")
    rules = {"aws": ("aws-s3-bucket-public", "aws-s3-bucket-cross-account"), "gcp": ("gcp-storage-bucket-public",),
             "azure": ("azure-storage-container-public",)}
    severities = list(Severity)
    sections: dict[FindingState, list[ReportFinding]] = {s: [] for s in FindingState}
    for i in range(n):
        provider = providers[i % 3]
        state = (FindingState.NEW, FindingState.OPEN, FindingState.OPEN, FindingState.RESOLVED,
                 FindingState.SUPPRESSED)[i % 5]
        rule_options = rules[provider]
        f = finding(i, rule_id=rule_options[i % len(rule_options)], provider=provider,
                    account=f"{provider}-account-{i % 40:02d}", severity=severities[i % 5], state=state,
                    first_seen_days=1 + (i % 29), resolved_days=0.5 if state is FindingState.RESOLVED else None,
                    suppression=SuppressionInfo("accepted risk", "team@example.com", None, "config")
                    if state is FindingState.SUPPRESSED else None)
        sections[state].append(report_finding(f))
    opened = sorted(sections[FindingState.OPEN], key=lambda rf: -rf.window.total_seconds)
    cov = tuple(CoverageRow(Coverage(p, f"{p}-account-{k:02d}", CoverageStatus.OK if k % 13 else
                                     CoverageStatus.PARTIAL, 100, () if k % 13 else ("throttled",), 700),
                            "scan-big", GENERATED_AT) for p in providers for k in range(40))
    return sample_report(new=tuple(sections[FindingState.NEW]), open=tuple(opened),
                         resolved=tuple(sections[FindingState.RESOLVED]),
                         suppressed=tuple(sections[FindingState.SUPPRESSED]), coverage=cov,
                         headline=Headline(len(opened) + len(sections[FindingState.NEW]),
                                           len(sections[FindingState.NEW]), len(sections[FindingState.RESOLVED])))


def sample_scan() -> ScanResult:
    """One scan, as ``scan`` produces it: findings with lifecycle fields, one resolved by this scan."""
    def resource(name: str, level: Level, account: str = "123456789012") -> Resource:
        return Resource(f"arn:aws:s3:::{name}", "aws", account, "us-east-1", "aws.s3.bucket", name,
                        Exposure(level, read=level is Level.PUBLIC, evidence=(Evidence("bucket-acl", "READ"),)))

    resources = (resource("payroll-exports", Level.PUBLIC), resource("website-assets", Level.PUBLIC),
                 resource("shared-logs", Level.CROSS_ACCOUNT), resource("private-1", Level.PRIVATE),
                 resource("open-data-mirror", Level.PUBLIC), resource("came-back", Level.PUBLIC))
    findings = (
        finding(1, name="payroll-exports", state=FindingState.NEW, severity=Severity.CRITICAL,
                first_seen_days=0.01),
        finding(2, name="website-assets", state=FindingState.OPEN, first_seen_days=18),
        finding(3, rule_id="aws-s3-bucket-cross-account", name="shared-logs", state=FindingState.OPEN,
                severity=Severity.MEDIUM, first_seen_days=2),
        finding(4, name="open-data-mirror", state=FindingState.SUPPRESSED, first_seen_days=40,
                suppression=SuppressionInfo("public by design", "data-team", None, "config")),
        finding(5, name="came-back", state=FindingState.REOPENED, first_seen_days=30),
    )
    resolved = (finding(6, name="old-share", state=FindingState.RESOLVED, first_seen_days=12, resolved_days=0),)
    coverage = (Coverage("aws", "123456789012", CoverageStatus.OK, 6, (), 40),
                Coverage("aws", "210987654321", CoverageStatus.PARTIAL, 3, ("GetBucketPolicy: AccessDenied",), 12))
    return ScanResult("scan-42", "2026-11-21T06:55:00Z", GENERATED_AT, coverage, resources, findings,
                      resolved=resolved)


def first_scan() -> ScanResult:
    """A scan not recorded in the store: every finding in its default state (new) without first_seen."""
    scan = sample_scan()
    bare = tuple(dataclasses.replace(f, state=FindingState.NEW, first_seen=None, last_seen=None,
                                     suppression=None) for f in scan.findings)
    return dataclasses.replace(scan, findings=bare, resolved=())
