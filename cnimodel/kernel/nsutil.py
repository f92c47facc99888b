"""Network-namespace plumbing: create, enter, list and remove named namespaces (``/run/netns/<name>``).

Netlink and packet sockets keep the namespace they were created in, so this process enters a namespace
(``setns`` on the calling thread only), opens a socket there and comes straight back: one process can then
drive hundreds of namespaces without forking a helper for each.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
from collections.abc import Iterator

from pyroute2 import IPRoute
from pyroute2 import netns as _netns

from cnimodel.kernel import interrupts

RUN_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetnsError(RuntimeError):
    """A namespace operation the kernel refused (the message says which and why)."""


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"setns failed: {os.strerror(err)}")


@contextlib.contextmanager
def inside(name: str) -> Iterator[None]:
    """Run the block with this thread in namespace ``name``; always come back to where it was (an interrupt
    never lands between entering and the block, or between the block and coming back)."""
    interrupts.hold()
    try:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(RUN_DIR, name), os.O_RDONLY)
        except FileNotFoundError:
            os.close(home)
            raise NetnsError(f"network namespace {name!r} does not exist") from None
        try:
            _setns(target)
        except BaseException:
            os.close(home)
            raise
        finally:
            os.close(target)
    except BaseException:
        interrupts.drop()
        raise
    try:
        interrupts.release()
        yield
    finally:
        interrupts.hold()
        try:
            _setns(home)
            os.close(home)
        finally:
            interrupts.release()


def ipr(name: str | None) -> IPRoute:
    """A netlink socket bound to namespace ``name`` (None: this process's own namespace); made whole, or
    closed again when an interrupt came while it was being made."""
    interrupts.hold()
    sock: IPRoute | None = None
    try:
        if name is None:
            sock = IPRoute()
        else:
            with inside(name):
                sock = IPRoute()
    except BaseException:
        interrupts.drop()
        raise
    interrupts.release(undo=lambda: close(sock))
    return sock


def close(sock: IPRoute | None) -> None:
    """Close a netlink socket whole (an interrupt waits), whatever state it is in."""
    if sock is None:
        return
    with interrupts.held(), contextlib.suppress(Exception):  # (a socket whose making was cut short)
        sock.close()


def open_socket(name: str, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket that lives in namespace ``name``."""
    with inside(name):
        return socket.socket(family, kind, proto)


def sysctl(name: str, values: dict[str, str]) -> None:
    """Write ``net.*`` sysctls inside namespace ``name`` (``/proc/sys/net`` shows the caller's namespace); a key
    holding a ``/`` is a path under /proc/sys already (a device name in it may hold a dot)."""
    with inside(name):
        for key, value in values.items():
            path = "/proc/sys/" + (key if "/" in key else key.replace(".", "/"))
            with open(path, "w") as f:
                f.write(value)


def exists(name: str) -> bool:
    return os.path.exists(os.path.join(RUN_DIR, name))


MS_BIND, MS_REC, MS_SHARED = 0x1000, 0x4000, 0x100000
_rundir_ready = False


def _rundir() -> None:
    """Make /run/netns a shared mount point, as ``ip netns add`` does, so the bind mounts propagate."""
    global _rundir_ready
    if _rundir_ready:
        return
    os.makedirs(RUN_DIR, exist_ok=True)
    if _libc.mount(b"", RUN_DIR.encode(), b"none", MS_SHARED | MS_REC, None) != 0:
        if _libc.mount(RUN_DIR.encode(), RUN_DIR.encode(), b"none", MS_BIND | MS_REC, None) != 0:
            raise NetnsError(f"cannot mount {RUN_DIR}: {os.strerror(ctypes.get_errno())}")
        if _libc.mount(b"", RUN_DIR.encode(), b"none", MS_SHARED | MS_REC, None) != 0:
            raise NetnsError(f"cannot share {RUN_DIR}: {os.strerror(ctypes.get_errno())}")
    _rundir_ready = True


def create(name: str) -> None:
    """Create namespace ``name`` as ``ip netns add`` does — a new namespace on this thread, bind-mounted on
    /run/netns/<name> — without forking; NetnsError when it exists already. An interrupt waits until it is
    made (or not), so the caller, having recorded the name first, always knows what to remove."""
    with interrupts.held():
        _create(name)


def _create(name: str) -> None:
    _rundir()
    path = os.path.join(RUN_DIR, name)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    except FileExistsError:
        raise NetnsError(f"network namespace {name!r} exists already") from None
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if _libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            os.unlink(path)
            raise NetnsError(f"cannot create network namespace {name!r}: {os.strerror(err)}")
        try:
            if _libc.mount(b"/proc/thread-self/ns/net", path.encode(), b"none", MS_BIND, None) != 0:
                err = ctypes.get_errno()
                os.unlink(path)
                raise NetnsError(f"cannot mount network namespace {name!r}: {os.strerror(err)}")
        finally:
            _setns(home)
    finally:
        os.close(home)


def remove(name: str) -> bool:
    """Remove namespace ``name`` (its links go with it); False when it was not there."""
    try:
        with interrupts.held():
            _netns.remove(name)
    except FileNotFoundError:
        return False
    except OSError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    return True


def names(prefix: str) -> list[str]:
    """The namespaces whose name starts with ``prefix``."""
    try:
        return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def can_admin() -> str | None:
    """None when this process may create namespaces and links; else the reason it may not."""
    if not os.path.isdir("/proc/self/ns"):
        return "no /proc/self/ns: not a Linux kernel with namespaces"
    try:
        with open("/proc/self/status") as f:
            caps = next((line.split()[1] for line in f if line.startswith("CapEff:")), "0")
    except OSError:
        return "cannot read /proc/self/status"
    cap_net_admin, cap_sys_admin = 12, 21
    effective = int(caps, 16)
    if not effective >> cap_net_admin & 1:
        return "CAP_NET_ADMIN is missing (run as root)"
    if not effective >> cap_sys_admin & 1:
        return "CAP_SYS_ADMIN is missing (needed to mount /run/netns/<name>)"
    return None
