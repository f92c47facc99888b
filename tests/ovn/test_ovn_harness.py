"""The control-plane harness leaves nothing running: after success, after a failure, after Ctrl-C mid-way.

Each case records the processes the harness started (ovsdb-server ×2, ovn-northd, the ovn-trace daemon) and
their pidfiles, then checks after the block that none of them is alive — not even as a zombie — and that the
pidfiles are gone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ovnplans import needs_ovn

from cnimodel.plugins.ovn_kubernetes import harness
from cnimodel.plugins.ovn_kubernetes.harness import ControlPlane, HarnessError

pytestmark = needs_ovn
PIDFILES = ("nb.pid", "sb.pid", "northd.pid", "trace.pid", "trace1.pid")


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (/proc/<pid>/stat's state field)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def assert_clean(cp: ControlPlane, folder: Path) -> None:
    assert cp.started, "the case started nothing"
    assert not [p for p in cp.started if exists(p)], "processes left (alive or zombie)"
    assert not any((folder / f).exists() for f in PIDFILES)


def test_success_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cp"
    with ControlPlane(folder, keep=True) as cp:
        cp.nbctl("ls-add", "s1", "--", "lsp-add", "s1", "p1")
        cp.sync()
        cp.tracer(2)  # two ovn-trace daemons, both answering
        assert all(running(p) for p in cp.started) and len(cp.started) == 5
        assert all((folder / f).exists() for f in PIDFILES)
        answers = cp.trace_all([("s1", 'inport == "p1"')] * 4)
        assert len(answers) == 4 and all('ingress(dp="s1", inport="p1")' in a for a in answers)
    assert_clean(cp, folder)
    assert (folder / "nb.db").exists()  # kept: the pidfiles are gone because the daemons removed them


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cp"
    with pytest.raises(HarnessError, match="refused"), ControlPlane(folder, keep=True) as cp:
        cp.tracer()
        cp.transact(["OVN_Northbound", {"op": "insert", "table": "No_Such_Table", "row": {}}])
    assert_clean(cp, folder)


def test_ctrl_c_mid_way_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cp"
    cp = ControlPlane(folder, keep=True)
    with pytest.raises(KeyboardInterrupt), cp:
        cp.nbctl("ls-add", "s1")
        cp.tracer()
        raise KeyboardInterrupt
    assert_clean(cp, folder)


def test_sigterm_mid_way_leaves_nothing(tmp_path: Path) -> None:
    """A SIGTERM (a CI job's timeout, kill) ends the block as Ctrl-C does: the detached ovn-trace daemon too."""
    import signal

    before = signal.getsignal(signal.SIGTERM)
    folder = tmp_path / "cp"
    cp = ControlPlane(folder, keep=True)
    with pytest.raises(SystemExit), cp:
        cp.nbctl("ls-add", "s1")
        cp.tracer()
        os.kill(os.getpid(), signal.SIGTERM)
    assert_clean(cp, folder)
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_ctrl_c_while_starting_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted between starting the databases and northd: what was started is stopped."""
    folder = tmp_path / "cp"
    cp = ControlPlane(folder, keep=True)
    real = cp.nbctl

    def interrupted(*args: str, **kw: object) -> str:
        if args and args[0] == "init":
            raise KeyboardInterrupt
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cp, "nbctl", interrupted)
    with pytest.raises(KeyboardInterrupt), cp:
        pass
    assert len(cp.started) == 2  # the two ovsdb-servers, not northd
    assert_clean(cp, folder)


def test_a_dead_tracer_is_reported(tmp_path: Path) -> None:
    """ovn-trace's daemon asserts on a microflow naming no known port; the harness says so and still cleans up."""
    folder = tmp_path / "cp"
    with pytest.raises(HarnessError, match="ovn-trace died"), ControlPlane(folder, keep=True) as cp:
        cp.nbctl("ls-add", "s1")
        cp.sync()
        cp.trace("s1", 'inport == "nowhere"')
    assert_clean(cp, folder)


def test_missing_ovn_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.shutil, "which", lambda name: None)
    with pytest.raises(HarnessError, match="apt-get install ovn-central ovn-common"), ControlPlane():
        pass


def test_no_process_outlives_the_test_session() -> None:
    """Nothing named like the harness's programs is left whose parent is this test process."""
    me = os.getpid()
    left = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)
                name = fields[0].split("(", 1)[1]
                ppid = int(fields[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == me and name in ("ovsdb-server", "ovn-northd", "ovn-trace"):
                left.append((d.name, name))
    assert not left
