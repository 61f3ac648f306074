"""The whole demo estate: Velora Motors on emulated AWS (moto server), Google Cloud Storage (gcp-storage-emulator)
and Azure Blob (Azurite + the demo ARM emulator), all on 127.0.0.1, seeded with realistic mistakes. The estate is
data (``estate/*.yaml``); ``seed_aws``, ``seed_gcp`` and ``seed_azure`` build it.

AWS and GCS always run (their emulators are Python packages of the `demo` extra). Azure needs Node.js for Azurite:
without it the demo runs without Azure and says why (``skipped``).

The demo never reaches a real account, whatever the user's environment holds: its scan config uses each cloud's
emulator credential (AWS ``credential: emulator``, GCP ``credential: anonymous``, Azure ``credential: emulator``),
with explicit loopback endpoints, and none of them reads credentials, profiles or endpoints from the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

Status = Callable[[str], None]


@dataclass(frozen=True)
class DemoWorld:
    config: Config
    parts: tuple[str, ...]  # one line per cloud that runs: what it holds and where
    mistakes: int  # resources seeded with a deliberate mistake
    skipped: tuple[str, ...]  # one line per cloud left out, with the reason
    aws_s3: Any = None  # an S3 client of the AWS prod account (the demo history changes its buckets)


@contextmanager
def demo_world(status: Status | None = None, *, azure: bool = True, install_azurite: bool = True
               ) -> Iterator[DemoWorld]:
    """Start every emulator, seed the estate, yield the scan config; stop everything on exit."""
    # Imported here: each part pulls in its emulator and SDK.
    from cloudwatchdog.demo.seed_aws import seed_demo_estate
    from cloudwatchdog.demo.seed_gcp import seed_gcp_estate, start_demo_emulators
    from cloudwatchdog.emulators.moto import MotoServer

    say = status or (lambda _message: None)
    with ExitStack() as stack:
        say("starting the AWS emulator (moto server) on 127.0.0.1 ...")
        moto = MotoServer().start()
        stack.callback(moto.stop)
        say("seeding the AWS estate ...")
        aws = seed_demo_estate(moto.endpoint)

        say("starting the Google Cloud Storage emulators on 127.0.0.1 ...")
        gcs = start_demo_emulators()
        for emulator in gcs.values():
            stack.callback(emulator.stop)
        say("seeding the Google Cloud estate ...")
        gcp = seed_gcp_estate({project: e.endpoint for project, e in gcs.items()})

        parts = [
            f"AWS: {len(aws.accounts)} accounts, {len(aws.buckets)} buckets, {len(aws.access_points)} access "
            f"points, {len(aws.shared)} snapshots and images (moto server at {moto.endpoint})",
            f"Google Cloud: {len(gcp.projects)} projects, {len(gcp.buckets)} buckets (gcp-storage-emulator)",
        ]
        mistakes = (sum(1 for b in aws.buckets if b.issue) + sum(1 for a in aws.access_points if a.issue)
                    + sum(1 for s in aws.shared if s.issue) + sum(1 for b in gcp.buckets if b.issue))
        skipped: list[str] = []
        providers = Providers.model_validate({"aws": aws.aws_provider(), "gcp": gcp.provider_config()})
        if azure:
            from cloudwatchdog.demo.seed_azure import AzureDemoUnavailable, start_azure_demo

            say("starting Azurite and the demo ARM emulator on 127.0.0.1 (the first run installs Azurite "
                "with npm) ...")
            try:
                az = start_azure_demo(install=install_azurite)
            except AzureDemoUnavailable as exc:
                skipped.append(f"Azure: {exc}")
            else:
                stack.callback(az.stop)
                providers = providers.model_copy(update={"azure": az.provider})
                est = az.estate
                parts.append(f"Azure: {len(est.accounts)} storage accounts, {len(est.containers)} containers "
                             "(Azurite + demo ARM emulator)")
                mistakes += sum(1 for a in est.accounts if a.issue) + sum(1 for c in est.containers if c.issue)
        else:
            skipped.append("Azure: left out on request")
        from cloudwatchdog.emulators.moto import emulator_client

        # Data sampling on: the demo shows what its public storage holds (fictional customers).
        config = Config(providers=providers, data_sampling=DataSamplingConfig(enabled=True))
        yield DemoWorld(config, tuple(parts), mistakes, tuple(skipped),
                        aws_s3=emulator_client(aws.session(), "s3", moto.endpoint))
