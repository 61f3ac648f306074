"""Where AWS credentials come from, and what to say when they fail.

``credential: default`` is the SDK's default chain (environment keys, ``AWS_PROFILE``, the shared config and credentials
files, SSO, container and instance roles) and each account's ``profile``. ``credential: emulator`` is a fixed pair
of test keys in a session that reads nothing of the environment and no file, whose requests only go to loopback.

Sessions are botocore's own (``botocore.session.Session``, whose ``create_client`` boto3's ``Session.client``
calls): the same credential chain, profiles and region resolution, without importing boto3 and with it s3transfer
and multiprocessing (some 55 modules, 20-40 ms of every start-up), which the scanner never uses.

A credential that cannot be used is never a traceback: ``entry_failure`` turns the exception into one line that
says which kind of problem it is (a profile that does not exist or is broken, no credentials at all, expired or
invalid credentials, an endpoint that cannot be reached), for the account's coverage and the log.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import datetime
from typing import Any

import botocore.session
from botocore.configprovider import ConfigValueStore, ConstantProvider
from botocore.exceptions import (
    ClientError,
    ConfigParseError,
    CredentialRetrievalError,
    HTTPClientError,
    InvalidConfigError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as NetworkError
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp as sdk_parse_timestamp

from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.error_text import error_line, html_title
from cloudwatchdog.settings.base import is_loopback_url

DEFAULT_REGION = "us-east-1"
# The keys of ``credential: emulator``: moto and LocalStack accept any; these are moto's documented test keys.
EMULATOR_ACCESS_KEY = "testing"
EMULATOR_SECRET_KEY = "testing"

# How AWS says that credentials were valid once and are no longer, and that they never were.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
INVALID_CODES = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                           "AuthFailure", "InvalidAccessKeyId", "IncompleteSignature"})


# --- Sessions -----------------------------------------------------------------------------------------------

_ISO_8601_ZONED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def parse_timestamp(value: Any) -> datetime:
    """An SDK timestamp: ISO 8601 with a zone (S3's XML: ``2026-12-07T04:00:00.000Z``) by the standard library, the
    same value botocore's own parser gives; anything else by that parser (dateutil, ten times slower: a page of
    ``ListBuckets`` is a thousand of them)."""
    if isinstance(value, str) and _ISO_8601_ZONED.fullmatch(value):
        return datetime.fromisoformat(value)
    parsed: datetime = sdk_parse_timestamp(value)
    return parsed


def _fast_timestamps(core: botocore.session.Session) -> botocore.session.Session:
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
    return core



def _isolated_core(region: str) -> botocore.session.Session:
    """A botocore session whose settings come from nowhere but here: every configuration variable is botocore's
    default (no AWS_* environment variable, no ~/.aws/config or credentials file, no profile), the region is
    ``region``. It has no credentials until they are set."""
    core = botocore.session.Session()
    values: dict[str, Any] = {
        name: default for name, (_key, _env, default, _cast) in botocore.session.Session.SESSION_VARIABLES.items()
    }
    values.update(profile=None, region=region, config_file=os.devnull, credentials_file=os.devnull)
    providers = {name: ConstantProvider(value) for name, value in values.items()}
    # Sections botocore would read from the config file and the environment (AWS_S3_*, proxy settings).
    providers.update(s3=ConstantProvider(None), proxies_config=ConstantProvider(None))
    core.register_component("config_store", ConfigValueStore(mapping=providers))
    return _fast_timestamps(core)


def isolated_session(
    region: str = DEFAULT_REGION,
    *,
    access_key: str = EMULATOR_ACCESS_KEY,
    secret_key: str = EMULATOR_SECRET_KEY,
    token: str | None = None,
) -> botocore.session.Session:
    """A session with exactly these keys and region, which reads nothing of the process environment and no
    file: AWS_PROFILE, AWS_CONFIG_FILE, AWS_ACCESS_KEY_ID, ... of the user cannot leak in (``credential:
    emulator``, the demo, the emulator harness)."""
    core = _isolated_core(region)
    core.set_credentials(access_key, secret_key, token)
    return core


def profile_session(profile: str) -> botocore.session.Session:
    """The default chain's session with ``profile`` (what ``boto3.Session(profile_name=profile)`` makes). A
    profile that does not exist raises ``ProfileNotFound`` at its first use (``entry_failure`` says it)."""
    core = botocore.session.get_session()
    core.set_config_variable("profile", profile)
    return core


def base_session(cfg: AwsProvider) -> botocore.session.Session:
    """The session accounts are entered from: the emulator's fixed keys (``credential: emulator``), or the
    default credential chain. Raises what botocore raises for a missing or broken profile (``entry_failure`` says
    it in one line)."""
    if cfg.credential == "emulator":
        core = new_core(cfg, DEFAULT_REGION)
        core.set_credentials(EMULATOR_ACCESS_KEY, EMULATOR_SECRET_KEY)
        return shared_session(core, DEFAULT_REGION)
    return shared_session(new_core(cfg, None), None)


def new_core(cfg: AwsProvider, region: str | None) -> botocore.session.Session:
    """A fresh botocore session for credentials set later (an assumed role), or (default chain) its own. Its
    service models come from the process's one loader of that kind: read once per process, not once per account
    entered or per scan."""
    if cfg.credential == "emulator":
        return _shared_loader(_isolated_core(region or DEFAULT_REGION), "emulator")
    return _shared_loader(_fast_timestamps(botocore.session.get_session()), "default")


_LOADERS: dict[str, Any] = {}
_LOADERS_LOCK = threading.Lock()


def _shared_loader(core: botocore.session.Session, kind: str) -> botocore.session.Session:
    with _LOADERS_LOCK:
        loader = _LOADERS.setdefault(kind, core.get_component("data_loader"))
    core.register_component("data_loader", loader)
    return core


def shared_session(core: botocore.session.Session, region: str | None) -> botocore.session.Session:
    """A core made by ``new_core`` with its region when given (else the chain's, as ``boto3.Session`` leaves it):
    the session accounts are entered with."""
    if region is not None:
        core.set_config_variable("region", region)
    return core


def region_of(session: botocore.session.Session) -> str | None:
    """The session's region: its own, else the chain's (``AWS_DEFAULT_REGION``, the profile's ``region``)."""
    region: str | None = session.get_config_variable("region")
    return region


class EmulatorOnlyError(RuntimeError):
    """A request with the emulator credential to an address that is not loopback."""


def refuse_non_loopback(request: Any, **_: Any) -> None:
    """``before-send`` handler of ``credential: emulator`` clients: the test keys go to a loopback address only
    (a redirect or a misconfigured client must not carry them anywhere else)."""
    if not is_loopback_url(request.url):
        raise EmulatorOnlyError(
            f"refused to send the emulator credential to {str(request.url).split('?')[0]}: not a loopback address"
        )


# --- Describing failures ------------------------------------------------------------------------------------


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(code, message) of any SDK error: short, on one line, without request internals or a page an endpoint
    answered with (an emulator's or a proxy's HTML)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = error_line(err.get("Code") or "Unknown", 100)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = err.get("Message") or (f"HTTP {status}" if status else "") or code
        return code, error_line(message)
    if isinstance(exc, ResponseParserError):
        title = html_title(str(exc))
        what = f"an HTML page, {error_line(title, 100)}" if title else error_line(str(exc).split(":\n")[0], 150)
        return "InvalidResponse", f"the endpoint's answer is not an AWS response ({what})"
    return type(exc).__name__, error_line(str(exc))


def default_source(cfg: AwsProvider) -> str:
    """The credentials accounts are entered from, named the way the user set them up."""
    if cfg.credential == "emulator":
        return "the emulator credential"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if os.environ.get(name):
            return f"the default credentials (profile {os.environ[name]!r} from {name})"
    return "the default credentials"


def source_of(via: str, cfg: AwsProvider) -> str:
    """Which credentials ``via`` (an ``AccountTarget.via``) used, in words."""
    kind, _, detail = via.partition(":")
    if kind == "profile":
        return f"profile {detail!r}"
    if kind in ("role", "organization-role"):
        return f"role {detail} (assumed with {default_source(cfg)})"
    return default_source(cfg)


def _config_files() -> str:
    if os.environ.get("AWS_CONFIG_FILE") or os.environ.get("AWS_SHARED_CREDENTIALS_FILE"):
        return "the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name"
    return "~/.aws/config or ~/.aws/credentials"


# Refused, timed out, DNS, TLS, a proxy: the network, not the keys.
_CONNECTION = (NetworkError, HTTPClientError)
# A profile (or the chain) that exists but cannot give credentials: bad config, a failing credential_process, an
# SSO session to renew, an MFA prompt a scanner cannot answer.
_BROKEN_PROFILE = (InvalidConfigError, ConfigParseError, PartialCredentialsError, CredentialRetrievalError,
                   SSOError, TokenRetrievalError, RefreshWithMFAUnsupportedError)


def entry_failure(exc: BaseException, source: str, endpoint: str | None, action: str = "enter the account") -> str:
    """Why ``action`` with ``source`` (the credentials tried, in words) failed: one line that says which kind of
    problem it is, for the account's coverage and the log."""
    if isinstance(exc, _CONNECTION):
        where = endpoint or "the AWS endpoint"
        return (f"cannot reach {where} to {action} ({type(exc).__name__}: {error_line(exc, 200)}): a network "
                "problem, not a credentials one")
    if isinstance(exc, ProfileNotFound):
        problem = f"no profile {exc.kwargs.get('profile', '?')!r} in {_config_files()}"
    elif isinstance(exc, NoCredentialsError):
        problem = f"no AWS credentials found (environment keys, AWS_PROFILE, {_config_files()}, SSO, instance role)"
    else:
        # "message (code)": a credentials error's code before a colon reads like a secret to the log redaction.
        code, message = describe_exception(exc)
        if isinstance(exc, _BROKEN_PROFILE):
            problem = f"its credentials cannot be loaded: {message} ({code})"
        elif code in EXPIRED_CODES:
            problem = f"the credentials have expired: {message} ({code}); renew them and scan again"
        elif code in INVALID_CODES:
            problem = f"the credentials are not valid: {message} ({code})"
        else:
            problem = f"{code}: {message}"
    return f"cannot {action} with {source}: {problem}"


__all__ = [
    "EmulatorOnlyError",
    "base_session",
    "default_source",
    "describe_exception",
    "entry_failure",
    "isolated_session",
    "new_core",
    "profile_session",
    "refuse_non_loopback",
    "region_of",
    "source_of",
]
