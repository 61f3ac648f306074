"""Effective exposure of a Cloud Storage bucket (docs/exposure.md, "Google Cloud Storage").

A bucket is public when ``allUsers`` (anyone) or ``allAuthenticatedUsers`` (any Google account) is granted a role
in its IAM policy (or in its project's, when read), or, with uniform bucket-level access off, an entry in the
bucket ACL, the default object ACL or an object ACL. Public access prevention ``enforced`` neutralises all of them
(latent); ``inherited`` does not by itself (an organization policy may enforce it; this analysis does not read org
policies and says so). Named members outside the organization's domains and the scanned projects are external.

Decisions taken conservatively (a false "private" is the breach this tool exists to prevent):

- An IAM condition on a public binding does not make it non-public: no condition can be proven here to exclude
  every anonymous request, so it is recorded as evidence and the binding counts.
- A role whose permissions are not known (a custom role, an unknown ``roles/storage.*`` role, another service's
  predefined role, on the bucket or on the project) is assumed to allow read, list and write, and the evidence says
  so: many predefined roles of other services carry ``storage.objects.*`` permissions (Composer workers, Cloud Build
  builders, Dataproc workers...), so a project-level grant of one to an outside member is cross-account.
- A service account counts as ours when it belongs to a scanned project (``x@<project-id>.iam.gserviceaccount.com``,
  ``<project-id>@appspot.gserviceaccount.com``) or is a Google-managed account of a scanned project number in a
  domain only Google creates accounts in (service agents, the Compute Engine default account). A project number in
  any other address (``service-<our number>@someone-elses-project.iam.gserviceaccount.com``) proves nothing.
- A setting that could not be read makes the verdict unknown unless the verdict does not depend on it.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from cloudwatchdog.model import NO_CAPABILITIES, Capabilities, Evidence, Exposure, ReadError
from cloudwatchdog.providers.gcp.model import (
    ALL_AUTHENTICATED_USERS,
    ALL_USERS,
    PAP_ENFORCED,
    AclEntry,
    GcsBucket,
    IamCondition,
    IamPolicy,
    ObjectAclSample,
    TrustContext,
)
from cloudwatchdog.providers.verdict import Route
from cloudwatchdog.providers.verdict import VerdictReport as _Report
from cloudwatchdog.providers.verdict import verdict as _verdict

READ = Capabilities(read=True)
LIST = Capabilities(list=True)
WRITE = Capabilities(write=True)
ALL = Capabilities(read=True, list=True, write=True)

# Predefined roles and what they let a member do with a bucket's objects (Cloud Storage IAM roles reference).
ROLE_CAPABILITIES: dict[str, Capabilities] = {
    "roles/storage.objectViewer": READ | LIST,
    "roles/storage.objectCreator": WRITE,
    "roles/storage.objectUser": ALL,
    "roles/storage.objectAdmin": ALL,
    "roles/storage.folderAdmin": ALL,
    "roles/storage.admin": ALL,
    "roles/storage.legacyObjectReader": READ,
    "roles/storage.legacyObjectOwner": READ | WRITE,
    "roles/storage.legacyBucketReader": LIST,
    "roles/storage.legacyBucketWriter": LIST | WRITE,
    "roles/storage.legacyBucketOwner": LIST | WRITE,
    "roles/storage.bucketViewer": NO_CAPABILITIES,  # bucket metadata only
    "roles/storage.insightsCollectorService": NO_CAPABILITIES,
    "roles/storage.hmacKeyAdmin": NO_CAPABILITIES,
    # Basic roles (project level): conservative, they reach bucket data through the project convenience values.
    "roles/owner": ALL,
    "roles/editor": ALL,
    "roles/viewer": READ | LIST,
}
_BUCKET_ACL_ROLES = {"READER": LIST, "WRITER": LIST | WRITE, "OWNER": LIST | WRITE}
_OBJECT_ACL_ROLES = {"READER": READ, "OWNER": READ | WRITE}
_PUBLIC_MEMBERS = {
    ALL_USERS: "allUsers (anyone on the internet)",
    ALL_AUTHENTICATED_USERS: "allAuthenticatedUsers (any Google account)",
}
_CONVENIENCE = {"projectOwner": "owners", "projectEditor": "editors", "projectViewer": "viewers"}
_ACL_PROJECT = re.compile(r"^project-(owners|editors|viewers)-(.+)$")
# Google-managed accounts named after a project NUMBER (IAM "Service agents" page; the Compute Engine default
# account). Their domains belong to Google's own projects: nobody else can create an account there, so a number match
# is proof the account is the project's. The same local part in a customer project's domain is not.
_AGENT_IAM_DOMAINS = (
    r"gcp-sa-[a-z0-9-]+|gs-project-accounts|compute-system|container-engine-robot|containerregistry|"
    r"container-analysis|dataflow-service-producer-prod|dataproc-accounts|serverless-robot-prod|gcf-admin-robot|"
    r"cloudcomposer-accounts|gcp-gae-service|[a-z0-9-]+\.google\.com"  # google.com:<id> projects are Google's
)
_NUMBERED_ACCOUNTS = (
    re.compile(r"^(\d+)@cloudservices\.gserviceaccount\.com$"),  # Google APIs service agent
    re.compile(r"^(\d+)@cloudbuild\.gserviceaccount\.com$"),  # legacy Cloud Build service account
    re.compile(r"^(\d+)-compute@developer\.gserviceaccount\.com$"),  # Compute Engine default service account
    re.compile(rf"^service-p?(\d+)@(?:{_AGENT_IAM_DOMAINS})\.iam\.gserviceaccount\.com$"),  # service agents
)
_MAX_TEXT = 300


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def describe_access(access: Capabilities) -> str:
    parts = [name for name, on in (("read", access.read), ("list", access.list), ("write", access.write)) if on]
    return ", ".join(parts) or "bucket metadata only"


# --- Roles --------------------------------------------------------------------------------------------------


def role_capabilities(role: str, *, project_level: bool = False) -> tuple[Capabilities, str | None]:
    """(what the role allows on a bucket, a note when that is assumed). A role whose permissions this version does
    not know is assumed to allow read, list and write, on the bucket and on the project alike: predefined roles of
    other services may carry storage.objects.* permissions (roles/composer.worker, roles/cloudbuild.builds.builder,
    roles/dataproc.worker...), and their permission lists are not read."""
    base, _, _ = role.partition("_withcond_")  # how a v1 policy read names a conditional binding's role
    known = ROLE_CAPABILITIES.get(base)
    if known is not None:
        return known, None
    if base.startswith("roles/storage."):
        return ALL, f"{base} is not a Cloud Storage role this version knows: assumed to allow read, list and write"
    if "/roles/" in base:
        return ALL, f"custom role {base}: its permissions were not read; assumed to allow read, list and write"
    where = "granted on the project, it reaches every bucket of the project; " if project_level else ""
    return ALL, f"role {base} is not a Cloud Storage role this version knows: {where}its permissions were not " \
                "read, and roles of other services may carry storage.objects.* permissions; assumed to allow read, " \
                "list and write"


# --- Members ------------------------------------------------------------------------------------------------


class Kind(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    EXTERNAL = "external"
    DELETED = "deleted"


@dataclass(frozen=True)
class BucketOwner:
    """The bucket's own project (id and number) and the trust context of the scan: who counts as "ours"."""

    project: str
    number: str | None
    trust: TrustContext

    def project_known(self, project: str) -> bool:
        return project == self.project or project in self.trust.projects

    def number_known(self, number: str) -> bool:
        return number == self.number or number in self.trust.project_numbers

    def domain_known(self, domain: str) -> bool:
        domain = domain.lower()
        return any(domain == d or domain.endswith("." + d) for d in self.trust.domains)


def _service_account(email: str, owner: BucketOwner) -> bool:
    """Is this service account one of ours (a scanned project's own account or Google-managed service agent)?"""
    local, _, domain = email.lower().partition("@")
    if domain.endswith(".iam.gserviceaccount.com"):
        project = domain.removesuffix(".iam.gserviceaccount.com")
        if owner.project_known(project):
            return True
    if domain == "appspot.gserviceaccount.com" and owner.project_known(local):
        return True
    for pattern in _NUMBERED_ACCOUNTS:
        number = pattern.match(f"{local}@{domain}")
        if number:
            return owner.number_known(number.group(1))
    return owner.domain_known(domain)


def classify_member(member: str, owner: BucketOwner) -> tuple[Kind, str]:
    """(kind, a readable description) of one IAM member."""
    if member in _PUBLIC_MEMBERS:
        return Kind.PUBLIC, _PUBLIC_MEMBERS[member]
    if member.startswith("deleted:"):
        return Kind.DELETED, f"{member} (a deleted principal: no access)"
    prefix, sep, value = member.partition(":")
    if not sep:
        return Kind.EXTERNAL, f"{member} (an unknown member type; counted as external)"
    if prefix in ("user", "group"):
        domain = value.rpartition("@")[2]
        internal = "@" in value and owner.domain_known(domain)
        return (Kind.INTERNAL if internal else Kind.EXTERNAL), member
    if prefix == "domain":
        return (Kind.INTERNAL if owner.domain_known(value) else Kind.EXTERNAL), member
    if prefix == "serviceAccount":
        return (Kind.INTERNAL if _service_account(value, owner) else Kind.EXTERNAL), member
    if prefix in _CONVENIENCE:
        if owner.project_known(value):
            return Kind.INTERNAL, member
        return Kind.EXTERNAL, f"{member} (the {_CONVENIENCE[prefix]} of a project outside this scan)"
    if member.startswith(("principal://", "principalSet://")):
        return Kind.EXTERNAL, f"{member} (federated identities outside Google accounts)"
    return Kind.EXTERNAL, f"{member} (an unknown member type; counted as external)"


def acl_member(entity: str, owner: BucketOwner) -> tuple[Kind, str, str]:
    """(kind, principal as reported, description) of one ACL entity."""
    if entity in _PUBLIC_MEMBERS:
        return Kind.PUBLIC, entity, _PUBLIC_MEMBERS[entity]
    project = _ACL_PROJECT.match(entity)
    if project:
        team, number = project.groups()
        if owner.number_known(number) or owner.project_known(number):
            return Kind.INTERNAL, entity, entity
        return Kind.EXTERNAL, entity, f"{entity} (the {team} of a project outside this scan)"
    kind, _, value = entity.partition("-")
    if kind in ("user", "group") and value:
        if "@" in value:
            member = f"{kind}:{value}"
            k, _ = classify_member(member, owner)
            return k, member, member
        return Kind.EXTERNAL, entity, f"{entity} (a Google account id without an e-mail address)"
    if kind == "domain" and value:
        member = f"domain:{value}"
        k, _ = classify_member(member, owner)
        return k, member, member
    return Kind.EXTERNAL, entity, f"{entity} (an unknown ACL entity; counted as external)"


# --- Grants -------------------------------------------------------------------------------------------------


@dataclass
class _Grants:
    """The grants of one route (bucket IAM, project IAM, ACLs)."""

    public: list[tuple[str, Capabilities]] = field(default_factory=list)  # (evidence detail, access)
    external: list[tuple[str, str, Capabilities]] = field(default_factory=list)  # (principal, detail, access)
    notes: list[Evidence] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)


def _condition_text(condition: IamCondition | None) -> str:
    if condition is None:
        return ""
    title = f" {condition.title!r}" if condition.title else ""
    return f"condition{title}: {_clip(condition.expression)}"


def _iam_grants(policy: IamPolicy, source: str, where: str, owner: BucketOwner, *, project_level: bool) -> _Grants:
    out = _Grants()
    for binding in policy.bindings:
        access, assumed = role_capabilities(binding.role, project_level=project_level)
        conditional = "_withcond_" in binding.role or binding.condition is not None
        condition = _condition_text(binding.condition) or "a condition that was not returned"
        for member in binding.members:
            kind, described = classify_member(member, owner)
            if kind in (Kind.INTERNAL, Kind.DELETED):
                continue
            detail = f"{where} grants {binding.role} to {described} ({describe_access(access)})"
            if conditional:
                detail += f" under {condition}"
            if kind is Kind.PUBLIC:
                out.public.append((detail, access))
                if conditional:
                    out.notes.append(Evidence(
                        "iam-condition",
                        f"the condition on {binding.role} for {member} is not treated as a restriction: it cannot "
                        "be shown to exclude every anonymous request",
                    ))
            else:
                out.external.append((member if ":" in member else described, detail, access))
            if assumed:
                out.notes.append(Evidence(source, assumed))
    return out


def _acl_grants(
    entries: tuple[AclEntry, ...], where: str, table: dict[str, Capabilities], owner: BucketOwner, out: _Grants,
    *, suffix: str = "",
) -> None:
    for entry in entries:
        access = table.get(entry.role)
        if access is None:
            access = ALL
            out.notes.append(Evidence(_source_of(where, "bucket-acl"),
                                      f"{where}: unknown ACL role {entry.role!r}; assumed to allow read, list "
                                      "and write"))
        kind, principal, described = acl_member(entry.entity, owner)
        if kind in (Kind.INTERNAL, Kind.DELETED):
            continue
        detail = f"{where} grants {entry.role} to {described} ({describe_access(access)}){suffix}"
        if kind is Kind.PUBLIC:
            out.public.append((detail, access))
        else:
            out.external.append((principal, detail, access))


def _acl_route_grants(bucket: GcsBucket, owner: BucketOwner) -> _Grants:
    out = _Grants()
    if isinstance(bucket.bucket_acl, ReadError):
        out.errors.append(bucket.bucket_acl)
    elif bucket.bucket_acl is not None:
        _acl_grants(bucket.bucket_acl, "bucket ACL", _BUCKET_ACL_ROLES, owner, out)
    if isinstance(bucket.default_object_acl, ReadError):
        out.errors.append(bucket.default_object_acl)
    elif bucket.default_object_acl is not None:
        _acl_grants(bucket.default_object_acl, "default object ACL", _OBJECT_ACL_ROLES, owner, out,
                    suffix=": every new object gets it")
    if bucket.objects_listing is not None:
        out.errors.append(bucket.objects_listing)
    samples: tuple[ObjectAclSample, ...] = bucket.object_acls
    for sample in samples:
        if isinstance(sample.acl, ReadError):
            out.errors.append(sample.acl)
            continue
        _acl_grants(sample.acl, f'object ACL of "{_clip(sample.name)}"', _OBJECT_ACL_ROLES, owner, out,
                    suffix=": some objects carry their own grants")
    return out


# --- Report -------------------------------------------------------------------------------------------------


def _source_of(detail: str, default: str) -> str:
    if detail.startswith("default object ACL"):
        return "default-object-acl"
    if detail.startswith("object ACL"):
        return "object-acl"
    if detail.startswith("bucket ACL"):
        return "bucket-acl"
    return default


def _judge_route(
    name: str, source: str, grants: _Grants, *, in_force: bool | None, pap: bool | None, report: _Report
) -> None:
    """Turn one route's grants into a route verdict and its evidence."""
    for error in grants.errors:
        report.read_error(error)
    for detail, _ in grants.public:
        report.add(_source_of(detail, source), detail)
    for _, detail, _ in grants.external:
        report.add(_source_of(detail, source), detail)
    report.notes.extend(grants.notes)
    access = NO_CAPABILITIES
    for _, granted in grants.public:
        access = access | granted
    route: Route
    if grants.public:
        if pap is True:
            route = "latent"
        elif pap is None or in_force is None:
            route = "unknown"
        elif in_force:
            route = "public"
        else:
            route = "none"
    else:
        route = "unknown" if grants.errors else "none"
    report.route(name, route, access)
    if grants.errors or (grants.external and in_force is None):
        report.external_unknown = True
    if in_force:
        for principal, _, granted in grants.external:
            report.external.add(principal)
            report.external_access = report.external_access | granted


def _pap(bucket: GcsBucket, report: _Report) -> bool | None:
    value = bucket.public_access_prevention
    if isinstance(value, ReadError):
        report.read_error(value)
        return None
    if not bucket.pap_reported:
        report.note("public-access-prevention", "the bucket resource has no publicAccessPrevention field: read as "
                                                "inherited (not enforced)")
    return value == PAP_ENFORCED


def _ubla(bucket: GcsBucket, report: _Report) -> bool | None:
    value = bucket.uniform_access
    if isinstance(value, ReadError):
        report.read_error(value)
        return None
    if value:
        report.note("uniform-bucket-level-access", "uniform bucket-level access is on: only IAM grants access; ACLs "
                                                   "are not in force")
    else:
        report.note("uniform-bucket-level-access", "uniform bucket-level access is off: the bucket ACL, the default "
                                                   "object ACL and object ACLs grant access too")
    return value


def _pap_evidence(pap: bool | None, report: _Report) -> None:
    public_routes = [n for n, r in report.routes.items() if r == "latent"]
    if pap is True:
        if public_routes:
            report.add("public-access-prevention", "public access prevention is enforced on the bucket: the grants "
                                                   "to allUsers/allAuthenticatedUsers are neutralised (latent)")
        else:
            report.note("public-access-prevention", "public access prevention is enforced on the bucket")
    elif pap is False:
        if "public" in report.routes.values():
            report.add("public-access-prevention", "public access prevention is not enforced on the bucket "
                                                   "(inherited): the public grants are in force; an organization "
                                                   "policy (storage.publicAccessPrevention) was not read")
        else:
            report.note("public-access-prevention", "public access prevention is not enforced on the bucket "
                                                    "(inherited)")
    elif any(r == "unknown" for r in report.routes.values()):
        report.add("public-access-prevention", "public access prevention could not be read: cannot tell public "
                                               "grants from neutralised ones")


def _samples_note(bucket: GcsBucket, report: _Report) -> None:
    if bucket.objects_listing is not None:
        return
    n = len(bucket.object_acls)
    if n:
        report.note("object-acl", f"{n} object ACL(s) sampled; other objects may carry different ACLs while uniform "
                                  "bucket-level access is off")
    else:
        report.note("object-acl", "no object ACL was sampled (empty bucket or sampling off); objects may carry "
                                  "their own ACLs while uniform bucket-level access is off")


def _owner(bucket: GcsBucket) -> BucketOwner:
    return BucketOwner(bucket.project, bucket.project_number, bucket.trust)


def bucket_exposure(bucket: GcsBucket) -> Exposure:
    """The effective exposure of one bucket, with its evidence."""
    report = _Report()
    owner = _owner(bucket)
    ubla = _ubla(bucket, report)
    pap = _pap(bucket, report)

    if isinstance(bucket.iam_policy, ReadError):
        _judge_route("bucket-iam", "bucket-iam", _Grants(errors=[bucket.iam_policy]), in_force=True, pap=pap,
                     report=report)
    else:
        grants = _iam_grants(bucket.iam_policy, "bucket-iam", "bucket IAM policy", owner, project_level=False)
        _judge_route("bucket-iam", "bucket-iam", grants, in_force=True, pap=pap, report=report)

    if bucket.project_iam is None:
        report.note("project-iam", "the project's IAM policy was not read (project_iam: false): grants made on the "
                                   "project are not considered")
    elif isinstance(bucket.project_iam, ReadError):
        _judge_route("project-iam", "project-iam", _Grants(errors=[bucket.project_iam]), in_force=True, pap=pap,
                     report=report)
    else:
        grants = _iam_grants(bucket.project_iam, "project-iam", f"project {bucket.project} IAM policy", owner,
                             project_level=True)
        _judge_route("project-iam", "project-iam", grants, in_force=True, pap=pap, report=report)

    if ubla is not True:
        _judge_route("acl", "bucket-acl", _acl_route_grants(bucket, owner), in_force=None if ubla is None else True,
                     pap=pap, report=report)
        _samples_note(bucket, report)
    _pap_evidence(pap, report)
    for error in bucket.other_errors:
        report.read_error(error)
    if bucket.other_errors:
        report.routes["other"] = "unknown"
    return _verdict(report)


def bucket_public_grants(bucket: GcsBucket) -> bool | None:
    """Does the bucket hold a grant to allUsers/allAuthenticatedUsers (bucket or project IAM, or an ACL while
    uniform bucket-level access is not on), whether or not public access prevention neutralises it? None when a
    setting needed to tell could not be read."""
    owner = _owner(bucket)
    unreadable = False
    policies = [("bucket-iam", bucket.iam_policy, False), ("project-iam", bucket.project_iam, True)]
    for source, policy, project_level in policies:
        if isinstance(policy, ReadError):
            unreadable = True
        elif policy is not None and _iam_grants(policy, source, source, owner, project_level=project_level).public:
            return True
    if bucket.uniform_access is not True:
        acl = _acl_route_grants(bucket, owner)
        if acl.public:
            return True
        unreadable = unreadable or bool(acl.errors) or isinstance(bucket.uniform_access, ReadError)
    return None if unreadable else False


__all__ = [
    "ROLE_CAPABILITIES",
    "BucketOwner",
    "Kind",
    "acl_member",
    "bucket_exposure",
    "bucket_public_grants",
    "classify_member",
    "describe_access",
    "role_capabilities",
]
