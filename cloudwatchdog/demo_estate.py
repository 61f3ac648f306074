"""The demo estate: a fictional car maker, Velora Motors, seeded into a moto server.

Two accounts, ``prod`` (123456789012) and ``analytics`` (210987654321), about thirty buckets with realistic
names, tags and objects, and a handful of classic mistakes among many boring private buckets. Deterministic:
the same estate every time. All data is fake (names, VINs, e-mail addresses on example.com).

``expected`` on each resource is the verdict shared/EXPOSURE.md prescribes (what a correct scan reports), so
the demo doubles as an end-to-end fixture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cloudwatchdog.config import AwsAccount, AwsProvider
from cloudwatchdog.emulators.moto import account_session, emulator_client
from cloudwatchdog.model import ALL_USERS_URI, AUTHENTICATED_USERS_URI, LOG_DELIVERY_URI

PROD = "123456789012"
ANALYTICS = "210987654321"
PARTNER_DEALER_ACCOUNT = "444455556666"  # an external dealer network, not ours
AGENCY_ACCOUNT = "777788889999"  # an external marketing agency
ORG_ID = "o-velora7x2k"
AUDIT_ROLE = "CloudWatchdogAudit"
REGIONS = ("us-east-1", "eu-central-1", "eu-west-1")


@dataclass(frozen=True)
class DemoAccount:
    id: str
    name: str
    account_pab: dict[str, bool] | None  # None: no account-level Block Public Access at all


@dataclass(frozen=True)
class DemoBucket:
    account: str
    name: str
    region: str
    expected: str  # public | cross-account | private (a latent exposure keeps its non-public level)
    latent: bool = False
    issue: str | None = None  # what is wrong, in words; None for a healthy bucket
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoAccessPoint:
    account: str
    name: str
    bucket: str
    region: str
    expected: str
    issue: str | None = None


@dataclass(frozen=True)
class DemoEstate:
    endpoint_url: str
    accounts: tuple[DemoAccount, ...]
    buckets: tuple[DemoBucket, ...]
    access_points: tuple[DemoAccessPoint, ...]

    def bucket(self, name: str) -> DemoBucket:
        return next(b for b in self.buckets if b.name == name)

    def aws_provider(self, **overrides: Any) -> AwsProvider:
        """The scan config for this estate: prod through the default chain (``session()``), analytics by
        assuming the audit role from it."""
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "regions": list(REGIONS),
            "accounts": [
                AwsAccount(id=PROD, name="prod"),
                AwsAccount(
                    id=ANALYTICS, name="analytics", role_arn=f"arn:aws:iam::{ANALYTICS}:role/{AUDIT_ROLE}"
                ),
            ],
            "trusted_organizations": [ORG_ID],
        }
        values.update(overrides)
        return AwsProvider(**values)

    def session(self) -> Any:
        """The default-chain session for scanning the estate (static emulator credentials)."""
        return account_session(self.endpoint_url, PROD)


# --- Fake content -------------------------------------------------------------------------------------------

_FIRST = (
    "Anna",
    "Jonas",
    "Lea",
    "Mehmet",
    "Sofia",
    "Lukas",
    "Emma",
    "Piotr",
    "Chloe",
    "Marco",
    "Ines",
    "Tomas",
)
_LAST = (
    "Berger",
    "Novak",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Yilmaz",
    "Lindqvist",
    "Kowalski",
    "Moreau",
    "Garcia",
)
_CITIES = ("Munich", "Lyon", "Turin", "Gdansk", "Malmo", "Porto", "Graz", "Leipzig", "Ghent", "Brno")
_MODELS = ("Velora C3", "Velora Estate", "Velora EV-S", "Velora Crossline")


def customer_csv(batch: int, rows: int = 25) -> bytes:
    """Fake customer telematics rows (deterministic): what a leaked export of this kind typically holds."""
    lines = ["vin,first_name,last_name,email,phone,city,model,odometer_km,last_gps_lat,last_gps_lon"]
    for i in range(rows):
        n = batch * 1000 + i
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n * 7) % len(_LAST)]
        vin = f"WVL{(n * 7919) % 10**14:014d}"
        lines.append(
            f"{vin},{first},{last},{first.lower()}.{last.lower()}{n % 97}@example.com,"
            f"+49 555 {(n * 104729) % 10**7:07d},{_CITIES[n % len(_CITIES)]},{_MODELS[n % len(_MODELS)]},"
            f"{(n * 3571) % 240000},{48 + (n % 500) / 1000:.3f},{11 + (n % 700) / 1000:.3f}"
        )
    return ("\n".join(lines) + "\n").encode()


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


def _grants_acl(owner_id: str, *extra: tuple[str, str]) -> dict[str, Any]:
    """An explicit ACL (moto reads canned public-read-write back as READ only, so grants are spelled out)."""
    grants: list[dict[str, Any]] = [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "FULL_CONTROL"}
    ]
    grants += [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": perm} for uri, perm in extra]
    return {"Owner": {"ID": owner_id}, "Grants": grants}


_PAB_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


# --- Seeding ------------------------------------------------------------------------------------------------


class _Seeder:
    def __init__(self, endpoint: str, account: str) -> None:
        self.endpoint = endpoint
        self.account = account
        self.session = account_session(endpoint, account)
        self._clients: dict[tuple[str, str], Any] = {}
        self.buckets: list[DemoBucket] = []
        self.access_points: list[DemoAccessPoint] = []

    def client(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = emulator_client(self.session, service, self.endpoint, region=region)
        return self._clients[key]

    def bucket(
        self,
        name: str,
        *,
        region: str = "us-east-1",
        expected: str = "private",
        latent: bool = False,
        issue: str | None = None,
        tags: dict[str, str] | None = None,
        objects: dict[str, bytes] | None = None,
        object_acl: str | None = None,
        acl_groups: tuple[tuple[str, str], ...] = (),
        policy: str | None = None,
        pab: dict[str, bool] | None = None,
        ownership: str | None = None,
    ) -> None:
        s3 = self.client("s3", region)
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        tags = tags or {}
        if tags:
            s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
            )
        for key, body in sorted((objects or {}).items()):
            extra = {"ACL": object_acl} if object_acl else {}
            s3.put_object(Bucket=name, Key=key, Body=body, **extra)
        if acl_groups:
            owner = s3.get_bucket_acl(Bucket=name)["Owner"]["ID"]
            s3.put_bucket_acl(Bucket=name, AccessControlPolicy=_grants_acl(owner, *acl_groups))
        if policy:
            s3.put_bucket_policy(Bucket=name, Policy=policy)
        # Guardrails last: on AWS they would refuse the public ACL/policy above, which is exactly the point of
        # a latent exposure (set before the guardrail, neutralised by it).
        if ownership:
            s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
            )
        if pab:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)
        self.buckets.append(DemoBucket(self.account, name, region, expected, latent, issue, tags))

    def access_point(
        self,
        name: str,
        bucket: str,
        *,
        region: str,
        expected: str,
        issue: str | None = None,
        vpc_id: str | None = None,
        policy: dict[str, Any] | None = None,
        pab: dict[str, bool] | None = None,
    ) -> None:
        control = self.client("s3control", region)
        kwargs: dict[str, Any] = {"AccountId": self.account, "Name": name, "Bucket": bucket}
        if vpc_id:
            kwargs["VpcConfiguration"] = {"VpcId": vpc_id}
        if pab is not None:
            kwargs["PublicAccessBlockConfiguration"] = pab
        control.create_access_point(**kwargs)
        if policy is not None:
            control.put_access_point_policy(AccountId=self.account, Name=name, Policy=_policy(policy))
        self.access_points.append(DemoAccessPoint(self.account, name, bucket, region, expected, issue))

    def account_pab(self, pab: dict[str, bool] | None) -> None:
        if pab is not None:
            self.client("s3control").put_public_access_block(
                AccountId=self.account, PublicAccessBlockConfiguration=pab
            )


def _tags(team: str, env: str = "prod", classification: str = "internal", **more: str) -> dict[str, str]:
    return {
        "team": team,
        "env": env,
        "data-classification": classification,
        "cost-center": f"cc-{team}",
        **more,
    }


def _seed_prod(s: _Seeder) -> dict[str, bool]:
    a = PROD
    s.bucket(
        "velora-telematics-export-2015",
        region="eu-central-1",
        expected="public",
        issue="public-read bucket ACL and public-read objects: a 2015 data export with customer names, "
        "e-mail addresses, VINs and GPS positions, forgotten since",
        tags=_tags("connected-car", classification="confidential", project="dealer-portal-2015"),
        objects={f"exports/2015/customers_part{n:02d}.csv": customer_csv(n) for n in range(1, 4)},
        object_acl="public-read",
        acl_groups=((ALL_USERS_URI, "READ"),),
    )
    s.bucket(
        "velora-web-assets",
        expected="public",
        issue="bucket policy grants s3:GetObject to Principal * (website assets: intended, but public)",
        tags=_tags("web", classification="public", **{"public-by-design": "true"}),
        objects={
            "css/site.css": b"body{font-family:sans-serif}\n",
            "js/app.js": b"console.log('velora');\n",
            "img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
        },
        policy=_policy(
            {
                "Sid": "PublicReadAssets",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::velora-web-assets/*",
            }
        ),
        ownership="BucketOwnerEnforced",
    )
    s.bucket(
        "velora-partner-dealer-feed",
        region="eu-west-1",
        expected="cross-account",
        issue=f"bucket policy shares read and list with the dealer network account {PARTNER_DEALER_ACCOUNT}",
        tags=_tags("sales", classification="confidential", partner="dealer-network"),
        objects={"feeds/inventory-2024-06-01.json": b'{"vehicles": []}\n'},
        policy=_policy(
            {
                "Sid": "DealerNetworkRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{PARTNER_DEALER_ACCOUNT}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [
                    "arn:aws:s3:::velora-partner-dealer-feed",
                    "arn:aws:s3:::velora-partner-dealer-feed/*",
                ],
            }
        ),
        ownership="BucketOwnerEnforced",
    )
    s.bucket(
        "velora-vpc-only-data",
        expected="private",
        tags=_tags("platform", classification="restricted"),
        policy=_policy(
            {
                "Sid": "AllowFromVpce",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::velora-vpc-only-data/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
            },
            {
                "Sid": "DenyOutsideVpce",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::velora-vpc-only-data", "arn:aws:s3:::velora-vpc-only-data/*"],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
            },
        ),
    )
    s.bucket(
        "velora-legacy-press-kit",
        expected="private",
        latent=True,
        issue="public-read bucket ACL, neutralised by bucket-level Block Public Access (one change away)",
        tags=_tags("communications", classification="public"),
        objects={"press/2012/launch.pdf": b"%PDF-1.4 fake\n"},
        acl_groups=((ALL_USERS_URI, "READ"),),
        pab=dict(_PAB_ALL),
    )
    s.bucket(
        "velora-dealer-upload-inbox",
        region="eu-central-1",
        expected="public",
        issue="bucket ACL grants WRITE to AllUsers: anyone can upload (and be billed to us)",
        tags=_tags("sales", classification="internal"),
        acl_groups=((ALL_USERS_URI, "WRITE"),),
    )
    s.bucket(
        "velora-prod-access-logs",
        expected="private",
        tags=_tags("security", classification="internal"),
        objects={"s3/2024-06-01-00-00-00-0A1B2C3D": b"fake access log line\n"},
        acl_groups=((LOG_DELIVERY_URI, "WRITE"), (LOG_DELIVERY_URI, "READ_ACP")),
    )
    s.bucket(
        "velora-marketing-campaign-2019",
        expected="public",
        issue="policy allows Principal * on a condition that restricts nothing (aws:Referer is client-set)",
        tags=_tags("marketing", classification="public"),
        objects={"campaign/teaser.mp4": b"fake video\n"},
        policy=_policy(
            {
                "Sid": "RefererOnly",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::velora-marketing-campaign-2019/*",
                "Condition": {"StringLike": {"aws:Referer": ["https://www.velora.example/*"]}},
            }
        ),
    )
    s.bucket(
        "velora-ota-update-packages",
        region="eu-central-1",
        expected="private",
        tags=_tags("connected-car", classification="restricted"),
        objects={"packages/ecu-gw/4.2.1/manifest.json": b'{"version": "4.2.1"}\n'},
        policy=_policy(
            {
                "Sid": "OrgOnly",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::velora-ota-update-packages/*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            }
        ),
        ownership="BucketOwnerEnforced",
        pab=dict(_PAB_ALL),
    )
    s.bucket(
        "velora-telematics-data-lake",
        region="eu-central-1",
        expected="private",
        tags=_tags("connected-car", classification="confidential"),
        objects={"raw/2024/06/01/part-0000.parquet": b"PAR1 fake\n"},
        ownership="BucketOwnerEnforced",
    )
    s.access_point(
        "telematics-public-ap",
        "velora-telematics-data-lake",
        region="eu-central-1",
        expected="public",
        issue="Internet-origin access point, Block Public Access off, policy granting GetObject to *",
        pab={k: False for k in _PAB_ALL},
        policy={
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:eu-central-1:{a}:accesspoint/telematics-public-ap/object/*",
        },
    )
    s.access_point(
        "telematics-vpc-ap",
        "velora-telematics-data-lake",
        region="eu-central-1",
        expected="private",
        vpc_id="vpc-0c0ffee0ddba11000",
        policy={
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:eu-central-1:{a}:accesspoint/telematics-vpc-ap/object/*",
        },
    )
    boring = [
        ("velora-firmware-builds", "us-east-1", "embedded", "restricted"),
        ("velora-ci-artifacts", "us-east-1", "devops", "internal"),
        ("velora-terraform-state-prod", "eu-central-1", "platform", "restricted"),
        ("velora-hr-payroll-exports", "eu-central-1", "hr", "restricted"),
        ("velora-finance-reports", "eu-west-1", "finance", "confidential"),
        ("velora-ecu-calibration-data", "eu-central-1", "powertrain", "confidential"),
        ("velora-crash-test-videos", "eu-central-1", "safety", "confidential"),
        ("velora-supplier-contracts", "eu-west-1", "procurement", "confidential"),
    ]
    for i, (name, region, team, classification) in enumerate(boring):
        s.bucket(
            name,
            region=region,
            tags=_tags(team, classification=classification),
            objects={f"{team}/README.txt": f"{name}: internal only\n".encode()},
            ownership="BucketOwnerEnforced" if i % 2 == 0 else None,
            pab=dict(_PAB_ALL) if i % 3 != 2 else None,
        )
    # Partially off: new public ACLs are refused, existing ones still count; policies are not restricted.
    return {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }


def _seed_analytics(s: _Seeder) -> None:
    a = ANALYTICS
    s.bucket(
        "velora-bi-dashboard-exports",
        expected="public",
        issue="bucket ACL grants READ to AuthenticatedUsers: any AWS account in the world, not just ours",
        tags=_tags("bi", env="prod", classification="confidential"),
        objects={"exports/q2-sales-by-dealer.csv": b"dealer,units\nMunich-01,412\n"},
        acl_groups=((AUTHENTICATED_USERS_URI, "READ"),),
    )
    s.bucket(
        "velora-survey-responses-2018",
        region="eu-west-1",
        expected="public",
        issue="bucket ACL private but its objects are public-read (a customer survey with contacts)",
        tags=_tags("customer-insights", env="prod", classification="confidential"),
        objects={"responses/2018/wave1.csv": customer_csv(18, rows=12)},
        object_acl="public-read",
    )
    s.bucket(
        "velora-ml-training-sets",
        expected="public",
        issue="policy allows Principal * from aws:SourceIp 0.0.0.0/0: a condition that admits the internet",
        tags=_tags("data-science", env="prod", classification="internal"),
        objects={"datasets/driving-style/v3/train.csv": b"speed,brake\n52,0.1\n"},
        policy=_policy(
            {
                "Sid": "OfficeAndVpn",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [
                    "arn:aws:s3:::velora-ml-training-sets",
                    "arn:aws:s3:::velora-ml-training-sets/*",
                ],
                "Condition": {"IpAddress": {"aws:SourceIp": ["0.0.0.0/0"]}},
            }
        ),
    )
    s.bucket(
        "velora-analytics-agency-share",
        region="eu-west-1",
        expected="cross-account",
        issue=f"policy gives the marketing agency's account {AGENCY_ACCOUNT} read and write",
        tags=_tags("marketing-analytics", env="prod", classification="confidential", partner="agency"),
        policy=_policy(
            {
                "Sid": "AgencyReadWrite",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{AGENCY_ACCOUNT}:role/analytics-uploader"},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::velora-analytics-agency-share/*",
            }
        ),
    )
    s.bucket(
        "velora-analytics-emr-logs",
        tags=_tags("data-platform", env="prod", classification="internal"),
        objects={"j-2AB3CD4EFGAPLF/steps/s-1/stderr.gz": b"fake\n"},
        ownership="BucketOwnerEnforced",
    )
    s.bucket(
        "velora-analytics-raw-events",
        region="eu-central-1",
        expected="private",
        tags=_tags("data-platform", env="prod", classification="confidential"),
        ownership="BucketOwnerEnforced",
    )
    s.access_point(
        "raw-events-partner-ap",
        "velora-analytics-raw-events",
        region="eu-central-1",
        expected="cross-account",
        issue=f"Internet-origin access point whose policy lets the agency account {AGENCY_ACCOUNT} read",
        policy={
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{AGENCY_ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:eu-central-1:{a}:accesspoint/raw-events-partner-ap/object/*",
        },
    )
    s.access_point(
        "raw-events-vpc-ap",
        "velora-analytics-raw-events",
        region="eu-central-1",
        expected="private",
        vpc_id="vpc-0ana1yt1c5000000",
    )
    boring = [
        ("velora-analytics-athena-results", "us-east-1", "bi", "internal"),
        ("velora-analytics-glue-scripts", "us-east-1", "data-platform", "internal"),
        ("velora-analytics-sandbox-dev", "eu-west-1", "data-science", "internal"),
        ("velora-analytics-warehouse-unload", "eu-central-1", "bi", "confidential"),
        ("velora-analytics-feature-store", "eu-central-1", "data-science", "confidential"),
        ("velora-analytics-backup-snapshots", "eu-west-1", "data-platform", "restricted"),
    ]
    for i, (name, region, team, classification) in enumerate(boring):
        s.bucket(
            name,
            region=region,
            tags=_tags(team, env="dev" if "sandbox" in name else "prod", classification=classification),
            objects={"_SUCCESS": b""} if i % 2 else None,
            ownership="BucketOwnerEnforced" if i % 2 == 0 else "BucketOwnerPreferred",
            pab=dict(_PAB_ALL) if i % 2 == 0 else None,
        )


def seed_demo_estate(endpoint_url: str) -> DemoEstate:
    """Seed the Velora Motors estate into the (empty) moto server at ``endpoint_url`` and describe it."""
    prod = _Seeder(endpoint_url, PROD)
    prod_pab = _seed_prod(prod)
    prod.account_pab(prod_pab)
    analytics = _Seeder(endpoint_url, ANALYTICS)
    _seed_analytics(analytics)  # analytics: no account-level Block Public Access at all
    return DemoEstate(
        endpoint_url=endpoint_url,
        accounts=(DemoAccount(PROD, "prod", prod_pab), DemoAccount(ANALYTICS, "analytics", None)),
        buckets=tuple(prod.buckets + analytics.buckets),
        access_points=tuple(prod.access_points + analytics.access_points),
    )


__all__ = [
    "ANALYTICS",
    "PROD",
    "DemoAccessPoint",
    "DemoAccount",
    "DemoBucket",
    "DemoEstate",
    "seed_demo_estate",
]
