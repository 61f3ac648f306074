"""Azurite, the real Azure Storage emulator, as the tests and the demo run it: found where expected, several
accounts, HTTPS with the session certificate, OAuth tokens checked, anonymous access enforced by container level."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import BlobServiceClient, StaticWebsite
from support.azure import AzureEmulators

from cloudwatchdog.emulators.azurite import (
    AzuriteError,
    AzuriteServer,
    AzuriteUnavailable,
    account_key,
    find_azurite,
    install_azurite,
)
from cloudwatchdog.emulators.tls import TlsFiles
from cloudwatchdog.providers.azure.session import EmulatorCredential


def _anonymous_get(url: str, tls: TlsFiles) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10, context=tls.client_context()) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_azurite_enforces_container_levels_for_anonymous_requests(azure: AzureEmulators) -> None:
    client = azure.azurite.service_client("cwdtest1")
    client.create_container("open", public_access="container").upload_blob("a.txt", b"open")
    client.create_container("blobs", public_access="blob").upload_blob("a.txt", b"blob")
    client.create_container("closed").upload_blob("a.txt", b"closed")
    base = azure.azurite.account_url("cwdtest1")
    assert _anonymous_get(f"{base}/open/a.txt", azure.tls) == 200
    assert _anonymous_get(f"{base}/open?restype=container&comp=list", azure.tls) == 200
    assert _anonymous_get(f"{base}/blobs/a.txt", azure.tls) == 200
    assert _anonymous_get(f"{base}/blobs?restype=container&comp=list", azure.tls) in (403, 404)
    assert _anonymous_get(f"{base}/closed/a.txt", azure.tls) in (403, 404)


def test_each_account_is_separate_with_its_own_key(azure: AzureEmulators) -> None:
    azure.azurite.service_client("cwdtest1").create_container("mine")
    assert [c.name for c in azure.azurite.service_client("cwdtest2").list_containers()] == []
    assert account_key("cwdtest1") != account_key("cwdtest2")
    wrong = BlobServiceClient(azure.azurite.account_url("cwdtest2"), retry_total=0,
                              credential={"account_name": "cwdtest2", "account_key": account_key("cwdtest1")},
                              connection_verify=str(azure.tls.ca_file))
    with pytest.raises(ClientAuthenticationError):
        list(wrong.list_containers())


def test_the_emulator_token_is_accepted_and_a_forged_audience_is_not(azure: AzureEmulators) -> None:
    url = azure.azurite.account_url("cwdtest3")
    azure.azurite.service_client("cwdtest3").set_service_properties(
        static_website=StaticWebsite(enabled=True, index_document="index.html"))
    oauth = BlobServiceClient(url, credential=EmulatorCredential(), connection_verify=str(azure.tls.ca_file),
                              retry_total=0)
    assert oauth.get_service_properties()["static_website"].enabled is True

    class WrongAudience(EmulatorCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            return super().get_token("https://management.azure.com/.default")

    forged = BlobServiceClient(url, credential=WrongAudience(), connection_verify=str(azure.tls.ca_file),
                               retry_total=0)
    with pytest.raises(HttpResponseError) as err:
        forged.get_service_properties()
    assert err.value.status_code in (401, 403)


def test_the_certificate_is_trusted_only_through_the_session_ca(azure: AzureEmulators) -> None:
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen(azure.azurite.account_url("cwdtest1"), timeout=10,
                               context=ssl.create_default_context())
    assert isinstance(err.value.reason, ssl.SSLCertVerificationError)


def test_reset_empties_accounts_and_turns_websites_off(azure: AzureEmulators) -> None:
    client = azure.azurite.service_client("cwdtest4")
    client.create_container("leftover")
    client.set_service_properties(static_website=StaticWebsite(enabled=True, index_document="index.html"))
    azure.azurite.reset()
    assert [c.name for c in client.list_containers()] == []
    assert client.get_service_properties()["static_website"].enabled is False


def test_unknown_account_names_are_refused(azure: AzureEmulators) -> None:
    with pytest.raises(KeyError, match="not an Azurite account"):
        azure.azurite.account_url("nosuchaccount")
    with pytest.raises(ValueError, match="3 to 24 lowercase"):
        AzuriteServer(["Bad_Name"], azure.tls)


def test_find_azurite_honours_azurite_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "azurite-blob"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("AZURITE_BIN", str(fake))
    assert find_azurite() == fake


def test_find_azurite_without_node_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    with pytest.raises(AzuriteUnavailable, match=r"Node\.js is not installed"):
        find_azurite()
    with pytest.raises(AzuriteUnavailable, match=r"Node\.js and npm are needed"):
        install_azurite(tmp_path / "prefix")


def test_a_binary_that_exits_at_once_is_an_error_with_its_output(tmp_path: Path, azure_tls: TlsFiles) -> None:
    broken = tmp_path / "azurite-blob"
    broken.write_text("#!/bin/sh\necho 'cannot start: port taken' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(AzuriteError, match=r"exited with code 3(.|\n)*port taken"):
        AzuriteServer(["cwdtest1"], azure_tls, binary=broken).start()
