"""The deployment files in deploy/: what can be checked without a container engine or a cluster.

- systemd: `systemd-analyze verify` on the unit (its ExecStart pointed at this checkout's console script, since
  /usr/local/bin/cloudwatchdog is not installed here) and the stop timeout longer than the shutdown grace;
- Kubernetes: every manifest parses, the probes hit /healthz on the port the embedded config listens on, the pod runs
  as the image's non-root user with a read-only root filesystem, and the embedded config loads;
- Docker (no engine here, so the image is not built): the runtime stage runs as a non-root user, declares the state
  volume, HOME and TMPDIR, checks /healthz, and copies only files that exist and that its ignore file lets in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudwatchdog.config import parse_config
from cloudwatchdog.daemon.run import check_daemon_config
from cloudwatchdog.yamlsource import load_yaml_text

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
UID = 10001


def _manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d is not None)
    return docs


def _kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _manifests() if d["kind"] == kind]


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed to verify deploy/systemd/cloudwatchdog.service (apt install systemd)"
    unit = (DEPLOY / "systemd" / "cloudwatchdog.service").read_text()
    assert "ExecStart=/usr/local/bin/cloudwatchdog daemon -c /etc/cloudwatchdog/config.yaml" in unit
    local = tmp_path / "cloudwatchdog.service"
    local.write_text(unit.replace("/usr/local/bin/cloudwatchdog", str(Path(sys.executable).parent / "cloudwatchdog")))
    proc = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert int(settings["TimeoutStopSec"]) > 60, "longer than the default daemon.shutdown_grace"
    assert settings["DynamicUser"] == "yes" and settings["StateDirectory"] == "cloudwatchdog"
    assert settings["ProtectSystem"] == "strict" and settings["NoNewPrivileges"] == "yes"


def test_kubernetes_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _manifests()
    assert {d["kind"] for d in docs} == {"ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment",
                                         "Service", "NetworkPolicy", "CronJob"}
    for d in docs:
        assert d["apiVersion"] and d["metadata"]["name"].startswith("cloudwatchdog")

    (configmap,) = _kind("ConfigMap")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x")
    cfg = parse_config(load_yaml_text(configmap["data"]["config.yaml"], "configmap"), Path("/etc/cloudwatchdog"))
    check_daemon_config(cfg)
    address = cfg.daemon.listen_address
    assert address is not None and address.host == "0.0.0.0", "probes come from outside the pod"
    assert cfg.state.url.startswith("sqlite:////var/lib/cloudwatchdog/")

    (deployment,) = _kind("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": address.port}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert spec["terminationGracePeriodSeconds"] > cfg.daemon.shutdown_grace
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(address.port) and annotations["prometheus.io/path"] == "/metrics"

    (cronjob,) = _kind("CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (job_container,) = job_spec["containers"]
    assert job_container["args"][:2] == ["daemon", "--once"]

    for pod, c in ((spec, container), (job_spec, job_container)):
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == UID
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        assert mounts["/etc/cloudwatchdog"]["readOnly"] and "/var/lib/cloudwatchdog" in mounts and "/tmp" in mounts
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["state"]["persistentVolumeClaim"]["claimName"] == "cloudwatchdog-state"
        assert volumes["config"]["configMap"]["name"] == configmap["metadata"]["name"]


def _dockerfile() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (instruction, arguments) of the build and runtime stages (continuation lines joined)."""
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), args.strip()))
    assert len(stages) == 2, "a build stage and a runtime stage"
    return stages[0], stages[1]


def test_dockerfile() -> None:
    build, runtime = _dockerfile()
    ignore = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:] for line in ignore if line.startswith("!")}
    for instruction, args in build:
        if instruction == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert source in allowed, f"COPY {source}: excluded by Dockerfile.dockerignore"
    runtime_d: dict[str, list[str]] = {}
    for instruction, args in runtime:
        runtime_d.setdefault(instruction, []).append(args)
    assert runtime_d["USER"] == [f"{UID}:{UID}"], "runs as the non-root user the manifests expect"
    assert runtime_d["VOLUME"] == ['["/var/lib/cloudwatchdog"]']
    env = " ".join(runtime_d["ENV"])
    assert "HOME=/var/lib/cloudwatchdog" in env and "TMPDIR=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert "/healthz" in runtime_d["HEALTHCHECK"][0] and runtime_d["EXPOSE"] == ["9187"]
    assert runtime_d["ENTRYPOINT"] == ['["cloudwatchdog"]']
    assert runtime_d["CMD"] == ['["daemon", "-c", "/etc/cloudwatchdog/config.yaml"]']
    assert runtime_d["STOPSIGNAL"] == ["SIGTERM"]
    assert f"--uid {UID}" in runtime_d["RUN"][0]
