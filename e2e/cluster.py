"""A local Kubernetes control plane on 127.0.0.1, from our own builds: etcd, kube-apiserver, the
controller manager, the scheduler, and kwok for fake nodes.

``start`` generates a CA and certificates with ``openssl``, starts each process detached (so that
``make cluster`` can return), waits for each to be healthy, creates fake nodes in distinct zones
and writes a kubeconfig to a fixed path. Every process id goes into a state file as soon as it
exists, so ``stop`` ends exactly what ``start`` started, even after a failed or interrupted start,
and removes the data. Only loopback addresses are used; every wait is bounded and says what it
waited for.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stackyard.cache import cache_root

from .gobuild import CONTROL_PLANE, REPO, Built, ensure
from .interrupts import terminate_as_interrupt

HOST = "127.0.0.1"
KUBERNETES_SERVICE_IP = "10.96.0.1"
#: Fake nodes: name → zone. Three zones, so that zone spread constraints have somewhere to go.
NODES = {"kwok-node-a": "zone-a", "kwok-node-b": "zone-b", "kwok-node-c": "zone-c"}
#: Addresses kwok writes into node and pod status. Nothing binds them and nothing connects to them
#: (there is no kubelet, proxy or CNI); they only have to be valid endpoint addresses, which
#: loopback is not: a hostNetwork pod at 127.0.0.1 leaves its Service without endpoints forever.
#: Reserved ranges, neither private nor routable: TEST-NET-1 for nodes, RFC 2544's for pods.
NODE_IP = "192.0.2.10"
POD_CIDR = "198.18.0.0/24"
NODE_SELECTOR_ANNOTATION = "kwok.x-k8s.io/node"
KUBECTL = REPO / ".venv" / "bin" / "kubectl"


@dataclass(frozen=True)
class Ports:
    """Where each process listens, all on 127.0.0.1."""

    etcd: int = 23790
    etcd_peer: int = 23800
    apiserver: int = 26443
    controller_manager: int = 20257
    scheduler: int = 20259
    kwok: int = 20247

    def named(self) -> dict[str, int]:
        return asdict(self)


class ClusterError(RuntimeError):
    """The control plane could not start (or stop); the message names the cause."""


@dataclass
class State:
    """What ``start`` started: process ids by name, the data folder and the ports."""

    data: str
    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)
    binaries: dict[str, str] = field(default_factory=dict)
    arguments: dict[str, list[str]] = field(default_factory=dict)


def home() -> Path:
    return cache_root() / "cluster"


def kubeconfig_path() -> Path:
    """The fixed path of the running control plane's kubeconfig."""
    return home() / "kubeconfig"


def _state_file() -> Path:
    return home() / "state.json"


def read_state() -> State | None:
    try:
        return State(**json.loads(_state_file().read_text()))
    except FileNotFoundError:
        return None


def _save(state: State) -> None:
    home().mkdir(parents=True, exist_ok=True)
    temporary = _state_file().with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    temporary.replace(_state_file())


def _ours(pid: int, binary: str) -> bool:
    """Whether ``pid`` is alive and still runs ``binary`` (a recycled pid is not ours)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return command == binary


def running(state: State | None = None) -> dict[str, int]:
    """The processes of the recorded control plane that are still alive."""
    state = state or read_state()
    if state is None:
        return {}
    return {name: pid for name, pid in state.pids.items() if _ours(pid, state.binaries.get(name, ""))}


# -- certificates -----------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def make_certificates(pki: Path) -> None:
    """A throwaway CA, the API server's serving certificate, an admin client certificate and the
    service-account signing key pair."""
    pki.mkdir(parents=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stackyard-local-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=pki)  # fmt: skip
    names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local"]  # fmt: skip
    san = ",".join([f"IP:{HOST}", f"IP:{KUBERNETES_SERVICE_IP}", *(f"DNS:{name}" for name in names)])
    _sign(pki, "apiserver", "/CN=kube-apiserver", f"subjectAltName={san}\nextendedKeyUsage=serverAuth")
    _sign(pki, "admin", "/O=system:masters/CN=stackyard-admin", "extendedKeyUsage=clientAuth")
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def _sign(pki: Path, name: str, subject: str, extensions: str) -> None:
    (pki / f"{name}.ext").write_text(extensions + "\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key",
             "-out", f"{name}.csr", cwd=pki)  # fmt: skip
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=pki)  # fmt: skip


def kubeconfig(pki: Path, port: int) -> str:
    """An admin kubeconfig for the API server, with the credentials inlined."""

    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "stackyard-local",
                "cluster": {"server": f"https://{HOST}:{port}", "certificate-authority-data": data("ca.crt")},
            }
        ],
        "users": [
            {
                "name": "stackyard-admin",
                "user": {"client-certificate-data": data("admin.crt"), "client-key-data": data("admin.key")},
            }
        ],
        "contexts": [{"name": "stackyard-local", "context": {"cluster": "stackyard-local", "user": "stackyard-admin"}}],
        "current-context": "stackyard-local",
    }
    return json.dumps(document, indent=2)


# -- processes --------------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def check_ports(ports: Ports) -> None:
    busy = [f"{port} ({name})" for name, port in ports.named().items() if not _port_free(port)]
    if busy:
        raise ClusterError(
            f"port {', '.join(busy)} already in use on {HOST}; stop what listens there (`ss -ltnp`) and retry"
        )


def check_binaries(built: Built) -> dict[str, Path]:
    names = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
    paths = {name: built.bin / name for name in names}
    missing = [str(path) for path in paths.values() if not os.access(path, os.X_OK)]
    if missing:
        raise ClusterError(f"missing binary {', '.join(missing)}; rebuild the control plane with `make controlplane`")
    if not KUBECTL.is_file():
        raise ClusterError(f"missing binary {KUBECTL}; `make test` or `make e2e` installs kubectl into .venv")
    return paths


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(f"    {line}" for line in text[-lines:])


#: The processes this Python process started, kept so that ``stop`` can reap them (no zombies, and
#: no "still running" warnings when the objects would otherwise be collected mid-run).
_SPAWNED: dict[int, subprocess.Popen[bytes]] = {}


class Supervisor:
    """Starts processes detached, records their ids, and checks that they stay alive while waiting."""

    def __init__(self, state: State, logs: Path) -> None:
        self.state = state
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, binary: Path, args: list[str]) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [str(binary), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.processes[name] = process
        _SPAWNED[process.pid] = process
        self.state.pids[name] = process.pid
        self.state.binaries[name] = str(binary)
        self.state.arguments[name] = args
        _save(self.state)

    def wait(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        """Poll ``ready`` until it holds; fail naming ``what`` on time-out, or the process that died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                code = process.poll()
                if code is not None:
                    raise ClusterError(
                        f"{name} exited with code {code} while the control plane was starting; the end of its log "
                        f"({self.logs / (name + '.log')}):\n{_tail(self.logs / (name + '.log'))}"
                    )
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.25)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")


def _https_ok(url: str, pki: Path, *, verify: bool = True) -> bool:
    """Whether ``url`` answers 200 to the admin; ``verify=False`` for the self-signed health endpoints
    of the scheduler and the controller manager (their certificates are generated at start)."""
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=context, timeout=2) as response:
        return bool(response.status == 200)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


def kubectl(
    *args: str, config: Path | None = None, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the repository's kubectl against ``config`` (default: the local control plane)."""
    command = [str(KUBECTL), "--kubeconfig", str(config or kubeconfig_path()), *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300, check=False)
    if check and result.returncode != 0:
        raise ClusterError(f"`kubectl {' '.join(args)}` failed: {result.stderr.strip()}")
    return result


def node_manifests() -> str:
    nodes = []
    for name, zone in NODES.items():
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        nodes.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {NODE_SELECTOR_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "type": "kwok",
                        "topology.kubernetes.io/region": "local",
                        "topology.kubernetes.io/zone": zone,
                    },
                },
                "status": {"allocatable": capacity, "capacity": capacity},
            }
        )
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes})


def start(built: Built | None = None, ports: Ports = Ports(), *, timeout: float = 90) -> Path:
    """Start the control plane and return the kubeconfig path; refuse if one is already running."""
    alive = running()
    if alive:
        raise ClusterError(
            f"a control plane is already running (pids {sorted(alive.values())}, kubeconfig {kubeconfig_path()}); "
            "stop it first with `make cluster-stop`"
        )
    stop()  # leftovers of a dead one: its data and state
    built = built or ensure(CONTROL_PLANE)
    binaries = check_binaries(built)
    check_ports(ports)
    data = Path(tempfile.mkdtemp(prefix="stackyard-cluster-"))
    state = State(data=str(data), ports=ports.named())
    _save(state)
    try:
        supervisor = Supervisor(state, _folder(data / "logs"))
        _start_all(supervisor, binaries, built=built, data=data, ports=ports, timeout=timeout)
    except BaseException:
        stop()
        raise
    return kubeconfig_path()


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _start_all(
    supervisor: Supervisor, binaries: Mapping[str, Path], *, built: Built, data: Path, ports: Ports, timeout: float
) -> None:
    pki = data / "pki"
    make_certificates(pki)
    etcd = f"http://{HOST}:{ports.etcd}"
    supervisor.start("etcd", binaries["etcd"], [
        "--name=stackyard", f"--data-dir={data / 'etcd'}", "--unsafe-no-fsync",
        f"--listen-client-urls={etcd}", f"--advertise-client-urls={etcd}",
        f"--listen-peer-urls=http://{HOST}:{ports.etcd_peer}",
        f"--initial-advertise-peer-urls=http://{HOST}:{ports.etcd_peer}",
        f"--initial-cluster=stackyard=http://{HOST}:{ports.etcd_peer}",
    ])  # fmt: skip
    supervisor.wait("etcd to report healthy", lambda: _http_ok(f"{etcd}/health"), timeout)
    supervisor.start("kube-apiserver", binaries["kube-apiserver"], [
        f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={ports.apiserver}",
        f"--etcd-servers={etcd}", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}", f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range=10.96.0.0/16",
    ])  # fmt: skip
    api = f"https://{HOST}:{ports.apiserver}"
    supervisor.wait("kube-apiserver to be ready (/readyz)", lambda: _https_ok(f"{api}/readyz", pki), timeout)
    config = kubeconfig_path()
    config.write_text(kubeconfig(pki, ports.apiserver))
    config.chmod(0o600)
    shared = [f"--kubeconfig={config}", f"--authentication-kubeconfig={config}",
              f"--authorization-kubeconfig={config}", f"--bind-address={HOST}", "--leader-elect=false"]  # fmt: skip
    supervisor.start("kube-controller-manager", binaries["kube-controller-manager"], [
        *shared, f"--secure-port={ports.controller_manager}", f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-account-private-key-file={pki / 'sa.key'}", "--use-service-account-credentials=true",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
    ])  # fmt: skip
    supervisor.start("kube-scheduler", binaries["kube-scheduler"], [*shared, f"--secure-port={ports.scheduler}"])
    stages = data / "kwok.yaml"
    stages.write_text("\n---\n".join(p.read_text() for p in sorted((built.share / "kwok-stages").glob("*.yaml"))))
    supervisor.start("kwok", binaries["kwok"], [
        f"--kubeconfig={config}", f"--config={stages}", "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={NODE_SELECTOR_ANNOTATION}=fake",
        f"--node-ip={NODE_IP}", f"--cidr={POD_CIDR}", "--node-name=kwok-controller", f"--node-port={ports.kwok}",
        f"--server-address={HOST}:{ports.kwok}", "--node-lease-duration-seconds=40",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
    ])  # fmt: skip
    for name, port in (("kube-controller-manager", ports.controller_manager), ("kube-scheduler", ports.scheduler)):
        supervisor.wait(
            f"{name} to be healthy (/healthz)", _health_check(f"https://{HOST}:{port}/healthz", pki), timeout
        )
    kubectl("apply", "-f", "-", stdin=node_manifests())
    supervisor.wait(
        f"the fake nodes {', '.join(NODES)} to be Ready (kwok)",
        lambda: all(_node_ready(name) for name in NODES),
        timeout,
    )
    supervisor.wait(
        "the default ServiceAccount (controller manager)",
        lambda: kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
        timeout,
    )


def _health_check(url: str, pki: Path) -> Callable[[], bool]:
    return lambda: _https_ok(url, pki, verify=False)


def _node_ready(name: str) -> bool:
    result = kubectl("get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
    return result.stdout.strip() == "True"


def kill(name: str) -> int:
    """SIGKILL one process of the running control plane (for fault tests); its pid."""
    state = read_state()
    pid = running(state).get(name) if state else None
    if state is None or pid is None:
        raise ClusterError(f"{name} is not running")
    os.kill(pid, signal.SIGKILL)
    if (process := _SPAWNED.pop(pid, None)) is not None:
        process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _ours(pid, state.binaries[name]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pid


def restart_apiserver(timeout: float = 60) -> None:
    """Start kube-apiserver again with the arguments it had, and wait until it is ready."""
    state = read_state()
    if state is None:
        raise ClusterError("no control plane is recorded")
    if "kube-apiserver" in running(state):
        raise ClusterError("kube-apiserver is still running")
    supervisor = Supervisor(state, Path(state.data) / "logs")
    supervisor.start("kube-apiserver", Path(state.binaries["kube-apiserver"]), state.arguments["kube-apiserver"])
    pki, port = Path(state.data) / "pki", state.ports["apiserver"]
    supervisor.wait(
        "kube-apiserver to be ready again", lambda: _https_ok(f"https://{HOST}:{port}/readyz", pki), timeout
    )


def stop(*, grace: float = 10) -> list[str]:
    """Stop every recorded process by id, in the reverse order of starting (clients before the API
    server, the API server before etcd): SIGTERM, then SIGKILL after ``grace`` seconds. Remove the data."""
    state = read_state()
    if state is None:
        return []
    stopped = []
    for name, pid in reversed(list(running(state).items())):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            stopped.append(name)
        deadline = time.monotonic() + grace
        while _ours(pid, state.binaries[name]) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            if _ours(pid, state.binaries[name]):
                os.kill(pid, signal.SIGKILL)
    for pid in state.pids.values():
        if (process := _SPAWNED.pop(pid, None)) is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
    shutil.rmtree(state.data, ignore_errors=True)
    kubeconfig_path().unlink(missing_ok=True)
    _state_file().unlink(missing_ok=True)
    return stopped


@contextlib.contextmanager
def control_plane(built: Built | None = None, ports: Ports = Ports()) -> Iterator[Path]:
    """A running control plane for the duration of the block; stopped afterwards, whatever happens."""
    with terminate_as_interrupt():
        try:
            yield start(built, ports)
        finally:
            stop()


class FakeLoadBalancers:
    """Fills in the status a load balancer and an ingress controller would, while it runs.

    The local control plane has neither, and pulumi-kubernetes waits (up to ten minutes) until a
    LoadBalancer Service or an Ingress has an address. Like kwok for pods, this thread plays their
    part: every second it gives each such object without one the address 127.0.0.1.
    """

    def __init__(self, config: Path | None = None, interval: float = 1.0) -> None:
        self.config = config
        self.interval = interval
        self.patched: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-load-balancers", daemon=True)

    def __enter__(self) -> FakeLoadBalancers:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired, json.JSONDecodeError):
                self.fill_in()

    def fill_in(self) -> None:
        listed = kubectl("get", "services,ingresses", "-A", "-o", "json", config=self.config, check=False)
        if listed.returncode != 0:
            return
        status = json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": HOST}]}}})
        for item in json.loads(listed.stdout).get("items", []):
            kind, metadata = item["kind"], item["metadata"]
            wants = kind == "Ingress" or (item.get("spec") or {}).get("type") == "LoadBalancer"
            if not wants or ((item.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                continue
            resource = "ingress" if kind == "Ingress" else "service"
            patched = kubectl(
                "patch", resource, metadata["name"], "-n", metadata["namespace"], "--subresource=status",
                "--type=merge", "-p", status, config=self.config, check=False,
            )  # fmt: skip
            if patched.returncode == 0:
                self.patched.append(f"{kind} {metadata['namespace']}/{metadata['name']}")
