"""The limits on what a plan may hold, and reading input within them (docs/limits.md lists every one).

Kubernetes' own scale limits (5,000 nodes, 150,000 pods, 10,000 Services) are what cnimodel models in memory
and seconds; these limits sit above them, so any plausible cluster fits and an implausible input (a typo in
``replicas``, a YAML "billion laughs", a path to /dev/zero) is refused with exit status 2 before it costs time
or memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

MAX_INPUT_BYTES = 2 << 30  # one plan file or standard input: a 150,000-pod kubectl dump is about 1 GiB
MAX_CONFIG_BYTES = 16 << 20  # a file spec.network.configFile (and the like) names: a config or an install manifest
MAX_REPLICAS = 150_000  # one workload's replicas: Kubernetes' limit of pods per cluster
MAX_PODS = 300_000  # pods in a plan, listed and expanded from workloads: twice Kubernetes' limit
MAX_OBJECTS = 1_000_000  # documents and list items in a plan's inputs
MAX_ALIAS_VALUES = 1_000_000  # values YAML aliases may add to a file when expanded ("billion laughs")
MAX_FOLDER_ENTRIES = 100_000  # files and folders a plan folder's walk visits
LIMITS_DOC = "docs/limits.md"


class InputRefused(Exception):
    """An input that is not what a plan or config can be; ``message`` and ``fix`` go into a Problem."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def read_limited(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file or a pipe (a FIFO, ``<(…)``), at most ``limit`` of them.

    A device (/dev/zero would be read forever), a socket or a directory is refused; a FIFO with no writer
    reads as empty instead of blocking (it is opened without waiting for one)."""
    text = str(path)
    if "\0" in text:
        raise InputRefused("the path holds a NUL byte, which no file name can", "check how the path was produced")
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise InputRefused(f"cannot read the {what}: {e.strerror}", "check the path") from None
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise InputRefused(f"is {_kind(mode)}, not a {what}",
                           "give a plan file or a folder of them (or - for standard input)" if what == "plan file"
                           else f"give the path of a {what}")
    if stat.S_ISREG(mode) and os.stat(path).st_size > limit:
        raise InputRefused(f"is larger than the {_size(limit)} a {what} may be", _fix(limit, what))
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_NONBLOCK if stat.S_ISFIFO(mode) else 0))
    except OSError as e:
        raise InputRefused(f"cannot read the {what}: {e.strerror}", "check the path and its permissions") from None
    try:
        if stat.S_ISFIFO(mode):
            os.set_blocking(fd, True)  # opened without waiting for a writer; now read what one writes
        return read_fd(fd, limit, what)
    finally:
        os.close(fd)


def read_fd(fd: int, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes from an open file descriptor, refusing more."""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        except OSError as e:
            raise InputRefused(f"cannot read the {what}: {e.strerror}", "check the path") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise InputRefused(f"is larger than the {_size(limit)} a {what} may be", _fix(limit, what))


def _size(n: int) -> str:
    return f"{n >> 30} GiB" if n >= 1 << 30 else f"{n >> 20} MiB"


def _fix(limit: int, what: str) -> str:
    return (f"split the input into several files, or check that this is the {what} you meant "
            f"(the limits: {LIMITS_DOC})")


def check_aliases(text: str, loader: Any) -> None:
    """Refuse YAML whose aliases, expanded, would add more than MAX_ALIAS_VALUES values ("billion laughs"):
    the parser shares an aliased value, but everything after it (freezing, printing) copies it each time."""
    import yaml

    memo: dict[int, int] = {}

    def size(node: Any, depth: int = 0) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        memo[key] = 1  # (a recursive alias counts once while it is being measured)
        if isinstance(node, yaml.MappingNode):
            n = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(v, depth + 1) for v in node.value)
        else:
            n = 1
        memo[key] = n
        return n

    for doc in yaml.compose_all(text, Loader=loader):
        if doc is None:
            continue
        memo.clear()
        expanded = size(doc)
        if expanded - len(memo) > MAX_ALIAS_VALUES:
            raise InputRefused(f"its YAML aliases expand it by more than {MAX_ALIAS_VALUES:,} values (a \"billion "
                               "laughs\" document)", f"write the values out, or use fewer aliases of aliases "
                               f"({LIMITS_DOC})")
