"""The local control plane's start-up checks, with stand-in binaries: every cause of a failed start is
named, and a failed start leaves nothing running and no data behind."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from e2e import cluster
from e2e.gobuild import Built

NAMES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def free_ports() -> cluster.Ports:
    """Ports nothing listens on now, so that these tests never meet a real control plane's."""
    sockets = [socket.socket() for _ in cluster.Ports().named()]
    try:
        for each in sockets:
            each.bind(("127.0.0.1", 0))
        return cluster.Ports(*(each.getsockname()[1] for each in sockets))
    finally:
        for each in sockets:
            each.close()


@pytest.fixture
def fake_bins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    """A toolset folder of stand-in binaries; etcd exits at once with a message."""
    monkeypatch.setenv("STACKYARD_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "controlplane"
    (root / "bin").mkdir(parents=True)
    (root / "share" / "kwok-stages").mkdir(parents=True)
    for name in NAMES:
        script = root / "bin" / name
        body = "echo 'etcdmain: listen tcp: bind: permission denied' >&2; exit 3" if name == "etcd" else "sleep 600"
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return Built(root)


def test_a_process_that_dies_while_starting_is_named_with_its_log(fake_bins: Built) -> None:
    with pytest.raises(cluster.ClusterError) as raised:
        cluster.start(fake_bins, free_ports(), timeout=10)
    message = str(raised.value)
    assert "etcd exited with code 3 while the control plane was starting" in message
    assert "bind: permission denied" in message
    assert cluster.read_state() is None
    assert not cluster.kubeconfig_path().exists()


def test_a_missing_binary_is_named(fake_bins: Built) -> None:
    (fake_bins.bin / "kube-scheduler").unlink()
    with pytest.raises(cluster.ClusterError, match=r"missing binary .*kube-scheduler; rebuild"):
        cluster.start(fake_bins)


def test_a_port_in_use_is_named(fake_bins: Built) -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = cluster.Ports(**{**free_ports().named(), "kwok": port})
        with pytest.raises(cluster.ClusterError, match=rf"port {port} \(kwok\) already in use on 127\.0\.0\.1"):
            cluster.start(fake_bins, ports)


def test_a_second_control_plane_is_refused_while_one_runs(fake_bins: Built) -> None:
    sleeper = subprocess.Popen([str(fake_bins.bin / "kwok")])
    deadline = time.monotonic() + 10
    while not cluster._ours(sleeper.pid, "/bin/sh"):  # until the child has exec'd its shell
        assert time.monotonic() < deadline, "the stand-in process did not start"
        time.sleep(0.01)
    try:
        cluster._save(cluster.State(data="/nonexistent", ports={}, pids={"kwok": sleeper.pid},
                                    binaries={"kwok": "/bin/sh"}))  # fmt: skip
        with pytest.raises(cluster.ClusterError, match=r"a control plane is already running \(pids \["):
            cluster.start(fake_bins, free_ports())
        assert cluster.stop() == ["kwok"]
        assert sleeper.wait(timeout=10) != 0
    finally:
        sleeper.kill()
        sleeper.wait()
    assert cluster.read_state() is None


def test_the_kubeconfig_carries_a_ca_and_a_client_certificate_for_loopback(tmp_path: Path) -> None:
    cluster.make_certificates(tmp_path / "pki")
    config = cluster.kubeconfig(tmp_path / "pki", 26443)
    assert '"server": "https://127.0.0.1:26443"' in config
    subject = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "pki" / "admin.crt"), "-noout", "-subject"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "O = system:masters" in subject
    san = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "pki" / "apiserver.crt"), "-noout", "-ext", "subjectAltName"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "IP Address:127.0.0.1" in san
    assert "DNS:kubernetes.default.svc.cluster.local" in san


def test_the_fake_nodes_sit_in_distinct_zones() -> None:
    nodes = __import__("json").loads(cluster.node_manifests())["items"]
    zones = [node["metadata"]["labels"]["topology.kubernetes.io/zone"] for node in nodes]
    assert len(set(zones)) == len(zones) >= 2
    assert all(node["metadata"]["annotations"][cluster.NODE_SELECTOR_ANNOTATION] == "fake" for node in nodes)


def test_the_command_line_reports_a_failed_start_without_a_traceback(fake_bins: Built) -> None:
    program = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from e2e import __main__ as cli, cluster, gobuild
        cluster.ensure = lambda toolset: gobuild.Built(gobuild.Path({str(fake_bins.root)!r}))
        start = cluster.start
        cluster.start = lambda: start(None, cluster.Ports(*{list(free_ports().named().values())!r}), timeout=10)
        sys.exit(cli.main(["cluster", "start"]))
        """
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: etcd exited with code 3")
    assert "Traceback" not in result.stderr
