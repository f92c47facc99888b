"""OVN's real control plane in a temporary folder: Northbound and Southbound ovsdb-servers, ovn-northd, ovn-trace.

Everything runs in user space with no datapath (no ovs-vswitchd, no ovn-controller): ``ovsdb-tool create`` makes
both databases from the installed schemas, two ``ovsdb-server`` processes serve them on unix sockets in the
folder (``--pidfile``, ``--unixctl`` and ``--remote=punix:`` there too), ``ovn-northd`` compiles the Northbound
content into the Southbound's logical flows, and ``ovn-trace`` in daemon mode answers ``trace`` requests over its
unixctl socket. The servers and northd are supervised children; ovn-trace daemonizes itself (its daemon mode
exists only with ``--detach``), so this process becomes a child subreaper while it starts and reaps it at the end.
``stop`` ends every process it started — on success, failure and Ctrl-C — and removes the folder.

>>> with ControlPlane() as cp:                               # doctest: +SKIP
...     cp.transact(request); cp.sync(); print(cp.trace("lin1", 'inport == "ns_pod" && ...'))
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cnimodel.plugins.ovn_kubernetes.jsonrpc import HarnessError, JsonRpc

SCHEMA_DIR = Path("/usr/share/ovn")
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
TOOLS = ("ovsdb-tool", "ovsdb-server", "ovn-northd", "ovn-nbctl", "ovn-trace")


def missing_tools() -> list[str]:
    """The OVN programs this machine lacks (``apt-get install ovn-central ovn-common`` provides them)."""
    return [t for t in TOOLS if shutil.which(t) is None]


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # not Linux: no prctl; children are still stopped by stop()
        return None


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the parent dies, so a killed harness leaves nothing behind."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ControlPlane:
    """NB and SB ovsdb-servers and ovn-northd in a temporary folder; ``tracer()`` adds an ovn-trace daemon."""

    def __init__(self, folder: Path | None = None, schemas: Path = SCHEMA_DIR, keep: bool = False,
                 northd_threads: int | None = None) -> None:
        self.schemas = schemas
        # ovn-northd builds logical flows in parallel with --n-threads (1: not parallel)
        self.northd_threads = northd_threads if northd_threads is not None else min(4, os.cpu_count() or 1)
        self.keep = keep
        self._given = folder
        self.dir: Path | None = None
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.daemons: list[tuple[str, int]] = []  # self-daemonized (ovn-trace), reaped by pid
        self.started: list[int] = []  # every pid started, for checks that nothing is left
        self._traces: list[JsonRpc] = []

    # --- life cycle ------------------------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        # SIGTERM (a CI timeout, kill) ends the run as Ctrl-C does: through stop(), so no daemon outlives it
        self._sigterm: Any = None
        if threading.current_thread() is threading.main_thread():
            self._sigterm = signal.signal(signal.SIGTERM, _terminated)
        try:
            self.start()
        except BaseException:
            self.stop()
            self._restore()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._restore()

    def _restore(self) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None

    def path(self, name: str) -> Path:
        assert self.dir is not None
        return self.dir / name

    @property
    def nb(self) -> str:
        return f"unix:{self.path('nb.sock')}"

    @property
    def sb(self) -> str:
        return f"unix:{self.path('sb.sock')}"

    def start(self) -> None:
        lacking = missing_tools()
        if lacking:
            raise HarnessError(f"OVN is not installed here (missing {', '.join(lacking)}): "
                               "apt-get install ovn-central ovn-common")
        self.dir = self._given or Path(tempfile.mkdtemp(prefix="cnimodel-ovn-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        for db, schema in (("nb", "ovn-nb.ovsschema"), ("sb", "ovn-sb.ovsschema")):
            self._run(["ovsdb-tool", "create", str(self.path(f"{db}.db")), str(self.schemas / schema)])
        for db in ("nb", "sb"):
            self._spawn(db, ["ovsdb-server", str(self.path(f"{db}.db")), "--no-chdir",
                             f"--pidfile={self.path(db + '.pid')}", f"--unixctl={self.path(db + '.ctl')}",
                             f"--remote=punix:{self.path(db + '.sock')}", f"--log-file={self.path(db + '.log')}",
                             "-vconsole:off"])
        for db in ("nb", "sb"):
            self._wait_socket(self.path(f"{db}.sock"), db)
        self.nbctl("init")  # NB_Global, before northd would create it
        self._spawn("northd", ["ovn-northd", "--no-chdir", f"--pidfile={self.path('northd.pid')}",
                               f"--unixctl={self.path('northd.ctl')}", f"--ovnnb-db={self.nb}",
                               f"--ovnsb-db={self.sb}", f"--log-file={self.path('northd.log')}", "-vconsole:off",
                               f"--n-threads={self.northd_threads}"])
        self._wait_socket(self.path("northd.ctl"), "northd")

    def stop(self) -> None:
        """End every process started here (gracefully, then by force), and remove the folder."""
        for rpc in self._traces:
            rpc.close()
        self._traces.clear()
        ended = [name for name, _ in self.daemons] + [name for name, _ in self.children]
        for _, pid in reversed(self.daemons):
            _end_pid(pid)
        self.daemons.clear()
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.children.clear()
        if self.dir is not None:  # a daemon that crashed or was killed leaves its pidfile behind
            for name in ended:
                with contextlib.suppress(OSError):
                    self.path(f"{name}.pid").unlink(missing_ok=True)
        if self.dir is not None and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- processes -------------------------------------------------------------------------------------------

    def _run(self, args: list[str], timeout: float = 120.0, env: dict[str, str] | None = None) -> str:
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                                  preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired as e:
            raise HarnessError(f"{args[0]} did not finish in {timeout:g} s") from e
        if done.returncode != 0:
            raise HarnessError(f"{' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip()[:2000]}")
        return done.stdout

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.path(f"{name}.out"), "wb")  # noqa: SIM115 (the child keeps it)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent, start_new_session=True)
        log.close()
        self.children.append((name, proc))
        self.started.append(proc.pid)

    def _wait_socket(self, path: Path, name: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n, proc in self.children:
                if n == name and proc.poll() is not None:
                    raise HarnessError(f"{name} exited ({proc.returncode}): {self._log_tail(name)}")
            if path.exists():
                with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(path))
                    return
            time.sleep(0.02)
        raise HarnessError(f"{name} did not open {path.name} in {timeout:g} s: {self._log_tail(name)}")

    def _log_tail(self, name: str) -> str:
        for suffix in ("out", "log"):
            p = self.path(f"{name}.{suffix}")
            if p.exists() and p.stat().st_size:
                return p.read_text(errors="replace")[-1500:]
        return "(no output)"

    # --- requests --------------------------------------------------------------------------------------------

    def nbctl(self, *args: str, timeout: float = 120.0) -> str:
        return self._run(["ovn-nbctl", f"--db={self.nb}", f"--timeout={int(timeout)}", *args], timeout + 5)

    def sbctl(self, *args: str, timeout: float = 120.0) -> str:
        return self._run(["ovn-sbctl", f"--db={self.sb}", f"--timeout={int(timeout)}", *args], timeout + 5)

    def transact(self, request: list[Any], timeout: float = 300.0) -> list[Any]:
        """Send an OVSDB transact request to the Northbound database; HarnessError on any failed operation."""
        rpc = JsonRpc(self.path("nb.sock"), timeout)
        try:
            result = rpc.call("transact", request)
        finally:
            rpc.close()
        errors = [r for r in result if isinstance(r, dict) and r.get("error")]
        if errors:
            raise HarnessError(f"the Northbound database refused the transaction: {errors[0]}")
        return result

    def run_script(self, text: str, timeout: float = 600.0) -> None:
        """Run an ``ovn-nbctl`` script against the Northbound database (``OVN_NB_DB``)."""
        script = self.path("load.sh")
        script.write_text(text)
        self._run(["sh", str(script)], timeout, env={**os.environ, "OVN_NB_DB": self.nb})

    def sync(self, timeout: float = 300.0) -> None:
        """Wait until ovn-northd has compiled the Northbound content into the Southbound database."""
        self.nbctl("--wait=sb", "sync", timeout=timeout)

    def tunnel_keys(self) -> tuple[dict[str, int], dict[str, int]]:
        """The tunnel keys ovn-northd assigned: each datapath's (by name: the GENEVE VNI) and each port's."""
        rpc = JsonRpc(self.path("sb.sock"))
        try:
            dps, pbs = rpc.call("transact", ["OVN_Southbound",
                                             {"op": "select", "table": "Datapath_Binding", "where": [],
                                              "columns": ["tunnel_key", "external_ids"]},
                                             {"op": "select", "table": "Port_Binding", "where": [],
                                              "columns": ["tunnel_key", "logical_port"]}])
        finally:
            rpc.close()
        datapaths = {dict(r["external_ids"][1]).get("name", ""): r["tunnel_key"] for r in dps["rows"]}
        return datapaths, {r["logical_port"]: r["tunnel_key"] for r in pbs["rows"]}

    def mirror_static_mac_bindings(self) -> int:
        """Copy the Southbound Static_MAC_Binding rows (ovn-northd copies them from the Northbound) into
        MAC_Binding, where ovn-trace looks neighbours up: on a chassis ovn-controller turns them into flows,
        which ovn-trace does not simulate. Call before ``tracer``; returns how many were copied."""
        rpc = JsonRpc(self.path("sb.sock"))
        try:
            rows = rpc.call("transact", ["OVN_Southbound", {"op": "select", "table": "Static_MAC_Binding",
                                                             "where": [], "columns": ["logical_port", "ip", "mac",
                                                                                      "datapath"]}])[0]["rows"]
            if rows:
                rpc.call("transact", ["OVN_Southbound", *({"op": "insert", "table": "MAC_Binding", "row": {
                    "logical_port": r["logical_port"], "ip": r["ip"], "mac": r["mac"], "datapath": r["datapath"]}}
                    for r in rows)])
        finally:
            rpc.close()
        return len(rows)

    def tracer(self, count: int = 1) -> None:
        """Start ``count`` ovn-trace daemons on the Southbound database, concurrently (each reads the whole
        database at start, single-threaded: two halve a large sample's wait on two cores). The first is
        named trace (trace.pid, trace.ctl), the others trace1, trace2, …"""
        if len(self._traces) >= count:
            return
        names = [("trace" if i == 0 else f"trace{i}") for i in range(len(self._traces), count)]
        libc = _libc()
        if libc is not None:  # the daemons ovn-trace forks become our children, so stop() can reap them
            libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        try:
            with ThreadPoolExecutor(len(names)) as pool:
                list(pool.map(lambda n: self._run(
                    ["ovn-trace", "--detach", "--no-chdir", f"--pidfile={self.path(n + '.pid')}",
                     f"--unixctl={self.path(n + '.ctl')}", f"--db={self.sb}", f"--log-file={self.path(n + '.log')}",
                     "-vconsole:off"], timeout=600), names))
        finally:
            for n in names:  # every daemon that did start is stopped by stop(), even when another failed
                with contextlib.suppress(OSError, ValueError, IndexError):
                    pid = int(self.path(f"{n}.pid").read_text().split()[0])
                    self.daemons.append((n, pid))
                    self.started.append(pid)
            if libc is not None:
                libc.prctl(PR_SET_CHILD_SUBREAPER, 0)
        for n in names:
            self._wait_socket(self.path(f"{n}.ctl"), n)
            self._traces.append(JsonRpc(self.path(f"{n}.ctl"), timeout=600))

    def trace(self, datapath: str, microflow: str, detail: str = "--detailed") -> str:
        """ovn-trace's answer for one microflow entering ``datapath``."""
        self.tracer()
        return self._ask(0, datapath, microflow, detail)

    def _ask(self, k: int, datapath: str, microflow: str, detail: str) -> str:
        try:
            return str(self._traces[k].call("trace", [detail, datapath, microflow]))
        except HarnessError as e:
            if "closed" not in str(e):
                raise
            name = "trace" if k == 0 else f"trace{k}"  # ovn-trace asserts on some microflows (an unknown inport)
            raise HarnessError(f"ovn-trace died tracing {microflow!r} on {datapath}: {self._log_tail(name)}") from e

    def trace_new(self, datapath: str, microflow: str, lb_dst: str | None = None, detail: str = "--detailed") -> str:
        """ovn-trace's answer for a new connection (every conntrack action sees ``ct.new``) with the load balancer
        picking ``lb_dst`` — a one-shot ovn-trace, as the daemon's conntrack states cannot be set per trace
        (its --ct states are consumed once per run: ct_state_idx, ovn-org/ovn@ba5710ed:utilities/ovn-trace.c:82,
        :207-214). It reads the Southbound database itself: use it for a few flows."""
        args = ["ovn-trace", f"--db={self.sb}", *(["--ct=new"] * CT_NEW_ACTIONS), detail]
        if lb_dst:
            args.insert(-1, f"--lb-dst={lb_dst}")
        return self._run([*args, datapath, microflow], timeout=300)

    def trace_all(self, flows: list[tuple[str, str]], detail: str = "--detailed") -> list[str]:
        """ovn-trace's answers for many (datapath, microflow) pairs, spread over the running daemons."""
        self.tracer()
        daemons = self._traces
        out: list[str] = [""] * len(flows)

        def work(k: int) -> None:
            for i in range(k, len(flows), len(daemons)):
                out[i] = self._ask(k, flows[i][0], flows[i][1], detail)

        with ThreadPoolExecutor(len(daemons)) as pool:
            list(pool.map(work, range(len(daemons))))
        return out


CT_NEW_ACTIONS = 16  # more conntrack actions than a path through OVN crosses: each sees ct.new


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _end_pid(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; reap it when it is our child."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:  # not our child: wait for it to go
            if not _alive(pid):
                return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone only once reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
